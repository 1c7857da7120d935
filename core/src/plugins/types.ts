import type { PluginDefinition, PluginManifest } from '@opensecc/plugin-api';

export type PluginSource = 'built-in' | 'hot-loaded' | 'sandboxed';
export type PluginState = 'disabled' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed' | 'restarting';

/** What `secc plugin list` shows and `ci/plugins/...` publishes. */
export interface PluginStatus {
  readonly name: string;
  readonly version: string | undefined;
  readonly source: PluginSource;
  readonly state: PluginState;
  readonly restarts: number;
  readonly error?: string;
  readonly location?: string;
}

/** A built-in plugin: known by name before its module is imported, so a disabled one is never loaded. */
export interface BuiltInPlugin {
  readonly name: string;
  load(): Promise<PluginDefinition<any, any>>;
}

/** A running plugin instance, in-process or sandboxed. */
export interface PluginRunner {
  readonly manifest: PluginManifest;
  readonly api: unknown;
  start(config: Record<string, unknown>): Promise<void>;
  configChanged(config: Record<string, unknown>): Promise<void>;
  stop(): Promise<void>;
}

/** Raised by a runner when its plugin fails after start (threw, looped, ran out of memory). */
export type CrashHandler = (reason: string) => void;
