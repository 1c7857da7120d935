/**
 * SLAC with the kernel's real parts around it: the IEC 61851 controller on the simulated board drives
 * the control pilot, the KernelBus validates the SLAC topics against their registry schemas.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KernelBus } from '@opensecc/core/kernel/bus';
import { TopicRegistry } from '@opensecc/core/kernel/topic-registry';
import { SimulatedBoard, SimulatedEv } from '@opensecc/core/hal/index';
import { Iec61851Controller } from '@opensecc/core/iec61851/index';
import {
  MemorySegment,
  SLAC_MATCH_TOPIC,
  SLAC_STATE_TOPIC,
  SLAC_TOPICS,
  SlacEv,
  SlacEvse,
  controlPilotFromIec61851,
  type SlacMatchReport,
} from '@opensecc/core/slac/index';
import { FAST_TIMERS, recordingLogger, waitForEvent } from './helpers/test-kit.js';

test('plug-in on the IEC 61851 controller starts SLAC with 5 % PWM; match and unplug show on the validated bus', async () => {
  const registry = new TopicRegistry();
  registry.add('slac', SLAC_TOPICS);
  const bus = new KernelBus({ validate: (topic, value) => registry.validate(topic, value), retainPolicy: (topic) => registry.retained(topic) });
  const seen: Array<{ topic: string; value: unknown }> = [];
  bus.subscribe('ci/slac/#', (m) => seen.push({ topic: m.topic, value: m.value }));
  const { log, records } = recordingLogger();
  const board = new SimulatedBoard({ contactorDelayMs: 5, plugLockDelayMs: 5 });
  const car = new SimulatedEv(board);
  const controller = new Iec61851Controller({ board, bus: bus.view({ kind: 'kernel', name: 'iec61851' }), log, config: { evStopTimeoutMs: 60 } });
  await controller.start();

  const segment = new MemorySegment();
  const evse = new SlacEvse({
    link: segment.attach('02:00:00:00:00:05', 'evse'),
    log,
    bus: bus.view({ kind: 'kernel', name: 'slac' }),
    controlPilot: controlPilotFromIec61851(controller),
    timers: { ...FAST_TIMERS, evseSlacInitMs: 5000 },
  });
  evse.start();
  try {
    assert.equal(evse.state, 'idle');
    car.plugIn();
    await waitForEvent(evse, 'state', (s) => s === 'waiting_for_parm');
    // The controller switches to 5 % once its own plug-in steps (plug lock) are done.
    const deadline = Date.now() + 3000;
    while (controller.dutyCycle !== 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.equal(controller.dutyCycle, 5, 'the controller offers 5 % PWM');

    const matched = waitForEvent<SlacMatchReport>(evse, 'result');
    const result = await new SlacEv({ link: segment.attach('02:00:00:00:00:0e', 'ev'), log, timers: FAST_TIMERS }).match();
    assert.equal(result.ok, true, result.reason);
    assert.equal((await matched).result, 'matched');
    assert.equal(bus.get(SLAC_STATE_TOPIC), 'matched');
    assert.equal(bus.get<SlacMatchReport>(SLAC_MATCH_TOPIC)!.nid, result.nid);

    car.unplug();
    await waitForEvent(evse, 'state', (s) => s === 'idle');
    assert.equal(bus.get(SLAC_STATE_TOPIC), 'idle');
    assert.deepEqual(seen.filter((m) => m.topic === SLAC_STATE_TOPIC).map((m) => m.value), ['idle', 'waiting_for_parm', 'sounding', 'matching', 'matched', 'idle']);
    assert.equal(records.filter((r) => r.msg === 'cannot publish SLAC state on the bus').length, 0, 'every payload passed the registry schema');
  } finally {
    evse.stop();
    await controller.stop();
    car.dispose();
  }
});
