import type { JSONSchema } from '@opensecc/plugin-api';
import { iec61851ConfigSchema } from '../iec61851/config.js';
import { v2gConfigSchema } from '../v2g/config.js';

const logLevel = { enum: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] };

/** JSON Schema of the kernel's own configuration. Plugin sections are validated by each plugin's schema. */
export const kernelConfigSchema: JSONSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'opensecc:kernel-config',
  type: 'object',
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    log: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        level: { ...logLevel, default: 'info' },
        levels: { type: 'object', additionalProperties: logLevel, default: {} },
      },
    },
    board: {
      type: 'object',
      additionalProperties: true,
      default: {},
      properties: {
        type: { enum: ['simulated', 'external'], default: 'simulated' },
        plcInterface: { type: 'string', default: 'eth1' },
        adapter: { type: 'string', description: "with type 'external': module exporting createBoardAdapter(boardConfig)" },
      },
    },
    charging: { ...iec61851ConfigSchema, default: {} },
    slac: { type: 'object', default: {} },
    v2g: { ...v2gConfigSchema, default: {} },
    pluginHost: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        watchDir: { type: 'string', default: 'var/plugins', description: 'hot-load directory (relative paths resolve against the working directory)' },
        watch: { type: 'boolean', default: true },
        runDir: { type: 'string', default: 'var/run', description: 'runtime status files (plugin states) read by the CLI' },
        dataDir: { type: 'string', default: 'var/data', description: 'per-plugin persistent state (relative to the working directory)' },
        sandboxHotLoaded: { type: 'boolean', default: true, description: 'hot-loaded plugins run in isolated-vm unless their entry says sandbox: false' },
        sandbox: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            memoryMiB: { type: 'integer', minimum: 8, maximum: 1024, default: 32 },
            cpuTimeMs: { type: 'integer', minimum: 1, maximum: 60000, default: 50 },
            queueLimit: { type: 'integer', minimum: 1, maximum: 100000, default: 1000 },
            nice: {
              type: 'integer',
              minimum: 0,
              maximum: 19,
              default: 19,
              description: 'OS priority (nice) of the threads that run sandboxed plugins (Linux): 19, the lowest, so a plugin that burns CPU yields it to the charging path; 0 is the normal priority',
            },
          },
        },
        restart: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            initialDelayMs: { type: 'integer', minimum: 0, default: 500 },
            maxDelayMs: { type: 'integer', minimum: 0, default: 30000 },
            maxRestarts: { type: 'integer', minimum: 0, default: 5, description: 'within resetAfterMs; then the plugin stays failed' },
            resetAfterMs: { type: 'integer', minimum: 0, default: 60000 },
          },
        },
      },
    },
    plugins: {
      type: 'object',
      default: {},
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: {
          enabled: { type: 'boolean', default: true },
          sandbox: { type: 'boolean', description: 'hot-loaded plugins only: run sandboxed (default pluginHost.sandboxHotLoaded)' },
          config: { type: 'object', default: {} },
        },
      },
    },
  },
};
