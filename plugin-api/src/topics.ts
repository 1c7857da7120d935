import type { JSONSchema } from './schema.js';

/**
 * One entry of the topic registry: the single source of truth for a bus topic, from which payload
 * validation, `secc mqtt topics --json` and docs/mqtt-api.md are derived.
 *
 * direction (seen from the customer's application, as the Charge Control M guide uses the words):
 * - publishable: the customer's application writes it (the stack reads it);
 * - subscribeable-only: the stack writes it, the customer only reads it.
 */
export interface TopicDefinition {
  readonly topic: string;
  readonly direction: 'publishable' | 'subscribeable-only';
  /** Short type name for docs: 'String', 'Integer', 'Boolean', 'Number', 'Object', 'PhysicalValue', ... */
  readonly type: string;
  readonly unit?: string;
  /** Whether the value stays as state so that a late subscriber gets it. */
  readonly retained: boolean;
  readonly schema: JSONSchema;
  readonly description: string;
}

/** Build a topic definition with the defaults most topics share. */
export function defineTopic(definition: TopicDefinition): TopicDefinition {
  return definition;
}
