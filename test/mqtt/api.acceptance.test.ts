/**
 * Acceptance suite of the MQTT API (issue 3), run three times: on the embedded aedes broker reached
 * inside the process (the daemon's default), on aedes as a network broker, and on a real Mosquitto
 * process. A real `mqtt` client plays the customer's application; the
 * charging side is the real IEC 61851 controller over the simulated board, driven by the HAL's
 * simulated EV (support/session.ts).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { softwareVersion } from '@opensecc/core/kernel/version';
import { MOSQUITTO, startAedes, startAedesInProcess, startMosquitto, type BrokerUnderTest } from './support/brokers.js';
import { Observer, waitUntil, type Received } from './support/observer.js';
import { invalidPayloads, validPayload } from './support/payloads.js';
import { boardDuty, createSession, type SessionUnderTest } from './support/session.js';
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
  session: SessionUnderTest;
  app: Observer;
}

/** Start broker, stack (MQTT API + IEC 61851 controller) and a customer application; always torn down, in reverse order. */
async function withWorld(startBroker: () => Promise<BrokerUnderTest>, body: (world: World) => Promise<void>): Promise<void> {
  const broker = await startBroker();
  let stack: StackUnderTest | undefined;
  let session: SessionUnderTest | undefined;
  let app: Observer | undefined;
  try {
    stack = await startStack(broker.inProcess ? undefined : broker.url, {}, broker.inProcess);
    session = await createSession(stack.bus);
    await stack.mqtt.api.whenConnected(AbortSignal.timeout(10_000));
    app = await Observer.connect(broker.url, ['ci/#', 'firmware/#']);
    await body({ broker, stack, session, app });
  } finally {
    await app?.close();
    await session?.stop();
    await stack?.stop();
    await broker.stop();
  }
}

/** The stack's reports on ci/mqtt/error (not a client's own spoofed publish there). */
const errorsIn = (messages: readonly Received[]) =>
  messages.filter((m) => m.topic === 'ci/mqtt/error' && m.payload.startsWith('{')).map((m) => JSON.parse(m.payload) as { topic: string; reason: string; payload: string });

const on = (topic: string, payload: string) => (m: Received) => m.topic === topic && m.payload === payload;

/**
 * The controller's initial value of every session topic has arrived (so what follows is the session).
 * Not ci/pp/max_current: its initial value is null, an empty payload, and an empty retained publish
 * clears the topic at the broker (MQTT 3.1.1 3.3.1.3), so a subscriber that comes later gets nothing.
 */
async function initialStateSeen(app: Observer): Promise<void> {
  for (const [topic, payload] of INITIAL_STATE) await app.waitFor(`initial ${topic}=${payload}`, on(topic, payload));
}

const INITIAL_STATE = [
  ['ci/cp/state', 'A'],
  ['ci/cp/duty_cycle', '100'],
  ['ci/contactor/state', 'open'],
  ['ci/plug_lock/state', 'unlocked'],
  ['ci/charging/state', 'idle'],
] as const;

/** What the controller and the simulated hardware are doing, read from them directly (not from MQTT). */
function chargingSnapshot({ controller, board, ev }: SessionUnderTest) {
  return {
    chargingState: controller.chargingState,
    controllerDuty: controller.dutyCycle,
    boardDuty: boardDuty(board),
    contactor: controller.contactorState,
    contactorPhysicallyClosed: board.contactorIsClosed,
    evOffer: ev.offer,
    evDraws: ev.isRequestingPower,
    errors: controller.activeErrors.map((e) => e.code),
  };
}

/** Customer limits, the EV plugged in and drawing: a charging session at 16 A (26.7 %). */
async function startCharging({ stack, session, app }: World): Promise<void> {
  await app.publish('ci/charging/ac_max_current', '16');
  await app.publish('ci/charging/enable', 'true');
  await waitUntil('customer limits on the bus', () => stack.bus.get('ci/charging/ac_max_current') === 16 && stack.bus.get('ci/charging/enable') === true);
  session.ev.plugIn();
  session.ev.requestPower();
  await waitUntil('the controller charges', () => session.controller.chargingState === 'charging');
  // And the application has seen it (MQTT keeps the order: everything before it has arrived too).
  await app.waitFor('charging on MQTT', on('ci/charging/state', 'charging'));
}

function suite(name: string, startBroker: () => Promise<BrokerUnderTest>, skip: string | false): void {
  describe(`MQTT API against ${name}`, { skip }, () => {
    test('a full AC session is visible on the documented topics, in order; retained state reaches late subscribers', async () => {
      await withWorld(startBroker, async ({ stack, session, app, broker }) => {
        const { ev, board, controller } = session;
        // Once the (earlier) app has the initial state live, the broker holds it: a later subscriber gets it retained.
        await app.waitFor('initial charging state', on('ci/charging/state', 'idle'));
        const late = await Observer.connect(broker.url, ['ci/#']);
        try {
          const version = await late.waitFor('version', (m) => m.topic === 'ci/global/version/charging_software');
          assert.equal(version.payload, softwareVersion());
          assert.equal(version.retain, true);
          await late.waitFor('retained idle state', (m) => on('ci/charging/state', 'idle')(m) && m.retain);
          await late.waitFor('retained open contactor', (m) => on('ci/contactor/state', 'open')(m) && m.retain);
          await late.waitFor('retained online flag', (m) => on('ci/mqtt/online', 'true')(m) && m.retain);
        } finally {
          await late.close();
        }
        await initialStateSeen(app);
        const start = app.messages.length;

        await app.publish('ci/charging/ac_max_current', '16');
        await app.publish('ci/charging/enable', 'true');
        await waitUntil('customer limits on the bus', () => stack.bus.get('ci/charging/ac_max_current') === 16 && stack.bus.get('ci/charging/enable') === true);
        ev.plugIn();
        await app.waitFor('ready', on('ci/charging/state', 'ready'), start);
        // The customer's 16 A limit is what the PWM offers (IEC 61851-1 Annex A), and what the EV reads.
        assert.equal(boardDuty(board), 26.7);
        assert.deepEqual(ev.offer, { kind: 'current', amps: 16 });
        ev.requestPower();
        await app.waitFor('charging', on('ci/charging/state', 'charging'), start);
        assert.equal(board.contactorIsClosed, true);

        await app.publish('ci/charging/ac_max_current', '10');
        await app.waitFor('duty cycle for 10 A', on('ci/cp/duty_cycle', '16.7'), start);
        assert.deepEqual(ev.offer, { kind: 'current', amps: 10 });
        assert.equal(controller.chargingState, 'charging', 'a lower limit does not interrupt charging');

        const stopFrom = app.messages.length;
        await app.publish('ci/charging/enable', 'false');
        // Safe stop: PWM withdrawn, the EV (which still wants energy) obeys and opens S2, then the contactor opens.
        await app.waitFor('stopped by enable=false', on('ci/charging/state', 'connected'), stopFrom);
        assert.equal(board.contactorIsClosed, false);
        assert.deepEqual(ev.offer, { kind: 'none' });
        assert.equal(ev.isRequestingPower, false);

        const unplugFrom = app.messages.length;
        ev.stopPower();
        ev.unplug();
        await app.waitFor('plug unlocked after unplugging', on('ci/plug_lock/state', 'unlocked'), unplugFrom);
        assert.equal(controller.chargingState, 'idle');

        const seen = app.messages.slice(start).filter((m) => SESSION_TOPICS.has(m.topic));
        assert.deepEqual(
          seen.map((m) => `${m.topic}=${m.payload}`),
          [
            // plug in: cable rating from PP, then the CP sees the EV; the plug locks before energy is offered
            'ci/pp/max_current=32',
            'ci/cp/state=B',
            'ci/plug_lock/state=locking',
            'ci/charging/state=connected',
            'ci/plug_lock/state=locked',
            'ci/cp/duty_cycle=26.7',
            'ci/charging/state=ready',
            // the EV requests energy: contactor closes
            'ci/cp/state=C',
            'ci/contactor/state=closing',
            'ci/charging/state=starting',
            'ci/contactor/state=closed',
            'ci/charging/state=charging',
            // the customer lowers the limit to 10 A
            'ci/cp/duty_cycle=16.7',
            // the customer disables charging: PWM off, the EV stops, then the contactor opens
            'ci/cp/duty_cycle=100',
            'ci/charging/state=stopping',
            'ci/cp/state=B',
            'ci/contactor/state=opening',
            'ci/contactor/state=open',
            'ci/charging/state=connected',
            // unplug: the lock opens only with the contactor confirmed open
            'ci/cp/state=A',
            'ci/plug_lock/state=unlocking',
            'ci/charging/state=idle',
            'ci/pp/max_current=', // null: empty payload = unset
            'ci/plug_lock/state=unlocked',
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
        assert.deepEqual(controller.activeErrors, []);
      });
    });

    test('every publishable topic refuses an invalid payload, reports it, and keeps its state; the charging session goes on', async () => {
      await withWorld(startBroker, async (world) => {
        const { stack, session, app } = world;
        // Valid values that keep the session charging (the generic ones would set 0 A).
        const keepCharging: Record<string, Buffer> = {
          'ci/charging/ac_max_current': Buffer.from('16'),
          'ci/charging/enable': Buffer.from('true'),
        };
        await startCharging(world);
        const charging = chargingSnapshot(session);
        assert.equal(charging.controllerDuty, 26.7);
        assert.equal(charging.contactorPhysicallyClosed, true);

        const publishable = stack.registry.list().filter((t) => t.direction === 'publishable');
        assert.ok(publishable.some((t) => t.topic === 'ci/charging/ac_max_current'), 'IEC 61851 controls are registered');
        for (const definition of publishable) {
          const valid = keepCharging[definition.topic] ?? validPayload(definition.schema);
          if (valid) {
            const before = stack.busLog.length;
            await app.publish(definition.topic, valid);
            await waitUntil(`valid value on ${definition.topic}`, () => stack.busLog.slice(before).some((m) => m.topic === definition.topic));
          }
          const state = stack.bus.get(definition.topic);
          const controllerBefore = chargingSnapshot(session);
          const busBefore = stack.busLog.length;
          const mqttBefore = app.messages.length;
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
          // The controller did not move: same PWM, contactor closed, the EV still charging.
          assert.deepEqual(chargingSnapshot(session), controllerBefore, `${definition.topic}: the charging state is unchanged`);
          const changes = app.messages.slice(mqttBefore).filter((m) => SESSION_TOPICS.has(m.topic));
          assert.deepEqual(changes.map((m) => `${m.topic}=${m.payload}`), [], `${definition.topic}: no session topic changed`);
        }
        assert.deepEqual(chargingSnapshot(session), charging, 'still charging at 16 A after every refusal');
      });
    });

    test('writes to subscribeable-only and unknown ci/ topics are refused without a loop; other prefixes are ignored', async () => {
      await withWorld(startBroker, async ({ stack, session, app, broker }) => {
        await app.waitFor('cp state', on('ci/cp/state', 'A'));
        const from = app.messages.length;
        await app.publish('ci/cp/state', 'C', true);
        await app.publish('ci/contactor/state', 'closed');
        await app.publish('somebody/else/topic', 'x');
        await app.publish('ci/mqtt/error', 'spoofed');
        await app.publish('ci/cp/stat', 'C');
        await app.waitFor('report on the unknown topic', (m) => m.topic === 'ci/mqtt/error' && m.payload.includes('"ci/cp/stat"'), from);
        const errors = errorsIn(app.messages.slice(from));
        assert.deepEqual(
          errors.map((e) => [e.topic, e.payload]),
          [
            ['ci/cp/state', 'C'],
            ['ci/contactor/state', 'closed'],
            ['ci/mqtt/error', 'spoofed'],
            ['ci/cp/stat', 'C'],
          ],
        );
        // In process the broker asks the stack before it passes a write on: a refused one reaches
        // nobody, not even its sender's own subscription. A network broker has passed it on already.
        assert.equal(app.messages.slice(from).filter((m) => m.payload === 'spoofed').length, broker.inProcess ? 0 : 1, 'the spoof is not republished');
        if (broker.inProcess) {
          assert.deepEqual(app.messages.slice(from).filter((m) => ['ci/cp/state', 'ci/contactor/state', 'ci/cp/stat'].includes(m.topic)).map((m) => m.payload), [], 'refused writes reach no subscriber');
          const late = await Observer.connect(broker.url, ['ci/cp/#', 'ci/contactor/#']);
          try {
            const state = await late.waitFor('retained cp state', (m) => m.topic === 'ci/cp/state' && m.retain);
            assert.equal(state.payload, 'A', 'the broker did not retain the refused value');
          } finally {
            await late.close();
          }
        }
        assert.match(errors[0]!.reason, /subscribeable-only/);
        assert.match(errors[3]!.reason, /unknown topic/);
        assert.equal(stack.bus.get('ci/cp/state'), 'A');
        assert.equal(session.controller.cpState, 'A');
        assert.equal(session.controller.contactorState, 'open');
        assert.equal(session.board.contactorIsClosed, false);
      });
    });

    // In process the broker lives and dies with the stack: it cannot go away on its own.
    if (name !== IN_PROCESS) test('the broker going away does not stop the session; the topics come back', async () => {
      await withWorld(startBroker, async (world) => {
        const { broker, stack, session } = world;
        await startCharging(world);

        const busBefore = stack.busLog.length;
        await broker.kill();
        await waitUntil('the plugin notices the loss', () => !stack.mqtt.api.status().connected);
        await waitUntil('reconnect attempts fail while the broker is away', () => stack.mqtt.api.status().failedAttempts >= 2);
        // Charging goes on: the loss changed nothing on the bus, and the hardware still delivers.
        assert.equal(stack.busLog.length, busBefore);
        assert.equal(session.controller.chargingState, 'charging');
        assert.equal(session.board.contactorIsClosed, true);
        assert.equal(boardDuty(session.board), 26.7);
        // The EV finishes while the broker is away; the stack follows it as always.
        session.ev.stopPower();
        await waitUntil('contactor open after the EV stopped', () => session.controller.chargingState === 'ready' && !session.board.contactorIsClosed);
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
            ['ci/plug_lock/state', 'locked'],
            ['ci/pp/max_current', '32'],
            ['ci/global/version/charging_software', softwareVersion()],
            ['ci/mqtt/online', 'true'],
          ] as const) {
            await fresh.waitFor(`${topic}=${payload} after restart`, (m) => on(topic, payload)(m) && m.retain);
          }
          // The session goes on, live on the topics again, and writes work end to end.
          const from = fresh.messages.length;
          session.ev.requestPower();
          await fresh.waitFor('charging again', on('ci/charging/state', 'charging'), from);
          await fresh.publish('ci/charging/ac_max_current', '10');
          await fresh.waitFor('duty cycle for 10 A', on('ci/cp/duty_cycle', '16.7'), from);
          assert.deepEqual(session.ev.offer, { kind: 'current', amps: 10 });
          assert.deepEqual(
            fresh.messages.slice(from).filter((m) => SESSION_TOPICS.has(m.topic) && !m.retain).map((m) => `${m.topic}=${m.payload}`),
            ['ci/cp/state=C', 'ci/contactor/state=closing', 'ci/charging/state=starting', 'ci/contactor/state=closed', 'ci/charging/state=charging', 'ci/cp/duty_cycle=16.7'],
          );
        } finally {
          await fresh.close();
        }
        assert.ok(stack.mqtt.logLines.some((l) => l.level === 40 && l.msg?.startsWith('MQTT connection lost')), 'the loss is logged as a warning');
        assert.ok(stack.mqtt.logLines.some((l) => l.msg === 'MQTT connected' && (l.afterFailedAttempts as number) > 0), 'reconnected after failed attempts');
        assert.deepEqual(session.controller.activeErrors, []);
      });
    });
  });
}

const IN_PROCESS = 'the embedded aedes broker, reached in process';
suite(IN_PROCESS, startAedesInProcess, false);
suite('the embedded aedes broker over TCP', startAedes, false);
suite('a Mosquitto process', startMosquitto, MOSQUITTO ? false : 'needs mosquitto (apt-get install mosquitto)');
