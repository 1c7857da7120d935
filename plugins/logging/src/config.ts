import type { JSONSchema } from '@opensecc/plugin-api';

export type TraceName = 'v2g' | 'slac' | 'mqtt' | 'can';

export interface LoggingConfig {
  /** Where logs and traces go: the device's /srv/log, a project-local var/log in development. */
  dir: string;
  /** Rotate a file when it reaches this size. */
  maxSizeMiB: number;
  /** Files kept per log or trace, the current one included. */
  maxFiles: number;
  /** Rotate a non-empty file this long after it was started: '1d', '12h', '30m', '10s', '500ms'; '0' = never. */
  rotateInterval: string;
  /** Lines waiting for the disk beyond this are dropped and counted, never blocking the charging path. */
  maxQueueMiB: number;
  /** Write the kernel's log lines to <dir>/opensecc.log. */
  file: boolean;
  traces: Record<TraceName, boolean>;
  /** Extra key words whose values the support bundle redacts (password, secret, token, key... always are). */
  redactKeys: string[];
}

export const CONFIG_SCHEMA: JSONSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    dir: { type: 'string', minLength: 1, default: 'var/log', description: 'log and trace directory (relative paths resolve against the working directory)' },
    maxSizeMiB: { type: 'number', exclusiveMinimum: 0, maximum: 4096, default: 10 },
    maxFiles: { type: 'integer', minimum: 1, maximum: 1000, default: 10 },
    rotateInterval: { type: 'string', pattern: '^(0|off|\\d+(ms|s|m|h|d))$', default: '1d' },
    maxQueueMiB: { type: 'number', exclusiveMinimum: 0, maximum: 1024, default: 8 },
    file: { type: 'boolean', default: true },
    traces: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        v2g: { type: 'boolean', default: true, description: 'every V2G message: time, direction, protocol, hex, decoded JSON (v2g.ndjson)' },
        slac: { type: 'boolean', default: true, description: 'SLAC frames (slac.ndjson)' },
        mqtt: { type: 'boolean', default: false, description: "the stack's MQTT traffic as mosquitto_sub -F '%U %t %p' (mqtt.log)" },
        can: { type: 'boolean', default: false, description: 'CAN frames in candump log format (can.log)' },
      },
    },
    redactKeys: { type: 'array', items: { type: 'string', minLength: 1 }, default: [] },
  },
};

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** '1d' → 86400000; '0' and 'off' → 0 (no time rotation). */
export function intervalMs(text: string): number {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(text);
  if (!match) {
    if (text === '0' || text === 'off') return 0;
    throw new Error(`logging: rotateInterval '${text}' is not a number with a unit (ms, s, m, h, d)`);
  }
  return Number(match[1]) * UNIT_MS[match[2]!]!;
}

/** The config with defaults applied (the host applies the schema defaults; this covers direct callers). */
export function withDefaults(config: Partial<LoggingConfig>): LoggingConfig {
  return {
    dir: config.dir ?? 'var/log',
    maxSizeMiB: config.maxSizeMiB ?? 10,
    maxFiles: config.maxFiles ?? 10,
    rotateInterval: config.rotateInterval ?? '1d',
    maxQueueMiB: config.maxQueueMiB ?? 8,
    file: config.file ?? true,
    traces: { v2g: true, slac: true, mqtt: false, can: false, ...(config.traces ?? {}) },
    redactKeys: config.redactKeys ?? [],
  };
}
