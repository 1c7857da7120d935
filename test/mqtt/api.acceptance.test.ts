/**
 * Acceptance suite of the MQTT API (issue 3), run twice: against the embedded aedes broker and
 * against a real Mosquitto process. A real `mqtt` client plays the customer's application.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { softwareVersion } from '@opensecc/core/kernel/version';
import { MOSQUITTO, startAedes, startMosquitto, type BrokerUnderTest } from './support/brokers.js';
import { Observer, waitUntil, type Received } from './support/observer.js';
import { invalidPayloads, validPayload } from './support/payloads.js';
import { createSession } from './support/session.js';
import { startStack, type StackUnderTest } from './support/stack.js';

/** The topics a charging session shows (IEC 61851 part of the documented tree). */
const SESSION_TOPICS = new Set([
  'ci/cp/state',
  'ci/cp/duty_cycle',
  'ci/pp/max_current',
  'ci/contactor/state',
  'ci/plug_lock/state',
  'ci/charging/state',
]);

interface World {
  broker: BrokerUnderTest;
  stack: StackUnderTest;
  app: Observer;
}

/** Start broker, stack and a customer application; always torn down, in reverse order. */
async function withWorld(startBroker: () => Promise<BrokerUnderTest>, body: (world: World) => Promise<void>): Promise<void> {
  const broker = await startBroker();
  let stack: StackUnderTest | undefined;
  let app: Observer | undefined;
  try {
    stack = await startStack(broker.url);
    await stack.mqtt.api.whenConnected(AbortSignal.timeout(10_000));
    app = await Observer.connect(broker.url, ['ci/#', 'firmware/#']);
    await body({ broker, stack, app });
  } finally {
    await app?.close();
    await stack?.stop();
    await broker.stop();
  }
}

/** The stack's reports on ci/mqtt/error (not a client's own spoofed publish there). */
const errorsIn = (messages: readonly Received[]) =>
  messages.filter((m) => m.topic === 'ci/mqtt/error' && m.payload.startsWith('{')).map((m) => JSON.parse(m.payload) as { topic: string; reason: string; payload: string });

function suite(name: string, startBroker: () => Promise<BrokerUnderTest>, skip: string | false): void {
  describe(`MQTT API against ${name}`, { skip }, () => {
    test('a full session is visible on the documented topics, in order; retained state reaches late subscribers', async () => {
      await withWorld(startBroker, async ({ stack, app, broker }) => {
        const session = createSession(stack.bus);
        // Once the (earlier) app has the initial state live, the broker holds it: a later subscriber gets it retained.
        await app.waitFor('initial charging state', (m) => m.topic === 'ci/charging/state' && m.payload === 'idle');
        const late = await Observer.connect(broker.url, ['ci/#']);
        try {
          const version = await late.waitFor('version', (m) => m.topic === 'ci/global/version/charging_software');
          assert.equal(version.payload, softwareVersion());
          assert.equal(version.retain, true);
          await late.waitFor('retained idle state', (m) => m.topic === 'ci/charging/state' && m.payload === 'idle' && m.retain);
          await late.waitFor('retained online flag', (m) => m.topic === 'ci/mqtt/online' && m.payload === 'true' && m.retain);
        } finally {
          await late.close();
        }
        await app.waitFor('initial cp state', (m) => m.topic === 'ci/cp/state' && m.payload === 'A');
        const start = app.messages.length;

        await app.publish('ci/charging/ac_max_current', '16');
        await app.publish('ci/charging/enable', 'true');
        await waitUntil('customer limits on the bus', () => stack.bus.get('ci/charging/ac_max_current') === 16 && stack.bus.get('ci/charging/enable') === true);
        session.ev.plugIn(32);
        await app.waitFor('ready', (m) => m.topic === 'ci/charging/state' && m.payload === 'ready', start);
        session.ev.requestEnergy();
        await app.waitFor('charging', (m) => m.topic === 'ci/charging/state' && m.payload === 'charging', start);
        await app.publish('ci/charging/ac_max_current', '10');
        await app.waitFor('duty cycle for 10 A', (m) => m.topic === 'ci/cp/duty_cycle' && m.payload === '16.7', start);
        await app.publish('ci/charging/enable', 'false');
        await app.waitFor('stopping', (m) => m.topic === 'ci/charging/state' && m.payload === 'stopping', start);
        session.ev.stopRequesting();
        session.ev.unplug();
        await app.waitFor('back to idle', (m) => m.topic === 'ci/charging/state' && m.payload === 'idle', start);

        const seen = app.messages.slice(start).filter((m) => SESSION_TOPICS.has(m.topic));
        assert.deepEqual(
          seen.map((m) => `${m.topic}=${m.payload}`),
          [
            'ci/pp/max_current=32',
            'ci/cp/state=B',
            'ci/charging/state=connected',
            'ci/plug_lock/state=locking',
            'ci/plug_lock/state=locked',
            'ci/cp/duty_cycle=26.7',
            'ci/charging/state=ready',
            'ci/cp/state=C',
            'ci/charging/state=starting',
            'ci/contactor/state=closing',
            'ci/contactor/state=closed',
            'ci/charging/state=charging',
            'ci/cp/duty_cycle=16.7',
            'ci/cp/duty_cycle=100',
            'ci/charging/state=stopping',
            'ci/cp/state=B',
            'ci/contactor/state=opening',
            'ci/contactor/state=open',
            'ci/charging/state=connected',
            'ci/cp/state=A',
            'ci/cp/duty_cycle=100',
            'ci/plug_lock/state=unlocking',
            'ci/plug_lock/state=unlocked',
            'ci/pp/max_current=', // null: empty payload = unset
            'ci/charging/state=idle',
          ],
        );
        assert.ok(seen.every((m) => !m.retain), 'live updates are not flagged retained');

        // No loops: the customer's writes are seen once (its own subscription), never republished by
        // the stack; the stack's publishes coming back from the broker were not taken as writes.
        assert.equal(app.messages.filter((m) => m.topic === 'ci/charging/ac_max_current').length, 2);
        assert.equal(app.messages.filter((m) => m.topic === 'ci/charging/enable').length, 2);
        assert.deepEqual(errorsIn(app.messages), []);
        const fromMqtt = stack.busLog.filter((m) => m.origin.name === 'mqtt-api').map((m) => m.topic);
        assert.deepEqual([...new Set(fromMqtt)].sort(), ['ci/charging/ac_max_current', 'ci/charging/enable']);
        session.stop();
      });
    });

    test('every publishable topic refuses an invalid payload, reports it, and keeps its state', async () => {
      await withWorld(startBroker, async ({ stack, app }) => {
        const publishable = stack.registry.list().filter((t) => t.direction === 'publishable');
        assert.ok(publishable.some((t) => t.topic === 'ci/charging/ac_max_current'), 'IEC 61851 controls are registered');
        for (const definition of publishable) {
          const valid = validPayload(definition.schema);
          if (valid) {
            const before = stack.busLog.length;
            await app.publish(definition.topic, valid);
            await waitUntil(`valid value on ${definition.topic}`, () => stack.busLog.slice(before).some((m) => m.topic === definition.topic));
          }
          const state = stack.bus.get(definition.topic);
          const busBefore = stack.busLog.length;
          const refusalsLogged = stack.mqtt.logLines.filter((l) => l.msg === 'MQTT publish refused').length;
          const payloads = invalidPayloads(definition.schema);
          for (const payload of payloads) {
            const from = app.messages.length;
            await app.publish(definition.topic, payload);
            const report = await app.waitFor(`error report for ${definition.topic} <${payload.toString('hex')}>`, (m) => m.topic === 'ci/mqtt/error', from);
            const error = JSON.parse(report.payload) as { topic: string; reason: string; payload: string };
            assert.equal(error.topic, definition.topic);
            assert.ok(error.reason.length > 0);
            assert.equal(report.retain, false);
            const asText = new TextDecoder('utf-8', { fatal: false }).decode(payload);
            assert.ok(error.payload === asText.slice(0, 200) + (asText.length > 200 ? '…' : '') || error.payload.startsWith('hex:'), `excerpt of ${definition.topic}`);
          }
          assert.deepEqual(stack.bus.get(definition.topic), state, `${definition.topic} kept its state`);
          assert.ok(!stack.busLog.slice(busBefore).some((m) => m.topic === definition.topic), `${definition.topic}: nothing reached the bus`);
          assert.equal(stack.mqtt.logLines.filter((l) => l.msg === 'MQTT publish refused').length, refusalsLogged + payloads.length, 'one log line per refusal');
        }
      });
    });

    test('writes to subscribeable-only and unknown ci/ topics are refused without a loop; other prefixes are ignored', async () => {
      await withWorld(startBroker, async ({ stack, app }) => {
        createSession(stack.bus);
        await app.waitFor('cp state', (m) => m.topic === 'ci/cp/state' && m.payload === 'A');
        const from = app.messages.length;
        await app.publish('ci/cp/state', 'C');
        await app.publish('somebody/else/topic', 'x');
        await app.publish('ci/mqtt/error', 'spoofed');
        await app.publish('ci/cp/stat', 'C');
        await app.waitFor('report on the unknown topic', (m) => m.topic === 'ci/mqtt/error' && m.payload.includes('"ci/cp/stat"'), from);
        const errors = errorsIn(app.messages.slice(from));
        assert.deepEqual(
          errors.map((e) => [e.topic, e.payload]),
          [
            ['ci/cp/state', 'C'],
            ['ci/mqtt/error', 'spoofed'],
            ['ci/cp/stat', 'C'],
          ],
        );
        assert.equal(app.messages.slice(from).filter((m) => m.payload === 'spoofed').length, 1, 'the spoof is not republished');
        assert.match(errors[0]!.reason, /subscribeable-only/);
        assert.match(errors[2]!.reason, /unknown topic/);
        assert.equal(stack.bus.get('ci/cp/state'), 'A');
      });
    });

    test('the broker going away does not stop the session; the topics come back', async () => {
      await withWorld(startBroker, async ({ broker, stack, app }) => {
        const session = createSession(stack.bus);
        await app.publish('ci/charging/ac_max_current', '16');
        await waitUntil('limit on the bus', () => stack.bus.get('ci/charging/ac_max_current') === 16);
        session.ev.plugIn(32);
        session.ev.requestEnergy();
        await app.waitFor('charging', (m) => m.topic === 'ci/charging/state' && m.payload === 'charging');

        const busBefore = stack.busLog.length;
        await broker.kill();
        await waitUntil('the plugin notices the loss', () => !stack.mqtt.api.status().connected);
        // Charging goes on: the loss changed nothing on the bus, and the bus keeps working.
        assert.equal(stack.busLog.length, busBefore);
        assert.equal(stack.bus.get('ci/charging/state'), 'charging');
        assert.equal(stack.bus.get('ci/contactor/state'), 'closed');
        session.ev.stopRequesting(); // the EV finishes while the broker is away
        assert.equal(stack.bus.get('ci/charging/state'), 'ready');

        await broker.restart();
        await stack.mqtt.api.whenConnected(AbortSignal.timeout(10_000));
        // A fresh subscriber on the restarted (empty) broker gets the current state, republished.
        const fresh = await Observer.connect(broker.url, ['ci/#']);
        try {
          for (const [topic, payload] of [
            ['ci/charging/state', 'ready'],
            ['ci/contactor/state', 'open'],
            ['ci/cp/state', 'B'],
            ['ci/cp/duty_cycle', '26.7'],
            ['ci/global/version/charging_software', softwareVersion()],
            ['ci/mqtt/online', 'true'],
          ] as const) {
            await fresh.waitFor(`${topic}=${payload} after restart`, (m) => m.topic === topic && m.payload === payload && m.retain);
          }
          // And writes work again, end to end.
          const from = fresh.messages.length;
          await fresh.publish('ci/charging/ac_max_current', '10');
          await fresh.waitFor('duty cycle for 10 A', (m) => m.topic === 'ci/cp/duty_cycle' && m.payload === '16.7', from);
        } finally {
          await fresh.close();
        }
        assert.ok(stack.mqtt.logLines.some((l) => l.level === 40 && l.msg?.startsWith('MQTT connection lost')), 'the loss is logged as a warning');
        assert.ok(stack.mqtt.logLines.some((l) => l.msg === 'MQTT connected' && (l.afterFailedAttempts as number) > 0), 'reconnected after failed attempts');
        session.stop();
      });
    });
  });
}

suite('the embedded aedes broker', startAedes, false);
suite('a Mosquitto process', startMosquitto, MOSQUITTO ? false : 'needs mosquitto (apt-get install mosquitto)');
