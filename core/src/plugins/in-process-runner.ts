import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger, PluginContext, PluginDefinition, PluginHandle, PluginManifest } from '@opensecc/plugin-api';
import type { KernelBus } from '../kernel/bus.js';
import { fencedBus } from './fenced-bus.js';
import type { CrashHandler, PluginRunner } from './types.js';

export interface InProcessDeps {
  readonly bus: KernelBus;
  readonly log: Logger;
  readonly dataRoot: string;
  /** Look up another plugin's or the kernel's API by capability name. */
  readonly use: (capability: string) => unknown;
  readonly onCrash: CrashHandler;
}

/** Runs a plugin's module in the daemon's own process (built-in plugins, trusted hot-loaded ones). */
export class InProcessRunner implements PluginRunner {
  private handle: PluginHandle | void = undefined;
  private readonly abort = new AbortController();
  private readonly configHandlers: Array<(config: Record<string, unknown>) => void | Promise<void>> = [];
  private bus: ReturnType<typeof fencedBus> | undefined;

  constructor(
    private readonly definition: PluginDefinition<any, any>,
    private readonly deps: InProcessDeps,
  ) {}

  get manifest(): PluginManifest {
    return this.definition.manifest;
  }

  get api(): unknown {
    return this.handle ? this.handle.api : undefined;
  }

  async start(config: Record<string, unknown>): Promise<void> {
    const manifest = this.manifest;
    const dataDir = join(this.deps.dataRoot, manifest.name);
    await mkdir(dataDir, { recursive: true });
    this.bus = fencedBus(this.deps.bus, manifest, (error, topic) => {
      this.deps.log.error({ err: error, topic }, 'plugin bus handler threw; the message was skipped');
    });
    const context: PluginContext<Record<string, unknown>> = {
      manifest,
      config,
      bus: this.bus,
      log: this.deps.log,
      signal: this.abort.signal,
      dataDir,
      onConfigChange: (handler) => void this.configHandlers.push(handler),
      use: <T>(capability: string) => this.deps.use(capability) as T,
    };
    this.handle = await this.definition.start(context);
  }

  /** Without a config handler the host restarts the plugin to apply a change. */
  get handlesConfigChanges(): boolean {
    return this.configHandlers.length > 0;
  }

  async configChanged(config: Record<string, unknown>): Promise<void> {
    for (const handler of this.configHandlers) await handler(config);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.bus?.dispose();
    const handle = this.handle;
    this.handle = undefined;
    if (handle && handle.stop) await handle.stop();
  }
}
