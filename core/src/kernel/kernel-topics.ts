import type { TopicDefinition } from '@opensecc/plugin-api';

const pluginStatus = {
  type: 'object',
  required: ['name', 'source', 'state'],
  properties: {
    name: { type: 'string' },
    version: { type: ['string', 'null'] },
    source: { enum: ['built-in', 'hot-loaded', 'sandboxed'] },
    state: { type: 'string' },
    restarts: { type: 'integer' },
    error: { type: 'string' },
    location: { type: 'string' },
  },
};

/** Topics the kernel itself owns. */
export const kernelTopics: TopicDefinition[] = [
  {
    topic: 'ci/global/version/charging_software',
    direction: 'subscribeable-only',
    type: 'String',
    retained: true,
    schema: { type: 'string' },
    description: 'Version of the charging software, set at start. Also tells that the stack is running.',
  },
  {
    topic: 'ci/global/state',
    direction: 'subscribeable-only',
    type: 'String',
    retained: true,
    schema: { enum: ['starting', 'running', 'stopping'] },
    description: 'Life cycle state of the daemon.',
  },
  {
    topic: 'ci/plugins/status',
    direction: 'subscribeable-only',
    type: 'Object',
    retained: true,
    schema: { type: 'array', items: pluginStatus },
    description: 'Every plugin with its source (built-in, hot-loaded, sandboxed), state and restart count.',
  },
  {
    topic: 'ci/plugins/event',
    direction: 'subscribeable-only',
    type: 'Object',
    retained: false,
    schema: { type: 'object', required: ['plugin', 'event'], properties: { plugin: { type: 'string' }, event: { type: 'string' }, reason: { type: 'string' } } },
    description: 'A plugin failed (threw, exceeded its CPU time or memory) and was stopped; it is restarted with back-off.',
  },
  {
    topic: 'ci/config/error',
    direction: 'subscribeable-only',
    type: 'Object',
    retained: false,
    schema: {
      type: 'object',
      required: ['problems'],
      properties: { problems: { type: 'array', items: { type: 'object', properties: { file: { type: 'string' }, path: { type: 'string' }, reason: { type: 'string' } } } } },
    },
    description: 'A config edit was rejected (file, path inside it, reason); the running config stays in force.',
  },
];
