/**
 * The part of the stack the MQTT tests need: the topic registry as the daemon assembles it, the
 * kernel bus validating against it, and the MQTT API plugin started on that bus.
 */
import { assembleTopicRegistry } from '@opensecc/core/cli/commands/mqtt';
import { KernelBus } from '@opensecc/core/kernel/bus';
import type { TopicRegistry } from '@opensecc/core/kernel/topic-registry';
import { softwareVersion } from '@opensecc/core/kernel/version';
import type { BusMessage } from '@opensecc/plugin-api';
import mqttApiPlugin, { type MqttApi, type MqttApiConfig } from '@opensecc/plugin-mqtt-api';
import type { MqttBrokerApi } from '@opensecc/plugin-mqtt-broker';
import { startPlugin, type StartedPlugin } from './plugin-context.js';

export const KERNEL = { kind: 'kernel', name: 'kernel' } as const;

export interface StackUnderTest {
  readonly bus: KernelBus;
  readonly registry: TopicRegistry;
  readonly mqtt: StartedPlugin<MqttApi>;
  /** Every bus message, in order (to check what reached the stack and what did not). */
  readonly busLog: BusMessage[];
  stop(): Promise<void>;
}

let registryPromise: Promise<TopicRegistry> | undefined;

/** Built once per test process: loading the shipped plugins' manifests is the slow part. */
export function testRegistry(): Promise<TopicRegistry> {
  registryPromise ??= assembleTopicRegistry({ stderr: process.stderr });
  return registryPromise;
}

/** `url` undefined: the API finds the embedded broker `inProcess` as the daemon does (no url configured). */
export async function startStack(url: string | undefined, config: Partial<MqttApiConfig> = {}, inProcess?: MqttBrokerApi): Promise<StackUnderTest> {
  const registry = await testRegistry();
  const bus = new KernelBus({
    validate: (topic, value) => registry.validate(topic, value),
    retainPolicy: (topic) => registry.retained(topic),
  });
  const busLog: BusMessage[] = [];
  bus.subscribe('#', (message) => void busLog.push(message));
  // What the kernel publishes at start.
  bus.publish('ci/global/state', 'running', KERNEL);
  bus.publish('ci/global/version/charging_software', softwareVersion(), KERNEL);
  const mqtt = await startPlugin<Partial<MqttApiConfig>, MqttApi>(mqttApiPlugin, {
    bus,
    config: { ...(url ? { url } : {}), reconnectPeriodMs: 50, maxReconnectPeriodMs: 400, keepaliveSeconds: 5, ...config },
    capabilities: { topics: registry, ...(inProcess ? { 'mqtt-broker': inProcess } : {}) },
  });
  return { bus, registry, mqtt, busLog, stop: () => mqtt.stop() };
}
