/**
 * Frame traces (ci/trace/v2g, ci/trace/slac, ci/trace/can: one non-retained message per frame)
 * reach MQTT only with plugins.mqtt-api.config.traces = true; ci/trace/enabled (retained) always
 * does. The stack is the MQTT API on the kernel bus with the topic registry the daemon assembles,
 * reaching the embedded broker in process as the daemon does; a real mqtt.js client on ci/# is the
 * customer's application.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TRACE_TOPIC, type CanTraceRecord, type SlacTraceRecord, type V2gTraceRecord } from '@opensecc/core/trace/index';
import { startAedesInProcess } from './support/brokers.js';
import { Observer } from './support/observer.js';
import { KERNEL, startStack } from './support/stack.js';

const v2g: V2gTraceRecord = {
  at: 1_700_000_000_123.5,
  session: '0102030405060708',
  direction: 'rx',
  protocol: 'din',
  payloadType: 0x8001,
  hex: '01fe8001000000028000',
};
const slac: SlacTraceRecord = { at: 1_700_000_000_124, direction: 'tx', hex: 'ffffffffffff0200000000018891016460' };
const can: CanTraceRecord = { at: 1_700_000_000_125, direction: 'rx', iface: 'can0', id: 0x18ff50e5, data: '0102030405060708' };
const enabled = { v2g: true, slac: true, mqtt: false, can: true };

type Stack = Awaited<ReturnType<typeof startStack>>;

/**
 * The MQTT API on the in-process broker with `config`, and an application subscribed to ci/#;
 * `run` gets them once the subscription is in place, with the index of the first message that
 * came after it.
 */
async function withObservedStack(config: Record<string, unknown>, run: (stack: Stack, app: Observer, from: number) => Promise<void>): Promise<void> {
  const broker = await startAedesInProcess();
  let stack: Stack | undefined;
  let app: Observer | undefined;
  try {
    stack = await startStack(undefined, config, broker.inProcess);
    await stack.mqtt.api.whenConnected(AbortSignal.timeout(10_000));
    app = await Observer.connect(broker.url, ['ci/#']);
    // The subscription is in place once a value published after it arrives.
    stack.bus.publish('ci/cp/state', 'A', KERNEL);
    await app.waitFor('the first marker', (m) => m.topic === 'ci/cp/state' && m.payload === 'A');
    await run(stack, app, app.messages.length);
  } finally {
    await app?.close();
    await stack?.stop();
    await broker.stop();
  }
}

for (const traces of [undefined, false, true]) {
  const what = traces === undefined ? 'by default' : `with traces: ${traces}`;
  test(`mqtt-api ${what}: frame traces ${traces ? 'go' : 'do not go'} out over MQTT; ci/trace/enabled and ordinary values always do`, () =>
    withObservedStack(traces === undefined ? {} : { traces }, async (stack, app, from) => {
      // ci/trace/enabled goes out whatever `traces` says. It is published in a turn of its own: see the
      // last test for what the embedded broker does to a retained message followed at once by a frame.
      stack.bus.publish(TRACE_TOPIC.enabled, enabled, KERNEL);
      const enabledSeen = await app.waitFor('ci/trace/enabled', (m) => m.topic === TRACE_TOPIC.enabled, from);
      assert.deepEqual(JSON.parse(enabledSeen.payload), enabled);

      stack.bus.publish(TRACE_TOPIC.v2g, v2g, KERNEL, { retain: false });
      stack.bus.publish(TRACE_TOPIC.slac, slac, KERNEL, { retain: false });
      stack.bus.publish(TRACE_TOPIC.can, can, KERNEL, { retain: false });
      // A value published after the traces: it goes through the broker no faster than they do, so
      // once it is here, any trace that was forwarded is here too.
      stack.bus.publish('ci/cp/state', 'B', KERNEL);
      await app.waitFor('the value after the traces', (m) => m.topic === 'ci/cp/state' && m.payload === 'B', from);

      assert.deepEqual(stack.busLog.filter((m) => m.topic === TRACE_TOPIC.v2g).map((m) => m.value), [v2g], 'the trace record was valid and on the bus');
      const seen = app.messages.slice(from);
      assert.equal(seen.filter((m) => m.topic === TRACE_TOPIC.enabled).length, 1, 'ci/trace/enabled once');
      const frames = seen.filter((m) => m.topic.startsWith('ci/trace/') && m.topic !== TRACE_TOPIC.enabled);
      if (traces) {
        assert.deepEqual(
          frames.map((m) => [m.topic, JSON.parse(m.payload) as unknown, m.retain]),
          [
            [TRACE_TOPIC.v2g, v2g, false],
            [TRACE_TOPIC.slac, slac, false],
            [TRACE_TOPIC.can, can, false],
          ],
          'each trace once, as published, not retained, in order',
        );
      } else {
        assert.deepEqual(frames.map((m) => m.topic), [], 'no frame trace reaches MQTT');
      }
      assert.deepEqual(
        seen.filter((m) => m.topic === 'ci/cp/state').map((m) => m.payload),
        ['B'],
      );
    }),
  );
}

/**
 * aedes numbers every publish and drops, per client, one that arrives after a higher-numbered one
 * (its dedupe for overlapping subscriptions). A retained publish took one more asynchronous step
 * (storing it) than a non-retained one, so a frame trace published right after ci/trace/enabled
 * overtook it and live subscribers never got ci/trace/enabled (aedes issues #994 and #955). The
 * embedded broker now stores retained messages in step (broker.ts, storeRetainedInStep).
 */
test('mqtt-api with traces: true: ci/trace/enabled followed at once by a frame trace still reaches a live subscriber', () =>
  withObservedStack({ traces: true }, async (stack, app, from) => {
    stack.bus.publish(TRACE_TOPIC.enabled, enabled, KERNEL);
    stack.bus.publish(TRACE_TOPIC.v2g, v2g, KERNEL, { retain: false });
    stack.bus.publish('ci/cp/state', 'B', KERNEL);
    await app.waitFor('the value after the trace', (m) => m.topic === 'ci/cp/state' && m.payload === 'B', from);
    assert.deepEqual(
      app.messages.slice(from).filter((m) => m.topic.startsWith('ci/trace/')).map((m) => m.topic),
      [TRACE_TOPIC.enabled, TRACE_TOPIC.v2g],
    );
  }),
);
