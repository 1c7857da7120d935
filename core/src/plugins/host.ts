import { readFile, stat, mkdir } from 'node:fs/promises';
import { register } from 'node:module';
import { pathToFileURL } from 'node:url';
import { basename, dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import type { PluginDefinition, PluginManifest, TopicDefinition } from '@opensecc/plugin-api';
import type { KernelBus } from '../kernel/bus.js';
import type { LogManager } from '../kernel/logger.js';
import type { TopicRegistry } from '../kernel/topic-registry.js';
import type { ConfigService } from '../config/config-service.js';
import type { EffectiveConfig, PluginEntryConfig } from '../config/types.js';
import { ConfigError } from '../config/errors.js';
import { deepEqual } from '../config/merge.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { checkManifest } from './manifest.js';
import { InProcessRunner } from './in-process-runner.js';
import { Backoff } from './backoff.js';
import type { BuiltInPlugin, PluginRunner, PluginSource, PluginState, PluginStatus } from './types.js';

export interface PluginHostDeps {
  readonly bus: KernelBus;
  readonly topics: TopicRegistry;
  readonly config: ConfigService;
  readonly logs: LogManager;
  /** What the kernel itself provides to plugins (capability name -> API object). */
  readonly kernelCapabilities: ReadonlyMap<string, unknown>;
  /** Absolute directories. */
  readonly dataDir: string;
  readonly runDir: string;
}

interface Entry {
  readonly name: string;
  readonly source: 'built-in' | 'hot-loaded';
  readonly builtIn?: BuiltInPlugin;
  /** Entry file of a hot-loaded plugin. */
  file?: string;
  manifest?: PluginManifest;
  runner?: PluginRunner;
  sandboxed: boolean;
  state: PluginState;
  error?: string;
  backoff?: Backoff;
  restarts: number;
  restartTimer?: NodeJS.Timeout;
  /** The config the running instance was started with. */
  startedConfig?: Record<string, unknown>;
  /** Serialises start/stop/reload of one plugin. */
  queue: Promise<void>;
}

let resolveHooksRegistered = false;

/**
 * Loads, starts, supervises and unloads plugins: built-in ones (in-process), hot-loaded ones from
 * a watched directory (in-process or sandboxed in isolated-vm). Each plugin is checked before it
 * runs (manifest schema, config schema, required capabilities), fenced on the bus, restarted with
 * back-off when it fails, and never allowed to take the kernel or another plugin down with it.
 */
export class PluginHost {
  private readonly entries = new Map<string, Entry>();
  private readonly log;
  private stopping = false;

  constructor(private readonly deps: PluginHostDeps) {
    this.log = deps.logs.for('plugin-host');
    deps.config.on('change', ({ previous, current }) => void this.applyConfig(previous, current));
  }

  /** Declare a built-in plugin; nothing is imported until it is started (and never if disabled). */
  addBuiltIn(plugin: BuiltInPlugin): void {
    this.entries.set(plugin.name, {
      name: plugin.name,
      source: 'built-in',
      builtIn: plugin,
      sandboxed: false,
      state: 'stopped',
      restarts: 0,
      queue: Promise.resolve(),
    });
  }

  /** Start every enabled built-in plugin in dependency order. */
  async startBuiltIns(): Promise<void> {
    const builtIns = [...this.entries.values()].filter((e) => e.source === 'built-in');
    for (const entry of builtIns) {
      if (!this.entryConfig(entry.name).enabled) {
        entry.state = 'disabled';
        continue;
      }
      try {
        entry.manifest = checkManifest((await entry.builtIn!.load()).manifest, `built-in plugin ${entry.name}`);
      } catch (error) {
        this.fail(entry, `cannot load: ${(error as Error).message}`);
      }
    }
    for (const entry of this.dependencyOrder(builtIns.filter((e) => e.manifest && e.state !== 'disabled'))) {
      await this.serial(entry, () => this.start(entry));
    }
    await this.writeStatus();
  }

  /** Load (or reload) a hot-loaded plugin from its entry file. */
  async loadFile(file: string): Promise<void> {
    const name = pluginNameOf(file);
    let entry = this.entries.get(name);
    if (entry && entry.source === 'built-in') {
      this.log.error({ file, plugin: name }, 'a hot-loaded plugin may not replace a built-in plugin of the same name; ignored');
      return;
    }
    if (!entry) {
      entry = { name, source: 'hot-loaded', sandboxed: true, state: 'stopped', restarts: 0, queue: Promise.resolve() };
      this.entries.set(name, entry);
    }
    const target = entry;
    target.file = file;
    await this.serial(target, async () => {
      await this.stop(target);
      target.backoff = undefined;
      target.restarts = 0;
      if (!this.entryConfig(name).enabled) {
        target.state = 'disabled';
        return;
      }
      await this.start(target);
    });
    await this.writeStatus();
  }

  /** Unload a hot-loaded plugin whose file was removed. */
  async unloadFile(file: string): Promise<void> {
    const entry = this.entries.get(pluginNameOf(file));
    if (!entry || entry.source !== 'hot-loaded' || entry.file !== file) return;
    await this.serial(entry, () => this.stop(entry));
    this.entries.delete(entry.name);
    this.log.info({ plugin: entry.name, file }, 'hot-loaded plugin unloaded');
    await this.writeStatus();
  }

  list(): PluginStatus[] {
    return [...this.entries.values()].map((e) => ({
      name: e.name,
      version: e.manifest?.version,
      source: (e.source === 'built-in' ? 'built-in' : e.sandboxed ? 'sandboxed' : 'hot-loaded') as PluginSource,
      state: e.state,
      restarts: e.restarts,
      ...(e.error ? { error: e.error } : {}),
      ...(e.file ? { location: e.file } : {}),
    }));
  }

  /** Stop everything, in reverse dependency order. */
  async stopAll(): Promise<void> {
    this.stopping = true;
    const running = [...this.entries.values()].filter((e) => e.runner);
    const hotLoaded = running.filter((e) => e.source === 'hot-loaded');
    const ordered = [...hotLoaded, ...this.dependencyOrder(running.filter((e) => e.source === 'built-in')).reverse()];
    for (const entry of ordered) await this.serial(entry, () => this.stop(entry));
    await this.writeStatus();
  }

  private async start(entry: Entry): Promise<void> {
    if (this.stopping) return;
    clearTimeout(entry.restartTimer);
    entry.state = 'starting';
    entry.error = undefined;
    const log = this.deps.logs.for(`plugin:${entry.name}`);
    const onCrash = (reason: string) => void this.crashed(entry, reason);
    let runner: PluginRunner | undefined;
    try {
      runner = await this.createRunner(entry, log, onCrash);
      entry.manifest = checkManifest(runner.manifest, entry.file ?? `built-in plugin ${entry.name}`);
      if (entry.manifest.name !== entry.name) {
        throw new Error(`manifest name '${entry.manifest.name}' differs from the plugin's name '${entry.name}' (file or folder name)`);
      }
      const missing = (entry.manifest.requires ?? []).filter((capability) => !this.capability(capability, entry.name).found);
      if (missing.length) throw new Error(`requires ${missing.map((c) => `'${c}'`).join(', ')}, which nothing running provides`);
      const config = this.registerConfig(entry);
      this.deps.topics.add(entry.name, (entry.manifest.topics ?? []) as TopicDefinition[]);
      entry.runner = runner;
      entry.startedConfig = config;
      await runner.start(structuredClone(config));
      entry.state = 'running';
      log.info({ version: entry.manifest.version, sandboxed: entry.sandboxed, source: entry.source }, 'plugin started');
    } catch (error) {
      await runner?.stop().catch(() => undefined);
      await this.teardown(entry);
      const reason = error instanceof ConfigError ? `invalid config: ${error.message}` : (error as Error).message;
      this.scheduleRestart(entry, `start failed: ${reason}`);
    }
  }

  private async createRunner(entry: Entry, log: ReturnType<LogManager['for']>, onCrash: (reason: string) => void): Promise<PluginRunner> {
    const inProcessDeps = {
      bus: this.deps.bus,
      log,
      dataRoot: this.deps.dataDir,
      use: (capability: string) => {
        const found = this.capability(capability, entry.name);
        if (!found.found) throw new Error(`capability '${capability}' is not provided by the kernel or a running plugin`);
        return found.api;
      },
      onCrash,
    };
    if (entry.source === 'built-in') {
      entry.sandboxed = false;
      return new InProcessRunner(await entry.builtIn!.load(), inProcessDeps);
    }
    const file = entry.file!;
    entry.sandboxed = this.entryConfig(entry.name).sandbox ?? this.hostConfig().sandboxHotLoaded;
    if (entry.sandboxed) {
      const limits = this.hostConfig().sandbox;
      // isolated-vm is loaded only when a sandboxed plugin exists: it costs start-up time and memory.
      const [{ SandboxRunner }, { setSandboxThreadPriority }] = await Promise.all([import('./sandbox-runner.js'), import('./sandbox-threads.js')]);
      await setSandboxThreadPriority(limits.nice, this.log);
      return SandboxRunner.load(await readFile(file, 'utf8'), file, limits, { bus: this.deps.bus, log, onCrash }, (manifest) => ({
        memoryMiB: manifest.sandbox?.memoryMiB ?? limits.memoryMiB,
        cpuTimeMs: manifest.sandbox?.cpuTimeMs ?? limits.cpuTimeMs,
        queueLimit: limits.queueLimit,
      }));
    }
    this.registerResolveHooks();
    const version = (await stat(file)).mtimeMs;
    // A query string makes Node import the changed file anew (ESM modules cannot be evicted).
    const module = (await import(`${pathToFileURL(file).href}?v=${version}-${Date.now()}`)) as { default?: PluginDefinition };
    if (!module.default || typeof module.default.start !== 'function') throw new Error(`${file} has no default export from definePlugin()`);
    return new InProcessRunner(module.default, inProcessDeps);
  }

  /** Validate the plugin's config section against its schema and return it with defaults applied. */
  private registerConfig(entry: Entry): Record<string, unknown> {
    const pointer = `/plugins/${entry.name}/config`;
    const schema = entry.manifest!.configSchema ?? { type: 'object' };
    return this.deps.config.registerSection(entry.name, pointer, schema) as Record<string, unknown>;
  }

  private async stop(entry: Entry): Promise<void> {
    clearTimeout(entry.restartTimer);
    if (!entry.runner) {
      if (entry.state !== 'disabled' && entry.state !== 'failed') entry.state = 'stopped';
      return;
    }
    entry.state = 'stopping';
    try {
      await entry.runner.stop();
    } catch (error) {
      this.deps.logs.for(`plugin:${entry.name}`).warn({ err: error }, 'plugin stop failed; released anyway');
    }
    await this.teardown(entry);
    entry.state = 'stopped';
    this.deps.logs.for(`plugin:${entry.name}`).info('plugin stopped');
  }

  /** Release what the host registered for a plugin (its topics and config schema). */
  private async teardown(entry: Entry): Promise<void> {
    entry.runner = undefined;
    this.deps.topics.removeOwner(entry.name);
    this.deps.config.unregisterSection(entry.name);
  }

  private async crashed(entry: Entry, reason: string): Promise<void> {
    this.deps.logs.for(`plugin:${entry.name}`).error({ reason }, 'plugin failed and was stopped');
    this.deps.bus.publish('ci/plugins/event', { plugin: entry.name, event: 'failed', reason }, { kind: 'kernel', name: 'plugin-host' });
    await this.serial(entry, async () => {
      if (entry.runner) {
        await entry.runner.stop().catch(() => undefined);
        await this.teardown(entry);
      }
      this.scheduleRestart(entry, reason);
    });
    await this.writeStatus();
  }

  private scheduleRestart(entry: Entry, reason: string): void {
    entry.error = reason;
    entry.backoff ??= new Backoff(this.hostConfig().restart);
    const delay = this.stopping ? undefined : entry.backoff.next();
    const log = this.deps.logs.for(`plugin:${entry.name}`);
    if (delay === undefined) {
      entry.state = 'failed';
      log.error({ reason, restarts: entry.restarts }, 'plugin failed; not restarted again (restart limit reached)');
      return;
    }
    entry.state = 'restarting';
    log.warn({ reason, delayMs: delay }, 'plugin will be restarted');
    entry.restartTimer = setTimeout(() => {
      entry.restarts++;
      void this.serial(entry, () => this.start(entry)).then(() => this.writeStatus());
    }, delay);
    entry.restartTimer.unref();
  }

  private fail(entry: Entry, reason: string): void {
    entry.state = 'failed';
    entry.error = reason;
    this.deps.logs.for(`plugin:${entry.name}`).error({ reason }, 'plugin failed');
  }

  /** React to a validated config change: enable/disable plugins, hand over new plugin config. */
  private async applyConfig(previous: EffectiveConfig, current: EffectiveConfig): Promise<void> {
    for (const entry of this.entries.values()) {
      const before = this.entryConfig(entry.name, previous);
      const after = this.entryConfig(entry.name, current);
      if (!after.enabled && entry.state !== 'disabled') {
        await this.serial(entry, async () => {
          await this.stop(entry);
          entry.state = 'disabled';
        });
        this.log.info({ plugin: entry.name }, 'plugin disabled by config');
      } else if (after.enabled && entry.state === 'disabled') {
        await this.serial(entry, async () => {
          if (entry.source === 'built-in' && !entry.manifest) entry.manifest = (await entry.builtIn!.load()).manifest;
          await this.start(entry);
        });
      } else if (entry.runner && (!deepEqual(before.config, after.config) || before.sandbox !== after.sandbox)) {
        await this.serial(entry, async () => {
          const runner = entry.runner;
          if (!runner) return;
          const config = this.deps.config.section<Record<string, unknown>>(`/plugins/${entry.name}/config`);
          const live = runner instanceof InProcessRunner ? runner.handlesConfigChanges : true;
          if (live && before.sandbox === after.sandbox) {
            await runner.configChanged(structuredClone(config));
            entry.startedConfig = config;
          } else {
            await this.stop(entry);
            await this.start(entry);
          }
        });
      }
    }
    await this.writeStatus();
  }

  private capability(name: string, asker: string): { found: boolean; api?: unknown } {
    if (this.deps.kernelCapabilities.has(name)) return { found: true, api: this.deps.kernelCapabilities.get(name) };
    for (const entry of this.entries.values()) {
      if (entry.name !== asker && entry.state === 'running' && entry.manifest?.provides?.includes(name)) {
        return { found: true, api: entry.runner?.api };
      }
    }
    return { found: false };
  }

  /** Providers before those that require them; a cycle or missing provider is left to start() to report. */
  private dependencyOrder(entries: Entry[]): Entry[] {
    const ordered: Entry[] = [];
    const visiting = new Set<Entry>();
    const visit = (entry: Entry) => {
      if (ordered.includes(entry) || visiting.has(entry)) return;
      visiting.add(entry);
      for (const capability of entry.manifest?.requires ?? []) {
        for (const provider of entries) if (provider !== entry && provider.manifest?.provides?.includes(capability)) visit(provider);
      }
      visiting.delete(entry);
      ordered.push(entry);
    };
    for (const entry of entries) visit(entry);
    return ordered;
  }

  private serial(entry: Entry, task: () => Promise<void>): Promise<void> {
    const next = entry.queue.then(task, task);
    entry.queue = next.catch(() => undefined);
    return next;
  }

  private entryConfig(name: string, config: EffectiveConfig = this.deps.config.current): PluginEntryConfig {
    return normalizeEntry(config.plugins[name]);
  }

  private hostConfig() {
    return this.deps.config.current.pluginHost;
  }

  private registerResolveHooks(): void {
    if (resolveHooksRegistered) return;
    resolveHooksRegistered = true;
    const require = createRequire(import.meta.url);
    const pluginApiUrl = pathToFileURL(require.resolve('@opensecc/plugin-api')).href;
    register(new URL('./resolve-hooks.js', import.meta.url), { data: { pluginApiUrl } });
  }

  /** The status file `secc plugin list` reads while the daemon runs. */
  async writeStatus(): Promise<void> {
    const file = join(this.deps.runDir, 'plugins.json');
    try {
      await mkdir(dirname(file), { recursive: true });
      await writeFileAtomic(file, JSON.stringify({ pid: process.pid, updated: new Date().toISOString(), plugins: this.list() }, null, 2));
    } catch (error) {
      this.log.warn({ err: error, file }, 'cannot write plugin status file');
    }
    this.deps.bus.publish('ci/plugins/status', this.list(), { kind: 'kernel', name: 'plugin-host' });
  }
}

/** A plugin's config entry with defaults: enabled unless said otherwise. */
function normalizeEntry(entry: Partial<PluginEntryConfig> | undefined): PluginEntryConfig {
  return { enabled: entry?.enabled ?? true, ...(entry?.sandbox === undefined ? {} : { sandbox: entry.sandbox }), config: entry?.config ?? {} };
}

/** A hot-loaded plugin's name is its file name without extension, or its folder's name. */
export function pluginNameOf(file: string): string {
  const base = basename(file).replace(/\.(m?js)$/, '');
  return base === 'index' ? basename(dirname(file)) : base;
}
