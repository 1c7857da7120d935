import { Ajv2020 } from 'ajv/dist/2020.js';
import type { PluginManifest } from '@opensecc/plugin-api';

const topicPattern = { type: 'string', minLength: 1, pattern: '^[^\\s]+$' };

/** Schema of a plugin manifest: checked before any plugin code beyond the module's top level runs. */
export const manifestSchema = {
  type: 'object',
  required: ['name', 'version'],
  properties: {
    name: { type: 'string', pattern: '^[a-z][a-z0-9-]*$', maxLength: 64 },
    version: { type: 'string', minLength: 1 },
    description: { type: 'string' },
    provides: { type: 'array', items: { type: 'string', minLength: 1 } },
    requires: { type: 'array', items: { type: 'string', minLength: 1 } },
    configSchema: { type: 'object' },
    bus: {
      type: 'object',
      additionalProperties: false,
      properties: { read: { type: 'array', items: topicPattern }, write: { type: 'array', items: topicPattern } },
    },
    topics: {
      type: 'array',
      items: {
        type: 'object',
        required: ['topic', 'direction', 'type', 'retained', 'schema', 'description'],
        properties: {
          topic: topicPattern,
          direction: { enum: ['publishable', 'subscribeable-only'] },
          type: { type: 'string' },
          unit: { type: 'string' },
          retained: { type: 'boolean' },
          schema: { type: 'object' },
          description: { type: 'string' },
        },
      },
    },
    sandbox: {
      type: 'object',
      additionalProperties: false,
      properties: { memoryMiB: { type: 'integer', minimum: 8, maximum: 1024 }, cpuTimeMs: { type: 'integer', minimum: 1, maximum: 60000 } },
    },
  },
};

const validateManifest = new Ajv2020({ allErrors: true, strict: false }).compile(manifestSchema);

export class ManifestError extends Error {
  constructor(readonly source: string, reason: string) {
    super(`invalid plugin manifest in ${source}: ${reason}`);
    this.name = 'ManifestError';
  }
}

/** Throws ManifestError naming the source and the first problems. */
export function checkManifest(manifest: unknown, source: string): PluginManifest {
  if (!validateManifest(manifest)) {
    const reasons = (validateManifest.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
    throw new ManifestError(source, reasons);
  }
  return manifest as unknown as PluginManifest;
}
