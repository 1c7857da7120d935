import { open, stat, type FileHandle } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOG_FILES, rotatedFiles } from './files.js';

/** Reading the kernel's log file (pino JSON lines) for `secc logs`: filter, tail, follow. */

export const LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };
const LEVEL_NAMES = new Map(Object.entries(LEVELS).map(([name, value]) => [value, name]));

export interface LogFilter {
  /** Components to show: exact names, or a prefix ending in '*' (`plugin:*`). Empty = all. */
  readonly components?: readonly string[];
  /** Minimum level name. */
  readonly level?: string;
}

export type LogLine = Record<string, unknown> & { level?: number; component?: string; msg?: string; time?: string | number };

export function parseLogLine(text: string): LogLine | undefined {
  if (!text.startsWith('{')) return undefined;
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null ? (value as LogLine) : undefined;
  } catch {
    return undefined;
  }
}

export function matches(line: LogLine, filter: LogFilter): boolean {
  if (filter.level !== undefined) {
    const min = LEVELS[filter.level];
    if (min === undefined) throw new Error(`unknown level '${filter.level}' (${Object.keys(LEVELS).join(', ')})`);
    if (typeof line.level !== 'number' || line.level < min) return false;
  }
  const components = filter.components ?? [];
  if (components.length) {
    const component = typeof line.component === 'string' ? line.component : '';
    const ok = components.some((c) => (c.endsWith('*') ? component.startsWith(c.slice(0, -1)) : component === c));
    if (!ok) return false;
  }
  return true;
}

const BASE_KEYS = new Set(['level', 'time', 'pid', 'hostname', 'component', 'msg']);

/** `2026-11-27T23:30:00.000Z INFO  kernel: kernel ready {"version":"0.1.0"}` */
export function formatLogLine(line: LogLine): string {
  const time = typeof line.time === 'number' ? new Date(line.time).toISOString() : String(line.time ?? '');
  const level = (LEVEL_NAMES.get(line.level ?? 0) ?? String(line.level ?? '?')).toUpperCase().padEnd(5);
  const extra: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(line)) if (!BASE_KEYS.has(key)) extra[key] = value;
  const rest = Object.keys(extra).length ? ' ' + JSON.stringify(extra) : '';
  return `${time} ${level} ${line.component ?? '-'}: ${line.msg ?? ''}${rest}`;
}

/** The last `count` matching lines over the current file and its archives. */
export function tailLogs(dir: string, filter: LogFilter, count: number): LogLine[] {
  const files = rotatedFiles(dir, LOG_FILES.log).reverse(); // newest first
  const out: LogLine[] = [];
  for (const file of files) {
    const lines = readFileSync(file, 'utf8').split('\n');
    const picked: LogLine[] = [];
    for (const text of lines) {
      const line = parseLogLine(text);
      if (line && matches(line, filter)) picked.push(line);
    }
    out.unshift(...picked.slice(Math.max(0, picked.length - (count - out.length))));
    if (out.length >= count) break;
  }
  return out.slice(Math.max(0, out.length - count));
}

/**
 * Follow the log file like `tail -F`: new lines as they are written, across rotations (the
 * renamed file is read to its end before the new one is opened, so no line is missed).
 * Starts at the current end of the file. Ends when the signal aborts.
 */
export async function followLogs(dir: string, onLine: (line: string) => void, signal: AbortSignal, pollMs = 200): Promise<void> {
  const path = join(dir, LOG_FILES.log);
  let handle: FileHandle | undefined;
  let ino = 0;
  let offset = 0;
  let partial = '';
  const openCurrent = async (fromEnd: boolean) => {
    try {
      handle = await open(path, 'r');
      const stats = await handle.stat();
      ino = stats.ino;
      offset = fromEnd ? stats.size : 0;
      partial = '';
    } catch {
      handle = undefined;
    }
  };
  const readAvailable = async () => {
    if (!handle) return;
    const buffer = Buffer.alloc(64 * 1024);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
      if (bytesRead === 0) break;
      offset += bytesRead;
      const text = partial + buffer.subarray(0, bytesRead).toString('utf8');
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line) onLine(line);
    }
  };
  await openCurrent(true);
  while (!signal.aborted) {
    await readAvailable();
    const current = await stat(path).catch(() => undefined);
    if (current && (!handle || current.ino !== ino)) {
      await readAvailable();
      await handle?.close();
      await openCurrent(false);
      continue;
    }
    if (current && handle && current.size < offset) offset = 0; // truncated in place
    await new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', wake);
        resolve();
      };
      const timer = setTimeout(wake, pollMs);
      signal.addEventListener('abort', wake, { once: true });
    });
  }
  await readAvailable();
  await handle?.close();
}
