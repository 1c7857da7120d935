/** The two MQTT plugins as the host runs them: start, defaults, live config change, stop. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect as tcpConnect } from 'node:net';
import { KernelBus } from '@opensecc/core/kernel/bus';
import brokerPlugin, { BrokerListenError, inProcessLink, type MqttBrokerApi, type MqttBrokerConfig } from '@opensecc/plugin-mqtt-broker';
import mqttApiPlugin, { type MqttApi, type MqttApiConfig } from '@opensecc/plugin-mqtt-api';
import { startAedes } from './support/brokers.js';
import { Observer, waitUntil } from './support/observer.js';
import { startPlugin } from './support/plugin-context.js';
import { KERNEL, startStack, testRegistry } from './support/stack.js';

const canConnect = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = tcpConnect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

test('mqtt-broker: listens where configured, names a taken port, starts nothing when disabled, closes on stop', async () => {
  const bus = new KernelBus();
  const broker = await startPlugin<Partial<MqttBrokerConfig>, MqttBrokerApi>(brokerPlugin, { bus, config: { host: '127.0.0.1', port: 0 } });
  const { port, url } = broker.api;
  assert.equal(url, `mqtt://127.0.0.1:${port}`);
  assert.equal(await canConnect(port), true);

  await assert.rejects(
    () => startPlugin(brokerPlugin, { bus, config: { host: '127.0.0.1', port } }),
    (error: unknown) => error instanceof BrokerListenError && error.code === 'EADDRINUSE' && error.message.includes(`127.0.0.1:${port} is already in use`) && error.message.includes('enabled = false'),
  );

  const disabled = await startPlugin<Partial<MqttBrokerConfig>, MqttBrokerApi | undefined>(brokerPlugin, { bus, config: { enabled: false } });
  assert.equal(disabled.api, undefined);
  await disabled.stop();

  await broker.stop();
  assert.equal(await canConnect(port), false);
});

test('in-process link: bytes cross in order, ending or destroying one side closes the other', async () => {
  const [a, b] = inProcessLink();
  const received: string[] = [];
  b.on('data', (chunk: Buffer) => received.push(chunk.toString()));
  a.write('one');
  a.write('two');
  assert.deepEqual(received, [], 'delivered on a later tick, never re-entrantly');
  const ended = new Promise((resolve) => b.once('end', resolve));
  a.end();
  await ended;
  assert.deepEqual(received, ['one', 'two']);
  const [c, d] = inProcessLink();
  const closed = new Promise((resolve) => d.once('close', resolve));
  c.destroy();
  await closed;
  assert.equal(d.destroyed, true);
  // Writing towards a side that is gone fails with a reason (a socket would say EPIPE).
  const [e, f] = inProcessLink();
  f.destroy();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(e.destroyed, true, 'destroying one side destroys the other');
  const [g, h] = inProcessLink();
  h.destroy();
  const error = await new Promise<Error | null | undefined>((resolve) => {
    g.once('error', () => {});
    g.write('lost', resolve);
  });
  assert.match(String(error), /in-process MQTT link closed/);
});

test('mqtt-api: without a url it uses the embedded broker; stopping says offline (retained)', async () => {
  const registry = await testRegistry();
  const bus = new KernelBus({ validate: (t, v) => registry.validate(t, v), retainPolicy: (t) => registry.retained(t) });
  const broker = await startPlugin<Partial<MqttBrokerConfig>, MqttBrokerApi>(brokerPlugin, { bus, config: { port: 0 } });
  try {
    bus.publish('ci/global/version/charging_software', '9.9.9', KERNEL);
    // The embedded broker is reached inside the process: the API publishes as the broker (no
    // client connection of its own, not even an in-process one), and names it by its URL.
    let direct = 0;
    let connections = 0;
    const brokerApi: MqttBrokerApi = {
      ...broker.api,
      publish: (topic, payload, retain) => (direct++, broker.api.publish(topic, payload, retain)),
      openConnection: () => (connections++, broker.api.openConnection()),
    };
    const api = await startPlugin<Partial<MqttApiConfig>, MqttApi>(mqttApiPlugin, { bus, config: {}, capabilities: { topics: registry, 'mqtt-broker': brokerApi } });
    await api.api.whenConnected(AbortSignal.timeout(10_000));
    assert.deepEqual(api.api.status(), { connected: true, url: broker.api.url, failedAttempts: 0 });
    assert.ok(direct >= 2, `online and the version published as the broker (${direct} publishes)`);
    assert.equal(connections, 0);
    const app = await Observer.connect(broker.api.url, ['ci/global/#', 'ci/mqtt/online']);
    try {
      await app.waitFor('version', (m) => m.topic === 'ci/global/version/charging_software' && m.payload === '9.9.9');
      await app.waitFor('online', (m) => m.topic === 'ci/mqtt/online' && m.payload === 'true');
      const from = app.messages.length;
      await api.stop();
      await app.waitFor('offline', (m) => m.topic === 'ci/mqtt/online' && m.payload === 'false', from);
      // After stop nothing is forwarded any more, and publishing on the bus still works.
      bus.publish('ci/global/state', 'stopping', KERNEL);
      const late = await Observer.connect(broker.api.url, ['ci/mqtt/online']);
      const offline = await late.waitFor('retained offline', (m) => m.topic === 'ci/mqtt/online');
      assert.deepEqual([offline.payload, offline.retain], ['false', true]);
      await late.close();
      assert.equal(app.messages.filter((m) => m.topic === 'ci/global/state' && m.payload === 'stopping').length, 0);
    } finally {
      await app.close();
    }
  } finally {
    await broker.stop();
  }
});

test('mqtt-api: a live config change moves it to another broker, which gets the current state', async () => {
  const first = await startAedes();
  const second = await startAedes();
  const stack = await startStack(first.url);
  try {
    await stack.mqtt.api.whenConnected(AbortSignal.timeout(10_000));
    await stack.mqtt.changeConfig({ url: second.url, reconnectPeriodMs: 50 });
    assert.equal(stack.mqtt.api.status().url, second.url);
    await stack.mqtt.api.whenConnected(AbortSignal.timeout(10_000));
    const app = await Observer.connect(second.url, ['ci/#']);
    try {
      await app.waitFor('version on the new broker', (m) => m.topic === 'ci/global/version/charging_software' && m.retain);
      await app.publish('ci/charging/enable', 'false');
      await waitUntil('the write reached the bus', () => stack.bus.get('ci/charging/enable') === false);
    } finally {
      await app.close();
    }
  } finally {
    await stack.stop();
    await first.stop();
    await second.stop();
  }
});
