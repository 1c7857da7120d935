import type { JSONSchema } from '@opensecc/plugin-api';

export interface MqttTlsConfig {
  /** CA certificate(s): a PEM string or a path to a PEM file. */
  readonly ca?: string;
  /** Client certificate for mutual TLS: PEM string or path. */
  readonly cert?: string;
  /** Client private key: PEM string or path. */
  readonly key?: string;
  readonly rejectUnauthorized: boolean;
}

export interface MqttApiConfig {
  /** Broker URL (`mqtt://`, `mqtts://`, `ws://`, `wss://`). Unset: the embedded broker, else mqtt://127.0.0.1:1883. */
  readonly url?: string;
  readonly username?: string;
  readonly password?: string;
  readonly tls?: MqttTlsConfig;
  readonly clientId?: string;
  readonly keepaliveSeconds: number;
  readonly connectTimeoutMs: number;
  /** First reconnect delay; doubled after every failed attempt up to maxReconnectPeriodMs. */
  readonly reconnectPeriodMs: number;
  readonly maxReconnectPeriodMs: number;
  /**
   * Publishable topics (MQTT wildcards) the application may NOT write over MQTT, because another
   * interface controls them (e.g. ci/hlc/evse/# when the charge process is driven over CAN).
   */
  readonly readOnly: readonly string[];
  /** Frame traces (ci/trace/v2g, slac, can: one message per frame) go out over MQTT too. */
  readonly traces: boolean;
}

export const DEFAULT_BROKER_URL = 'mqtt://127.0.0.1:1883';

export const CONFIG_SCHEMA: JSONSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    url: {
      type: 'string',
      pattern: '^(mqtts?|wss?|tcp|tls)://',
      description: 'External broker URL. Unset: the embedded broker (plugin mqtt-broker), else mqtt://127.0.0.1:1883.',
    },
    username: { type: 'string' },
    password: { type: 'string', description: 'Redacted in support bundles.' },
    tls: {
      type: 'object',
      additionalProperties: false,
      properties: {
        ca: { type: 'string', description: 'PEM text or path to a PEM file.' },
        cert: { type: 'string', description: 'PEM text or path to a PEM file (mutual TLS).' },
        key: { type: 'string', description: 'PEM text or path to a PEM file (mutual TLS).' },
        rejectUnauthorized: { type: 'boolean', default: true },
      },
    },
    clientId: { type: 'string', minLength: 1, maxLength: 64, description: 'Default: opensecc-<hostname>-<pid>-<random>.' },
    keepaliveSeconds: { type: 'integer', minimum: 0, maximum: 65535, default: 30 },
    connectTimeoutMs: { type: 'integer', minimum: 100, default: 10000 },
    reconnectPeriodMs: { type: 'integer', minimum: 10, default: 1000 },
    maxReconnectPeriodMs: { type: 'integer', minimum: 10, default: 30000 },
    readOnly: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      default: [],
      description: 'publishable topic patterns refused over MQTT because another interface controls them (secc start --control can sets ci/hlc/evse/#)',
    },
    traces: {
      type: 'boolean',
      default: false,
      description:
        'true: the frame traces the logging plugin switches on (ci/trace/v2g, ci/trace/slac, ci/trace/can: one message per frame, several per charging loop) go out over MQTT too. Off by default: a controller subscribed to ci/# should not get them unasked, and each costs the charging loop time; the logging plugin writes them to files either way. ci/trace/enabled is always published.',
    },
  },
};

/** Fill the defaults (the host applies them from the schema too; this keeps direct callers safe). */
export function withDefaults(config: Partial<MqttApiConfig> | undefined): MqttApiConfig {
  const c = config ?? {};
  return {
    ...c,
    tls: c.tls ? { ...c.tls, rejectUnauthorized: c.tls.rejectUnauthorized ?? true } : undefined,
    keepaliveSeconds: c.keepaliveSeconds ?? 30,
    connectTimeoutMs: c.connectTimeoutMs ?? 10000,
    reconnectPeriodMs: c.reconnectPeriodMs ?? 1000,
    maxReconnectPeriodMs: Math.max(c.maxReconnectPeriodMs ?? 30000, c.reconnectPeriodMs ?? 1000),
    readOnly: c.readOnly ?? [],
    traces: c.traces ?? false,
  };
}
