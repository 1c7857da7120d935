import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import type { TopicDefinition } from '@opensecc/plugin-api';

interface Entry {
  readonly definition: TopicDefinition;
  readonly owner: string;
  /** Compiled on first use: most topics are never validated in a short run, and compiling costs start-up time. */
  validate?: ValidateFunction;
}

/**
 * The single source of truth for bus/MQTT topics: every subsystem and plugin registers the topics
 * it owns here. Payload validation on the bus, `secc mqtt topics --json` and docs/mqtt-api.md all
 * read from it, so they cannot drift apart.
 */
export class TopicRegistry {
  private readonly entries = new Map<string, Entry>();
  private readonly ajv = new Ajv2020({ allErrors: false, strict: false });

  /** Register topics for an owner (kernel subsystem or plugin name). A topic has one owner. */
  add(owner: string, definitions: readonly TopicDefinition[]): void {
    for (const definition of definitions) {
      const existing = this.entries.get(definition.topic);
      if (existing && existing.owner !== owner) {
        throw new Error(`topic '${definition.topic}' of '${owner}' is already registered by '${existing.owner}'`);
      }
    }
    for (const definition of definitions) {
      if (!this.ajv.validateSchema(definition.schema)) {
        throw new Error(`topic '${definition.topic}' of '${owner}' has an invalid schema: ${this.ajv.errorsText(this.ajv.errors)}`);
      }
    }
    for (const definition of definitions) this.entries.set(definition.topic, { definition, owner });
  }

  /** Drop everything an owner registered (plugin unloaded). */
  removeOwner(owner: string): void {
    for (const [topic, entry] of this.entries) if (entry.owner === owner) this.entries.delete(topic);
  }

  get(topic: string): TopicDefinition | undefined {
    return this.entries.get(topic)?.definition;
  }

  ownerOf(topic: string): string | undefined {
    return this.entries.get(topic)?.owner;
  }

  /** All topics, sorted by name. */
  list(): TopicDefinition[] {
    return [...this.entries.values()].map((e) => e.definition).sort((a, b) => a.topic.localeCompare(b.topic));
  }

  /** An error text naming the failing path, or undefined when valid (or the topic is not registered). */
  validate(topic: string, value: unknown): string | undefined {
    const entry = this.entries.get(topic);
    if (!entry) return undefined;
    entry.validate ??= this.ajv.compile(entry.definition.schema);
    if (entry.validate(value)) return undefined;
    const error = entry.validate.errors?.[0];
    if (!error) return 'invalid value';
    const where = error.instancePath === '' ? 'payload' : `payload${error.instancePath}`;
    return `${where} ${error.message ?? 'is invalid'}`;
  }

  retained(topic: string): boolean | undefined {
    return this.entries.get(topic)?.definition.retained;
  }
}
