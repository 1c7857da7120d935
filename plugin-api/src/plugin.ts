import type { Bus } from './bus.js';
import type { Logger } from './logger.js';
import type { PluginManifest } from './manifest.js';

/** What the host hands to a plugin's `start`. Everything a plugin may touch comes through here. */
export interface PluginContext<Config = Record<string, unknown>> {
  readonly manifest: PluginManifest;
  /** The plugin's validated config (`plugins.<name>.config`, schema defaults applied). */
  readonly config: Config;
  /** The bus, fenced to the topics the manifest declares. */
  readonly bus: Bus;
  readonly log: Logger;
  /** Aborted when the plugin is being stopped; pass it to timers, sockets and fetches. */
  readonly signal: AbortSignal;
  /** Called with the new config when a live config change for this plugin was validated and applied. */
  onConfigChange(handler: (config: Config) => void | Promise<void>): void;
  /**
   * The API object that the plugin providing `capability` returned from its start (in-process
   * plugins only; a sandboxed plugin talks through the bus). Throws when nobody provides it.
   */
  use<T = unknown>(capability: string): T;
  /** A directory this plugin owns for persistent state (in-process plugins only). */
  readonly dataDir: string;
}

/** What a plugin's `start` may return. */
export interface PluginHandle<Api = unknown> {
  /** Released in reverse start order when the plugin is unloaded or the kernel stops. */
  stop?(): void | Promise<void>;
  /** Offered to other plugins as the capabilities named in `manifest.provides`. */
  api?: Api;
}

export interface PluginDefinition<Config = Record<string, unknown>, Api = unknown> {
  readonly manifest: PluginManifest;
  start(context: PluginContext<Config>): PluginHandle<Api> | void | Promise<PluginHandle<Api> | void>;
}

/**
 * The one entry point of a plugin module: `export default definePlugin({ manifest, start })`.
 * It only checks the shape; the host validates the manifest against its schema when it loads it.
 */
export function definePlugin<Config = Record<string, unknown>, Api = unknown>(
  definition: PluginDefinition<Config, Api>,
): PluginDefinition<Config, Api> {
  if (!definition || typeof definition !== 'object') throw new TypeError('definePlugin() takes an object { manifest, start }');
  if (!definition.manifest || typeof definition.manifest.name !== 'string') throw new TypeError('definePlugin(): manifest.name is required');
  if (typeof definition.start !== 'function') throw new TypeError(`definePlugin(): plugin '${definition.manifest.name}' has no start function`);
  return definition;
}
