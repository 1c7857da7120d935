import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CP_NO_PWM, CP_STATE_F, type CpOutput } from '@opensecc/core/hal/index';
import type { ActiveError } from '@opensecc/core/iec61851/index';
import { createHarness, startCharging, type Harness } from './harness.js';

/**
 * Every fault path must end in the same safe state: the contactor commanded open (before the CP
 * changes) and confirmed open, the CP at its safe level, state 'fault', the error active and
 * announced once on ci/error/event.
 */
function assertSafe(h: Harness, mark: number, code: string, cp: 'F' | 'no_pwm', contactorOpen = true): void {
  const expected: CpOutput = cp === 'F' ? CP_STATE_F : CP_NO_PWM;
  assert.deepEqual(h.board.cpOutput, expected, 'CP at its safe level');
  assert.equal(h.board.contactorIsClosed, !contactorOpen, 'contactor physically open');
  if (contactorOpen) assert.equal(h.controller.contactorState, 'open');
  assert.equal(h.controller.chargingState, 'fault');
  assert.equal(h.kernelBus.get('ci/charging/state'), 'fault');
  const active = h.kernelBus.get<ActiveError[]>('ci/error/active') ?? [];
  assert.ok(active.some((e) => e.code === code), `${code} active: ${JSON.stringify(active)}`);
  const events = h.values('ci/error/event') as ActiveError[];
  assert.equal(events.filter((e) => e.code === code).length, 1, 'one error event');
  assert.ok(!Number.isNaN(Date.parse(events.find((e) => e.code === code)!.since)));
  // The safe stop starts with the last contactor-open command before the CP went safe.
  const commands = h.commandsSince(mark);
  const found = commands.findIndex((c) => c.kind === 'cp' && JSON.stringify(c.output) === JSON.stringify(expected));
  // No CP command at all: the CP already was at its safe level (asserted above) when the fault came.
  const safeCp = found >= 0 ? found : commands.length;
  const before = commands.slice(0, safeCp);
  const open = before.findLastIndex((c) => c.kind === 'contactor');
  assert.ok(open >= 0 && before[open]!.kind === 'contactor' && !(before[open] as { closed: boolean }).closed, `contactor commanded open before the CP changed: ${JSON.stringify(commands)}`);
  assert.equal(commands.slice(open).some((c) => c.kind === 'contactor' && c.closed), false, 'never closed during the fault');
}

/** The fault is active and (unless the contactor cannot open) its feedback confirms open. */
const waitFault = async (h: Harness, code: string, contactorOpens = true) => {
  await h.until(`fault ${code}`, () => h.controller.chargingState === 'fault' && h.controller.activeErrors.some((e) => e.code === code));
  if (contactorOpens) await h.until('contactor open', () => h.controller.contactorState === 'open');
};

test('fault: contactor welded -> F, plug stays locked, latched until service clears it', async () => {
  const h = await createHarness({ config: { faultRecoveryDelayMs: 10 } });
  try {
    await startCharging(h);
    h.board.injectFault('contactor_welded');
    const mark = h.mark();
    h.ev.stopPower(); // B: the contactor must open, but it cannot
    await waitFault(h, 'contactor_welded', false);
    assertSafe(h, mark, 'contactor_welded', 'F', false);
    assert.equal(h.controller.contactorState, 'error');
    assert.equal(h.kernelBus.get('ci/contactor/state'), 'error');
    assert.equal(h.controller.plugLockState, 'locked', 'no unlock while current may flow');
    assert.equal(h.controller.clearFault('contactor_welded'), false, 'refused while still welded');
    h.board.clearFault('contactor_welded'); // repaired: it opens
    await h.until('contactor open', () => h.controller.contactorState === 'open');
    assert.equal(h.controller.chargingState, 'fault', 'still latched');
    assert.equal(h.controller.clearFault('contactor_welded'), true);
    await h.until('recovered', () => h.controller.chargingState !== 'fault');
    assert.deepEqual(h.kernelBus.get('ci/error/active'), []);
  } finally {
    await h.dispose();
  }
});

test('fault: contactor fails to close -> F, then retried after the recovery delay', async () => {
  const h = await createHarness();
  try {
    h.board.injectFault('contactor_fails_to_close');
    h.ev.plugIn();
    await h.until('ready', () => h.controller.chargingState === 'ready');
    const mark = h.mark();
    h.ev.requestPower();
    await waitFault(h, 'contactor_failed_to_close');
    assertSafe(h, mark, 'contactor_failed_to_close', 'F');
    assert.ok(h.values('ci/contactor/state').includes('error'));
    h.board.clearFault('contactor_fails_to_close');
    await h.until('charging after retry', () => h.controller.chargingState === 'charging');
  } finally {
    await h.dispose();
  }
});

test('fault: CP short (E) while charging -> contactor open, F, recovers when the short is gone', async () => {
  const h = await createHarness();
  try {
    await startCharging(h);
    const mark = h.mark();
    h.ev.injectFault('cp_short');
    await waitFault(h, 'cp_short');
    assertSafe(h, mark, 'cp_short', 'F');
    assert.equal(h.kernelBus.get('ci/cp/state'), 'E');
    h.ev.clearFault('cp_short');
    await h.until('charging again', () => h.controller.chargingState === 'charging');
    assert.ok(h.values('ci/cp/state').includes('F'));
  } finally {
    await h.dispose();
  }
});

test('fault: EV diode missing -> no energy, F', async () => {
  const h = await createHarness({ config: { faultRecoveryDelayMs: 60_000 } });
  try {
    h.ev.injectFault('diode_fault');
    const mark = h.mark();
    h.ev.plugIn();
    h.ev.requestPower();
    await waitFault(h, 'diode_fault');
    assertSafe(h, mark, 'diode_fault', 'F');
    assert.equal(h.kernelBus.get('ci/cp/state'), 'F');
    assert.ok(!h.values('ci/contactor/state').includes('closed'));
  } finally {
    await h.dispose();
  }
});

test('fault: PP open while charging -> contactor open, no PWM, clears when the EV is unplugged', async () => {
  const h = await createHarness();
  try {
    await startCharging(h);
    const mark = h.mark();
    h.ev.injectFault('pp_open');
    await waitFault(h, 'pp_open');
    assertSafe(h, mark, 'pp_open', 'no_pwm');
    assert.equal(h.kernelBus.get('ci/pp/max_current'), null);
    await h.until('plug unlocked', () => h.controller.plugLockState === 'unlocked');
    h.ev.unplug();
    h.ev.clearFault('pp_open');
    await h.until('idle', () => h.controller.chargingState === 'idle');
    assert.deepEqual(h.kernelBus.get('ci/error/active'), []);
  } finally {
    await h.dispose();
  }
});

for (const fault of ['overcurrent', 'rcd_trip', 'emergency_stop'] as const) {
  test(`fault: ${fault} while charging -> contactor open, F, unlocked; recovers when the board clears it`, async () => {
    const h = await createHarness();
    try {
      await startCharging(h);
      const mark = h.mark();
      h.board.injectFault(fault, 'injected by test');
      await waitFault(h, fault);
      await h.until('contactor open', () => h.controller.contactorState === 'open');
      assertSafe(h, mark, fault, 'F');
      await h.until('plug unlocked', () => h.controller.plugLockState === 'unlocked');
      assert.match(h.controller.activeErrors[0]!.message, /injected by test/);
      h.board.clearFault(fault);
      await h.until('charging again', () => h.controller.chargingState === 'charging');
      assert.deepEqual(h.kernelBus.get('ci/error/active'), []);
    } finally {
      await h.dispose();
    }
  });
}

test('fault: a board fault active at start keeps the EVSE in F from the first moment', async () => {
  const h = await createHarness({
    board: {},
  });
  try {
    h.board.injectFault('emergency_stop');
    await waitFault(h, 'emergency_stop');
    assert.deepEqual(h.board.cpOutput, CP_STATE_F);
    h.ev.plugIn();
    h.ev.requestPower();
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(h.board.commands.some((c) => c.kind === 'contactor' && c.closed), false);
  } finally {
    await h.dispose();
  }
});

test('fault: plug lock jammed -> no PWM, never energised', async () => {
  const h = await createHarness({ config: { faultRecoveryDelayMs: 60_000 } });
  try {
    h.board.injectFault('plug_lock_jammed');
    const mark = h.mark();
    h.ev.plugIn();
    h.ev.requestPower();
    await waitFault(h, 'plug_lock_failed');
    assertSafe(h, mark, 'plug_lock_failed', 'no_pwm');
    assert.equal(h.board.commands.some((c) => c.kind === 'cp' && c.output.kind === 'pwm'), false);
  } finally {
    await h.dispose();
  }
});

test('fault: state D without ventilation -> not energised, no PWM, until the EV is unplugged', async () => {
  const h = await createHarness({ ev: { needsVentilation: true } });
  try {
    h.ev.plugIn();
    await h.until('ready', () => h.controller.chargingState === 'ready');
    const mark = h.mark();
    h.ev.requestPower();
    await waitFault(h, 'ventilation_unavailable');
    assertSafe(h, mark, 'ventilation_unavailable', 'no_pwm');
    assert.equal(h.kernelBus.get('ci/cp/state'), 'B', 'the EV stops when the PWM goes');
    h.ev.unplug();
    await h.until('idle', () => h.controller.chargingState === 'idle');
    assert.deepEqual(h.kernelBus.get('ci/error/active'), []);
    assert.equal(h.board.commands.some((c) => c.kind === 'contactor' && c.closed), false);
  } finally {
    await h.dispose();
  }
});

test('fault: safeStop from another subsystem (e.g. a failed V2G session) -> safe state until unplugged', async () => {
  const h = await createHarness();
  try {
    await startCharging(h);
    const mark = h.mark();
    h.controller.safeStop({ code: 'v2g_session_failed', message: 'V2G session timed out' });
    assertSafe(h, mark, 'v2g_session_failed', 'no_pwm', false); // commanded open; feedback follows
    await h.until('contactor open', () => h.controller.contactorState === 'open');
    assert.equal(h.board.contactorIsClosed, false);
    h.ev.unplug();
    await h.until('idle', () => h.controller.chargingState === 'idle');
    assert.deepEqual(h.kernelBus.get('ci/error/active'), []);
  } finally {
    await h.dispose();
  }
});

test('stop(): contactor open, CP F, plug unlocked', async () => {
  const h = await createHarness();
  await startCharging(h);
  await h.dispose();
  assert.equal(h.board.contactorIsClosed, false);
  assert.deepEqual(h.board.cpOutput, CP_STATE_F);
  assert.equal(h.board.plugIsLocked, false);
});
