/**
 * A subscriber that stops reading must neither fill the station's memory nor hold up the other
 * clients: the embedded broker drops it after drainTimeoutMs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect as tcpConnect, type Socket } from 'node:net';
import mqttPacket from 'mqtt-packet';
import { KernelBus } from '@opensecc/core/kernel/bus';
import brokerPlugin, { type MqttBrokerApi, type MqttBrokerConfig } from '@opensecc/plugin-mqtt-broker';
import { Observer, waitUntil } from './support/observer.js';
import { startPlugin } from './support/plugin-context.js';

/** A raw MQTT client that connects, subscribes, and then never reads another byte. */
async function stuckSubscriber(port: number, topic: string): Promise<Socket> {
  const socket = tcpConnect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'stuck', clean: true, keepalive: 0 }));
  socket.write(mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos: 0 }] }));
  // No 'data' listener: the socket is not flowing, so the kernel buffers fill and stay full.
  socket.on('error', () => {});
  return socket;
}

test('mqtt-broker: a subscriber that stops reading is dropped after drainTimeoutMs; the others get everything', async () => {
  const broker = await startPlugin<Partial<MqttBrokerConfig>, MqttBrokerApi>(brokerPlugin, { bus: new KernelBus(), config: { port: 0, drainTimeoutMs: 300 } });
  const stuck = await stuckSubscriber(broker.api.port, 'load/#');
  const healthy = await Observer.connect(broker.api.url, ['load/#']);
  try {
    // Let the broker register the stuck client's subscription before the load starts.
    await healthy.publish('load/ping', 'ping');
    await healthy.waitFor('ping', (m) => m.topic === 'load/ping');
    const count = 200;
    const payload = Buffer.alloc(64 * 1024, 0x61); // 12.5 MiB in all: far more than the socket buffers hold
    await Promise.all(Array.from({ length: count }, (_, i) => broker.api.publish(`load/${i}`, payload, false)));
    await waitUntil('the stuck subscriber is dropped', () => broker.logLines.some((l) => l.msg === 'MQTT client disconnected: it stopped reading'));
    await healthy.waitFor('the last message reaches the healthy subscriber', (m) => m.topic === `load/${count - 1}`);
    assert.equal(healthy.messages.filter((m) => m.topic.startsWith('load/') && m.topic !== 'load/ping').length, count, 'every message, none lost');
    assert.equal(broker.logLines.find((l) => l.msg === 'MQTT client disconnected: it stopped reading')?.client, 'stuck');
  } finally {
    stuck.destroy();
    await healthy.close();
    await broker.stop();
  }
});
