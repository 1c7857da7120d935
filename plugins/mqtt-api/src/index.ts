import { definePlugin, type PluginManifest } from '@opensecc/plugin-api';
import { MqttBridge, type BridgeStatus, type BrokerTarget, type EmbeddedBrokerAccess } from './bridge.js';
import { CONFIG_SCHEMA, DEFAULT_BROKER_URL, withDefaults, type MqttApiConfig } from './config.js';
import type { TopicRegistryView } from './registry-view.js';
import { API_TOPICS } from './topics/api.js';

export { TopicCodec, PayloadDecodeError, allowedTypes, wireFormatOf, excerpt, type WireFormat } from './codec.js';
export { renderMqttApiDoc, DOC_TEMPLATE_URL } from './docs.js';
export { API_TOPICS, MQTT_ERROR_TOPIC, ONLINE_TOPIC, type MqttApiError } from './topics/api.js';
export { MqttBridge, STACK_PREFIX, EXPORTED_BUS_PATTERNS, type EmbeddedBrokerAccess } from './bridge.js';
export { CONFIG_SCHEMA, type MqttApiConfig } from './config.js';
export type { TopicRegistryView } from './registry-view.js';
export type { BridgeStatus } from './bridge.js';

/** What the plugin offers as capability `mqtt-api`. */
export interface MqttApi {
  status(): BridgeStatus;
  whenConnected(signal?: AbortSignal): Promise<void>;
}

/** What the embedded broker plugin offers as capability `mqtt-broker` (structural, no import). */
interface EmbeddedBroker extends Partial<EmbeddedBrokerAccess> {
  readonly url: string;
}

export const manifest: PluginManifest = {
  name: 'mqtt-api',
  version: '0.1.0',
  description: 'MQTT API: the kernel bus mapped 1:1 to MQTT topics, payloads validated against the topic registry.',
  provides: ['mqtt-api'],
  requires: ['topics'],
  configSchema: CONFIG_SCHEMA,
  bus: { read: ['ci/#', 'firmware/#'], write: ['ci/#', 'firmware/#'] },
  topics: API_TOPICS,
};

/**
 * Unset url: the embedded broker when it runs, reached directly inside the process (no socket, no
 * MQTT client), else the conventional local address.
 */
function brokerTarget(config: MqttApiConfig, use: <T>(capability: string) => T): BrokerTarget {
  if (config.url) return { url: config.url };
  let broker: EmbeddedBroker | undefined;
  try {
    broker = use<EmbeddedBroker | undefined>('mqtt-broker');
  } catch {
    broker = undefined;
  }
  if (!broker?.url) return { url: DEFAULT_BROKER_URL };
  const embedded = broker;
  if (!embedded.publish || !embedded.guardPublishes) return { url: broker.url };
  return { url: broker.url, embedded: { publish: (t, p, r) => embedded.publish!(t, p, r), guardPublishes: (guard) => embedded.guardPublishes!(guard) } };
}

export default definePlugin<Partial<MqttApiConfig>, MqttApi>({
  manifest,
  start(ctx) {
    const config = withDefaults(ctx.config);
    const registry = ctx.use<TopicRegistryView>('topics');
    const bridge = new MqttBridge(ctx.bus, registry, ctx.log, config, brokerTarget(config, ctx.use));

    bridge.start();
    ctx.onConfigChange((next) => {
      const nextConfig = withDefaults(next);
      return bridge.reconfigure(nextConfig, brokerTarget(nextConfig, ctx.use));
    });
    ctx.signal.addEventListener('abort', () => void bridge.stop(), { once: true });
    return {
      api: { status: () => bridge.status(), whenConnected: (signal) => bridge.whenConnected(signal) },
      stop: () => bridge.stop(),
    };
  },
});
