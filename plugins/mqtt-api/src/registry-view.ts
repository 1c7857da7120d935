import type { TopicDefinition } from '@opensecc/plugin-api';

/**
 * What the plugin needs of the kernel's topic registry (capability `topics`). Structural, so the
 * plugin depends on the plugin API only, not on the core.
 */
export interface TopicRegistryView {
  get(topic: string): TopicDefinition | undefined;
  list(): TopicDefinition[];
  /** An error text naming the failing path, or undefined when valid. */
  validate(topic: string, value: unknown): string | undefined;
}
