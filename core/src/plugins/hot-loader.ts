import { mkdirSync } from 'node:fs';
import { basename, dirname, relative, sep } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from '@opensecc/plugin-api';
import type { PluginHost } from './host.js';

const ENTRY = /\.(m?js)$/;

/**
 * Watches the plugins directory: `<dir>/<name>.js|.mjs` or `<dir>/<name>/index.js|.mjs`.
 * Adding a file loads the plugin, changing it reloads it, removing it unloads it. Events for one
 * plugin are debounced so that an editor's write-rename-write sequence reloads it once.
 */
export class HotLoader {
  private watcher: FSWatcher | undefined;
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly dir: string,
    private readonly host: PluginHost,
    private readonly log: Logger,
    private readonly debounceMs = 150,
  ) {}

  async start(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    this.watcher = watch(this.dir, {
      depth: 1,
      ignoreInitial: false,
      awaitWriteFinish: { stabilityThreshold: 80, pollInterval: 20 },
      ignored: (path, stats) => Boolean(stats?.isFile() && !this.isEntry(path)),
    });
    this.watcher.on('add', (path) => this.schedule(path, 'load'));
    this.watcher.on('change', (path) => this.schedule(path, 'load'));
    this.watcher.on('unlink', (path) => this.schedule(path, 'unload'));
    this.watcher.on('error', (error) => this.log.error({ err: error, dir: this.dir }, 'plugin directory watch error'));
    await new Promise<void>((resolve) => this.watcher!.once('ready', () => resolve()));
    this.log.info({ dir: this.dir }, 'watching for hot-loaded plugins');
  }

  async stop(): Promise<void> {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await this.watcher?.close();
  }

  /** A top-level *.js/*.mjs file, or index.js/index.mjs one folder down. */
  private isEntry(path: string): boolean {
    if (!ENTRY.test(path)) return false;
    const parts = relative(this.dir, path).split(sep);
    return parts.length === 1 || (parts.length === 2 && /^index\.m?js$/.test(basename(path)) && dirname(path) !== this.dir);
  }

  private schedule(path: string, action: 'load' | 'unload'): void {
    if (!this.isEntry(path)) return;
    clearTimeout(this.timers.get(path));
    this.timers.set(
      path,
      setTimeout(() => {
        this.timers.delete(path);
        const task = action === 'load' ? this.host.loadFile(path) : this.host.unloadFile(path);
        task.catch((error: unknown) => this.log.error({ err: error, path }, `hot ${action} failed`));
      }, this.debounceMs),
    );
  }
}
