import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BusValidationError } from '@opensecc/plugin-api';
import { CP_NO_PWM } from '@opensecc/core/hal/index';
import { createHarness, settle, startCharging } from './harness.js';

test('start: state A, no PWM, contactor open, idle, no errors', async () => {
  const h = await createHarness();
  try {
    assert.equal(h.kernelBus.get('ci/cp/state'), 'A');
    assert.equal(h.kernelBus.get('ci/cp/duty_cycle'), 100);
    assert.equal(h.kernelBus.get('ci/pp/max_current'), null);
    assert.equal(h.kernelBus.get('ci/contactor/state'), 'open');
    assert.equal(h.kernelBus.get('ci/plug_lock/state'), 'unlocked');
    assert.equal(h.kernelBus.get('ci/charging/state'), 'idle');
    assert.deepEqual(h.kernelBus.get('ci/error/active'), []);
    assert.deepEqual(h.board.cpOutput, CP_NO_PWM);
  } finally {
    await h.dispose();
  }
});

test('A -> B: the plug is locked first, then PWM offers min(EVSE, cable) current', async () => {
  const h = await createHarness({ config: { maxCurrentA: 32 }, ev: { cableMaxCurrentA: 20 } });
  try {
    const mark = h.mark();
    h.ev.plugIn();
    await h.until('ready', () => h.controller.chargingState === 'ready');
    assert.equal(h.kernelBus.get('ci/cp/state'), 'B');
    assert.equal(h.kernelBus.get('ci/pp/max_current'), 20);
    assert.equal(h.kernelBus.get('ci/plug_lock/state'), 'locked');
    assert.equal(h.kernelBus.get('ci/cp/duty_cycle'), 33.3); // 20 A
    const commands = h.commandsSince(mark).map((c) => c.kind);
    assert.ok(commands.indexOf('plugLock') < commands.indexOf('cp'), `lock before PWM: ${commands.join(',')}`);
    assert.deepEqual(h.values('ci/charging/state').slice(-2), ['connected', 'ready']);
  } finally {
    await h.dispose();
  }
});

test('B -> C: the contactor closes and the session is charging', async () => {
  const h = await createHarness();
  try {
    await startCharging(h);
    assert.equal(h.kernelBus.get('ci/cp/state'), 'C');
    assert.equal(h.kernelBus.get('ci/contactor/state'), 'closed');
    assert.equal(h.board.contactorIsClosed, true);
    assert.deepEqual(h.values('ci/contactor/state'), ['open', 'closing', 'closed']);
    assert.deepEqual(h.values('ci/charging/state').slice(-3), ['ready', 'starting', 'charging']);
  } finally {
    await h.dispose();
  }
});

test('C -> B: the contactor opens at once (no waiting for the EV-stop timeout), PWM stays offered', async () => {
  const h = await createHarness({ config: { evStopTimeoutMs: 60_000 } });
  try {
    await startCharging(h);
    const mark = h.mark();
    h.ev.stopPower();
    await h.until('contactor open', () => h.controller.contactorState === 'open');
    assert.equal(h.controller.chargingState, 'ready');
    assert.deepEqual(h.commandsSince(mark)[0], { kind: 'contactor', closed: false });
    assert.equal(h.board.cpOutput.kind, 'pwm');
    assert.equal(h.controller.plugLockState, 'locked');
  } finally {
    await h.dispose();
  }
});

test('B -> A: PWM off, plug unlocked, idle', async () => {
  const h = await createHarness();
  try {
    h.ev.plugIn();
    await h.until('ready', () => h.controller.chargingState === 'ready');
    h.ev.unplug();
    await h.until('idle and unlocked', () => h.controller.chargingState === 'idle' && h.controller.plugLockState === 'unlocked');
    assert.equal(h.kernelBus.get('ci/cp/state'), 'A');
    assert.equal(h.kernelBus.get('ci/cp/duty_cycle'), 100);
    assert.equal(h.kernelBus.get('ci/pp/max_current'), null);
  } finally {
    await h.dispose();
  }
});

test('C -> A (unplugged while charging): contactor opens first, the plug unlocks only after its feedback', async () => {
  const h = await createHarness();
  try {
    await startCharging(h);
    const mark = h.mark();
    h.ev.unplug();
    await h.until('idle and unlocked', () => h.controller.chargingState === 'idle' && h.controller.plugLockState === 'unlocked');
    const commands = h.commandsSince(mark);
    assert.deepEqual(commands[0], { kind: 'contactor', closed: false });
    const unlock = commands.findIndex((c) => c.kind === 'plugLock' && !c.locked);
    assert.ok(unlock > 0);
    const lockStates = h.values('ci/plug_lock/state');
    const contactorStates = h.values('ci/contactor/state');
    assert.equal(contactorStates.at(-1), 'open');
    assert.equal(lockStates.at(-1), 'unlocked');
    // the unlock was published after the contactor reported open
    const order = h.seen.filter((s) => (s.topic === 'ci/contactor/state' && s.value === 'open') || (s.topic === 'ci/plug_lock/state' && s.value === 'unlocking'));
    assert.deepEqual(order.map((s) => s.value).slice(-2), ['open', 'unlocking']);
  } finally {
    await h.dispose();
  }
});

test('B -> D with ventilation available charges like C', async () => {
  const h = await createHarness({ config: { ventilationAvailable: true }, ev: { needsVentilation: true } });
  try {
    await startCharging(h);
    assert.equal(h.kernelBus.get('ci/cp/state'), 'D');
    assert.equal(h.controller.contactorState, 'closed');
  } finally {
    await h.dispose();
  }
});

test('enable=false while charging: PWM withdrawn, EV stops, contactor opens; enable=true resumes', async () => {
  const h = await createHarness({ config: { evStopTimeoutMs: 60_000 } });
  try {
    await startCharging(h);
    h.customer.publish('ci/charging/enable', false);
    assert.equal(h.kernelBus.get('ci/cp/duty_cycle'), 100);
    await h.until('contactor open', () => h.controller.contactorState === 'open');
    assert.equal(h.kernelBus.get('ci/cp/state'), 'B');
    assert.equal(h.controller.chargingState, 'connected');
    assert.ok(h.values('ci/charging/state').includes('stopping'));
    h.customer.publish('ci/charging/enable', true);
    await h.until('charging again', () => h.controller.chargingState === 'charging');
  } finally {
    await h.dispose();
  }
});

test('enable=false with an EV that ignores the pilot: contactor opened under load after the EV-stop timeout', async () => {
  const h = await createHarness({ ev: { obeyPwm: false } });
  try {
    await startCharging(h);
    h.customer.publish('ci/charging/enable', false);
    assert.equal(h.controller.chargingState, 'stopping');
    assert.equal(h.controller.contactorState, 'closed'); // the EV gets its time first
    await h.until('contactor open', () => h.controller.contactorState === 'open');
    assert.equal(h.kernelBus.get('ci/cp/state'), 'C');
    assert.equal(h.controller.chargingState, 'connected');
  } finally {
    await h.dispose();
  }
});

test('enable=false before plug-in withholds PWM', async () => {
  const h = await createHarness({ before: (customer) => customer.publish('ci/charging/enable', false) });
  try {
    h.ev.plugIn();
    h.ev.requestPower();
    await h.until('locked', () => h.controller.plugLockState === 'locked');
    await settle();
    assert.equal(h.controller.chargingState, 'connected');
    assert.equal(h.kernelBus.get('ci/cp/duty_cycle'), 100);
    assert.equal(h.controller.contactorState, 'open');
  } finally {
    await h.dispose();
  }
});

test('ac_max_current changes the PWM live; below 6 A PWM is withheld; the cable rating caps it', async () => {
  const h = await createHarness({ config: { maxCurrentA: 32 }, ev: { cableMaxCurrentA: 32 } });
  try {
    await startCharging(h);
    assert.equal(h.kernelBus.get('ci/cp/duty_cycle'), 53.3);
    h.customer.publish('ci/charging/ac_max_current', 16);
    assert.equal(h.kernelBus.get('ci/cp/duty_cycle'), 26.7);
    assert.equal(h.controller.chargingState, 'charging');
    h.customer.publish('ci/charging/ac_max_current', 80);
    assert.equal(h.kernelBus.get('ci/cp/duty_cycle'), 53.3); // EVSE and cable: 32 A
    h.customer.publish('ci/charging/ac_max_current', 5);
    assert.equal(h.kernelBus.get('ci/cp/duty_cycle'), 100);
    await h.until('contactor open', () => h.controller.contactorState === 'open');
    h.customer.publish('ci/charging/ac_max_current', 10);
    await h.until('charging at 10 A', () => h.controller.chargingState === 'charging');
    assert.equal(h.kernelBus.get('ci/cp/duty_cycle'), 16.7);
  } finally {
    await h.dispose();
  }
});

test('an invalid customer value is rejected by the registry schema and changes nothing', async () => {
  const h = await createHarness();
  try {
    await startCharging(h);
    assert.throws(() => h.customer.publish('ci/charging/ac_max_current', 120), BusValidationError);
    assert.throws(() => h.customer.publish('ci/charging/enable', 'no'), BusValidationError);
    assert.equal(h.kernelBus.get('ci/cp/duty_cycle'), 53.3);
    assert.equal(h.controller.chargingState, 'charging');
  } finally {
    await h.dispose();
  }
});

test('tethered cable: no lock, PWM right after B, the configured cable rating', async () => {
  const h = await createHarness({ config: { cable: 'tethered', tetheredCableMaxCurrentA: 16 } });
  try {
    assert.equal(h.kernelBus.get('ci/pp/max_current'), 16);
    await startCharging(h);
    assert.equal(h.kernelBus.get('ci/cp/duty_cycle'), 26.7);
    assert.equal(h.controller.plugLockState, 'unlocked');
    assert.equal(h.board.commands.some((c) => c.kind === 'plugLock' && c.locked), false);
  } finally {
    await h.dispose();
  }
});

test('CP state listeners see every change (what SLAC and V2G subscribe to)', async () => {
  const h = await createHarness();
  try {
    const changes: string[] = [];
    const off = h.controller.onCpStateChange((state, previous) => changes.push(`${previous}->${state}`));
    await startCharging(h);
    h.ev.stopPower();
    h.ev.unplug();
    await h.until('idle', () => h.controller.chargingState === 'idle');
    off();
    assert.deepEqual(changes, ['A->B', 'B->C', 'C->B', 'B->A']);
  } finally {
    await h.dispose();
  }
});
