import { readFile, readdir, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';

/** Mount points below one of the roots, from /proc/self/mountinfo (field 5, octal escapes decoded). */
export async function mountPointsUnder(roots: readonly string[], mountinfoPath = '/proc/self/mountinfo'): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(mountinfoPath, 'utf8');
  } catch {
    return [];
  }
  const prefixes = roots.map((r) => resolve(r) + sep);
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const field = line.split(' ')[4];
    if (!field) continue;
    const mountPoint = field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
    if (prefixes.some((p) => mountPoint.startsWith(p))) out.add(mountPoint);
  }
  return [...out].sort();
}

async function subdirectories(root: string): Promise<string[]> {
  try {
    const entries = await readdir(root, { withFileTypes: true });
    return entries.filter((e) => e.isDirectory()).map((e) => join(root, e.name));
  } catch {
    return [];
  }
}

/** The `*.image` files in the root directory of a medium (seed 7.2: root only, files only). */
export async function imagesOnMedium(medium: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(medium);
  } catch {
    return [];
  }
  const images: string[] = [];
  for (const name of names.filter((n) => n.toLowerCase().endsWith('.image')).sort()) {
    const path = join(medium, name);
    const info = await stat(path).catch(() => undefined);
    if (info?.isFile()) images.push(path);
  }
  return images;
}

export interface UsbWatcherOptions {
  readonly roots: readonly string[];
  readonly pollMs: number;
  readonly subdirectoriesAsMedia: boolean;
  readonly signal: AbortSignal;
  readonly onInserted: (medium: string) => void;
  readonly onRemoved: (medium: string) => void;
  readonly mountinfoPath?: string;
}

/**
 * Polls the removable-media roots. Polling (not inotify) because automounters create the mount
 * point and mount on top of it, which inotify on the parent does not report reliably.
 */
export class UsbWatcher {
  private readonly present = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: UsbWatcherOptions) {}

  start(): void {
    const tick = async () => {
      await this.scan();
      if (!this.options.signal.aborted) this.timer = setTimeout(tick, this.options.pollMs);
    };
    this.options.signal.addEventListener('abort', () => clearTimeout(this.timer), { once: true });
    void tick();
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  async media(): Promise<string[]> {
    const found = new Set(await mountPointsUnder(this.options.roots, this.options.mountinfoPath));
    if (this.options.subdirectoriesAsMedia) {
      for (const root of this.options.roots) for (const dir of await subdirectories(root)) found.add(dir);
    }
    return [...found].sort();
  }

  async scan(): Promise<void> {
    const now = new Set(await this.media());
    if (this.options.signal.aborted) return;
    for (const medium of this.present) {
      if (!now.has(medium)) {
        this.present.delete(medium);
        this.options.onRemoved(medium);
      }
    }
    for (const medium of now) {
      if (!this.present.has(medium)) {
        this.present.add(medium);
        this.options.onInserted(medium);
      }
    }
  }
}
