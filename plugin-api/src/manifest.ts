import type { JSONSchema } from './schema.js';
import type { TopicDefinition } from './topics.js';

/**
 * What a plugin declares about itself, before any of its code runs (EVerest-style manifest,
 * Fastify-style JSON-Schema-first config). The host reads it to order start-up, to check that
 * what the plugin requires is provided, to validate its config and to fence its bus access.
 */
export interface PluginManifest {
  /** Unique, kebab-case. Also the plugin's config key under `plugins.<name>`. */
  readonly name: string;
  readonly version: string;
  readonly description?: string;
  /** Capabilities this plugin offers to others (e.g. 'mqtt-api', 'charge-control'). */
  readonly provides?: readonly string[];
  /** Capabilities that must be provided (by the kernel or another plugin) before this one starts. */
  readonly requires?: readonly string[];
  /** JSON Schema of `plugins.<name>.config`; defaults in it are applied. */
  readonly configSchema?: JSONSchema;
  /** Bus topic patterns (MQTT wildcards) the plugin may read and write. Enforced for every plugin. */
  readonly bus?: {
    readonly read?: readonly string[];
    readonly write?: readonly string[];
  };
  /** Topics this plugin adds to the registry (validated on the bus, exposed on MQTT, documented). */
  readonly topics?: readonly TopicDefinition[];
  /** Limits when the plugin runs sandboxed (isolated-vm). */
  readonly sandbox?: {
    /** Heap limit in MiB (default 32). */
    readonly memoryMiB?: number;
    /** CPU time one call into the plugin may take, in ms (default 50). */
    readonly cpuTimeMs?: number;
  };
}

export const KERNEL_CAPABILITIES = ['bus', 'config', 'logger', 'hal', 'charging'] as const;
