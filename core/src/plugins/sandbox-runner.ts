import ivm from 'isolated-vm';
import type { Logger, PluginManifest } from '@opensecc/plugin-api';
import type { KernelBus } from '../kernel/bus.js';
import { fencedBus } from './fenced-bus.js';
import { SANDBOX_PLUGIN_API_SOURCE, SANDBOX_RUNTIME_SOURCE } from './sandbox-runtime.js';
import type { CrashHandler, PluginRunner } from './types.js';

export interface SandboxLimits {
  /** Heap limit of the isolate in MiB. */
  readonly memoryMiB: number;
  /** Time one call into the plugin may run before it is cut off, in ms. */
  readonly cpuTimeMs: number;
  /** Deliveries that may wait for the plugin before further ones are dropped. */
  readonly queueLimit: number;
}

export interface SandboxDeps {
  readonly bus: KernelBus;
  readonly log: Logger;
  readonly onCrash: CrashHandler;
}

type Entry = 'start' | 'deliver' | 'fire' | 'config' | 'stop';

/**
 * Runs a plugin in its own V8 isolate (isolated-vm). Every call into the plugin runs on a worker
 * thread with a time limit, so a plugin that loops never blocks the kernel's event loop; the
 * isolate's heap is capped, so one that allocates without bound is disposed on its own. The only
 * way out is the bus, fenced to the manifest, plus a logger and timers.
 */
export class SandboxRunner implements PluginRunner {
  private crashed = false;
  private stopped = false;
  private pending = 0;
  private dropped = 0;
  private readonly subscriptions = new Map<number, () => void>();
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private bus: ReturnType<typeof fencedBus> | undefined;
  private entries = new Map<Entry, ivm.Reference<(...args: unknown[]) => unknown>>();

  private constructor(
    readonly manifest: PluginManifest,
    private readonly isolate: ivm.Isolate,
    private readonly context: ivm.Context,
    private readonly plugin: ivm.Reference<unknown>,
    private readonly limits: SandboxLimits,
    private readonly deps: SandboxDeps,
  ) {}

  readonly api = undefined;

  /** Compile and evaluate the plugin's module in a fresh isolate and read its manifest. */
  static async load(source: string, filename: string, limits: SandboxLimits, deps: SandboxDeps, manifestLimits?: (m: PluginManifest) => SandboxLimits): Promise<SandboxRunner> {
    let isolate = new ivm.Isolate({ memoryLimit: limits.memoryMiB });
    try {
      const loaded = await SandboxRunner.evaluate(isolate, source, filename, limits);
      const effective = manifestLimits ? manifestLimits(loaded.manifest) : limits;
      if (effective.memoryMiB !== limits.memoryMiB) {
        // The manifest asks for a different heap: start over in an isolate of that size.
        isolate.dispose();
        isolate = new ivm.Isolate({ memoryLimit: effective.memoryMiB });
        const again = await SandboxRunner.evaluate(isolate, source, filename, effective);
        return new SandboxRunner(again.manifest, isolate, again.context, again.plugin, effective, deps);
      }
      return new SandboxRunner(loaded.manifest, isolate, loaded.context, loaded.plugin, effective, deps);
    } catch (error) {
      if (!isolate.isDisposed) isolate.dispose();
      throw error;
    }
  }

  private static async evaluate(isolate: ivm.Isolate, source: string, filename: string, limits: SandboxLimits) {
    const context = await isolate.createContext();
    await context.global.set('globalThis', context.global.derefInto());
    // Host callbacks are installed before the runtime script picks them up; see install().
    const api = await isolate.compileModule(SANDBOX_PLUGIN_API_SOURCE, { filename: 'opensecc:plugin-api' });
    const module = await isolate.compileModule(source, { filename });
    await module.instantiate(context, (specifier) => {
      if (specifier === '@opensecc/plugin-api') return api;
      throw new Error(`a sandboxed plugin can import only @opensecc/plugin-api, not '${specifier}'`);
    });
    await module.evaluate({ timeout: limits.cpuTimeMs });
    const plugin = (await module.namespace.get('default', { reference: true })) as ivm.Reference<unknown>;
    if (plugin.typeof !== 'object') throw new Error(`${filename} has no default export from definePlugin()`);
    const manifestJson = await context.eval('JSON.stringify', { reference: true }).then((stringify) =>
      (stringify as ivm.Reference<(v: unknown) => string>).apply(undefined, [(plugin as ivm.Reference<{ manifest: unknown }>).derefInto()], { timeout: limits.cpuTimeMs }),
    );
    const manifest = JSON.parse(String(manifestJson)).manifest as PluginManifest;
    return { context, plugin, manifest };
  }

  async start(config: Record<string, unknown>): Promise<void> {
    await this.install();
    await this.call('start', [this.plugin.derefInto(), JSON.stringify(this.manifest), JSON.stringify(config)], true);
  }

  async configChanged(config: Record<string, unknown>): Promise<void> {
    await this.call('config', [JSON.stringify(config)], true);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    try {
      if (!this.crashed && !this.isolate.isDisposed) await this.call('stop', [], true);
    } finally {
      this.teardown();
    }
  }

  /** CPU time the isolate used so far, in ms (for reports). */
  get cpuTimeMs(): number {
    return this.isolate.isDisposed ? 0 : Number(this.isolate.cpuTime) / 1e6;
  }

  private async install(): Promise<void> {
    const bus = fencedBus(this.deps.bus, this.manifest, (error) => this.crash(`bus handler threw: ${String(error)}`));
    this.bus = bus;
    const global = this.context.global;
    const log = this.deps.log;
    const set = (name: string, fn: (...args: any[]) => unknown, options?: ivm.CallbackOptions) =>
      global.set(`__host_${name}`, new ivm.Callback(fn, options));
    await set(
      'publish',
      (topic: string, json: string, retain: string) => {
        try {
          bus.publish(topic, JSON.parse(json), retain === '' ? undefined : { retain: retain === 'true' });
        } catch (error) {
          log.warn({ err: error, topic }, 'sandboxed plugin publish refused');
        }
      },
      { ignored: true },
    );
    await set('subscribe', (id: number, pattern: string, replay: boolean) => {
      const unsubscribe = bus.subscribe(pattern, (message) =>
        this.enqueue('deliver', [id, message.topic, JSON.stringify(message.value ?? null), JSON.stringify(message.origin), message.at]),
        { replay },
      );
      this.subscriptions.set(id, unsubscribe);
    });
    await set('unsubscribe', (id: number) => {
      this.subscriptions.get(id)?.();
      this.subscriptions.delete(id);
    }, { ignored: true });
    await set('get', (topic: string) => {
      const value = bus.get(topic);
      return value === undefined ? undefined : JSON.stringify(value);
    });
    await set('snapshot', (pattern: string) => JSON.stringify(bus.snapshot(pattern)));
    await set('log', (level: string, message: string, fieldsJson: string) => {
      const method = (['trace', 'debug', 'info', 'warn', 'error', 'fatal'].includes(level) ? level : 'info') as 'info';
      let fields: Record<string, unknown> = {};
      try {
        fields = JSON.parse(fieldsJson) as Record<string, unknown>;
      } catch {
        /* a plugin's malformed log fields are dropped, the message is kept */
      }
      log[method](fields, message);
    }, { ignored: true });
    await set('timer', (id: number, ms: number, repeat: boolean) => {
      const fire = () => this.enqueue('fire', [id]);
      this.timers.set(id, repeat ? setInterval(fire, Math.max(1, ms)) : setTimeout(() => { this.timers.delete(id); fire(); }, ms));
    }, { ignored: true });
    await set('clearTimer', (id: number) => {
      const timer = this.timers.get(id);
      if (timer) clearTimeout(timer);
      this.timers.delete(id);
    }, { ignored: true });
    await this.context.eval(SANDBOX_RUNTIME_SOURCE, { timeout: this.limits.cpuTimeMs });
    const runtime = (await this.context.global.get('__opensecc', { reference: true })) as ivm.Reference<Record<string, unknown>>;
    for (const entry of ['start', 'deliver', 'fire', 'config', 'stop'] as const) {
      this.entries.set(entry, (await runtime.get(entry, { reference: true })) as ivm.Reference<(...args: unknown[]) => unknown>);
    }
  }

  /**
   * Queue a call that nobody awaits (deliveries, timers); a failure crashes the plugin. Awaited
   * calls (start, config, stop) throw to the host instead, which decides what follows.
   */
  private enqueue(entry: Entry, args: unknown[]): void {
    if (this.crashed || this.stopped) return;
    if (this.pending >= this.limits.queueLimit) {
      if (this.dropped++ % 1000 === 0) this.deps.log.warn({ dropped: this.dropped, queueLimit: this.limits.queueLimit }, 'sandboxed plugin is behind; deliveries dropped');
      return;
    }
    this.pending++;
    this.call(entry, args, false).then(
      () => void this.pending--,
      (error: Error) => {
        this.pending--;
        this.crash(error.message);
      },
    );
  }

  private async call(entry: Entry, args: unknown[], awaitPromise: boolean): Promise<unknown> {
    const ref = this.entries.get(entry);
    if (!ref) throw new Error(`sandbox entry ${entry} is not installed`);
    try {
      return await ref.apply(undefined, args as never, {
        timeout: this.limits.cpuTimeMs,
        arguments: { copy: true },
        result: { promise: awaitPromise, copy: true },
      } as never);
    } catch (error) {
      throw new Error(this.describe(error));
    }
  }

  private describe(error: unknown): string {
    const text = error instanceof Error ? error.message : String(error);
    if (this.isolate.isDisposed || /memory limit/i.test(text)) return `exceeded its memory limit of ${this.limits.memoryMiB} MiB`;
    if (/timed out/i.test(text)) return `exceeded its CPU time limit of ${this.limits.cpuTimeMs} ms per call`;
    return `threw: ${text}`;
  }

  private crash(reason: string): void {
    if (this.crashed || this.stopped) return;
    this.crashed = true;
    this.teardown();
    this.deps.onCrash(reason);
  }

  private teardown(): void {
    for (const unsubscribe of this.subscriptions.values()) unsubscribe();
    this.subscriptions.clear();
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.bus?.dispose();
    if (!this.isolate.isDisposed) this.isolate.dispose();
  }
}
