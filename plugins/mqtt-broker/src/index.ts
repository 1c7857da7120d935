import type { Duplex } from 'node:stream';
import { definePlugin, type PluginManifest } from '@opensecc/plugin-api';
import { DEFAULT_DRAIN_TIMEOUT_MS, EmbeddedBroker, type PublishGuard } from './broker.js';
import { DEFAULT_WRITE_COALESCE_MS } from './coalesce-writes.js';

export { EmbeddedBroker, BrokerListenError, DEFAULT_DRAIN_TIMEOUT_MS, type EmbeddedBrokerOptions, type PublishGuard } from './broker.js';
export { inProcessLink } from './in-process-link.js';
export { coalesceWrites, DEFAULT_WRITE_COALESCE_MS } from './coalesce-writes.js';

export interface MqttBrokerConfig {
  readonly enabled: boolean;
  readonly host: string;
  readonly port: number;
  readonly drainTimeoutMs: number;
  readonly writeCoalesceMs: number;
}

/**
 * Capability `mqtt-broker`: where the embedded broker listens, and access to it from inside the
 * process. The MQTT API publishes as the broker and guards client writes there, so its own traffic
 * is never encoded into MQTT packets and parsed again; other plugins may open a client connection
 * without a socket.
 */
export interface MqttBrokerApi {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** A client connection inside the process: the stream an MQTT client reads and writes. */
  openConnection(): Duplex;
  /** Publish as the broker (QoS 1); resolves once handed to the subscribers. */
  publish(topic: string, payload: Buffer, retain: boolean): Promise<void>;
  /** The one guard over client publishes: a refused one reaches nobody and is not retained. */
  guardPublishes(guard: PublishGuard): () => void;
}

export const manifest: PluginManifest = {
  name: 'mqtt-broker',
  version: '0.1.0',
  description: 'Embedded MQTT broker (aedes). Disable it when the MQTT API uses an external broker.',
  provides: ['mqtt-broker'],
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      enabled: { type: 'boolean', default: true, description: 'false: start no broker (an external one is used).' },
      host: { type: 'string', default: '127.0.0.1', description: 'Listen address; loopback by default (no authentication).' },
      port: { type: 'integer', minimum: 0, maximum: 65535, default: 1883, description: '0 picks a free port.' },
      drainTimeoutMs: {
        type: 'integer',
        minimum: 100,
        default: DEFAULT_DRAIN_TIMEOUT_MS,
        description: 'A subscriber that leaves its socket full this long is disconnected, so that a stuck client can neither fill the memory nor hold up the others.',
      },
      writeCoalesceMs: {
        type: 'number',
        minimum: 0,
        maximum: 100,
        default: DEFAULT_WRITE_COALESCE_MS,
        description: 'While messages come in bursts, a client gets them in at most one write per this many ms (each write wakes the client and costs the charging loop a system call); 0: one write per turn of the event loop. A quiet broker delivers at once.',
      },
    },
  },
};

export default definePlugin<Partial<MqttBrokerConfig>, MqttBrokerApi>({
  manifest,
  async start(ctx) {
    if (ctx.config.enabled === false) {
      ctx.log.info('embedded MQTT broker disabled by config');
      return {};
    }
    const broker = await EmbeddedBroker.start(
      { host: ctx.config.host ?? '127.0.0.1', port: ctx.config.port ?? 1883, drainTimeoutMs: ctx.config.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS, writeCoalesceMs: ctx.config.writeCoalesceMs ?? DEFAULT_WRITE_COALESCE_MS },
      ctx.log,
    );
    return {
      api: {
        url: broker.url,
        host: broker.host,
        port: broker.port,
        openConnection: () => broker.openConnection(),
        publish: (topic, payload, retain) => broker.publish(topic, payload, retain),
        guardPublishes: (guard) => broker.guardPublishes(guard),
      },
      stop: () => broker.close(),
    };
  },
});
