import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, settle } from './harness.js';

test('HLC mode offers 5 % and closes the contactor only on PowerDelivery start', async () => {
  const h = await createHarness();
  try {
    h.controller.setHighLevelCommunication(true);
    h.ev.plugIn();
    await h.until('ready', () => h.controller.chargingState === 'ready');
    assert.equal(h.kernelBus.get('ci/cp/duty_cycle'), 5);
    h.ev.requestPower();
    await h.until('C', () => h.controller.cpState === 'C');
    await settle();
    assert.equal(h.controller.contactorState, 'open', 'state C alone does not close in HLC mode');
    assert.equal(await h.controller.requestPowerDelivery(true), true);
    assert.equal(h.controller.contactorState, 'closed');
    assert.equal(h.controller.chargingState, 'charging');
    assert.equal(await h.controller.requestPowerDelivery(false), true);
    assert.equal(h.controller.contactorState, 'open');
    assert.equal(h.kernelBus.get('ci/cp/state'), 'C');
  } finally {
    await h.dispose();
  }
});

test('HLC: PowerDelivery start before state C closes once the EV switches to C', async () => {
  const h = await createHarness();
  try {
    h.controller.setHighLevelCommunication(true);
    h.ev.plugIn();
    await h.until('ready', () => h.controller.chargingState === 'ready');
    const closed = h.controller.requestPowerDelivery(true);
    h.ev.requestPower();
    assert.equal(await closed, true);
    // C -> B in HLC mode opens at once as well
    h.ev.stopPower();
    await h.until('contactor open', () => h.controller.contactorState === 'open');
  } finally {
    await h.dispose();
  }
});

test('HLC: a PowerDelivery request is refused outside HLC mode or without an EV', async () => {
  const h = await createHarness();
  try {
    assert.equal(await h.controller.requestPowerDelivery(true), false);
    h.controller.setHighLevelCommunication(true);
    assert.equal(await h.controller.requestPowerDelivery(true), false, 'state A');
    assert.equal(h.controller.contactorState, 'open');
  } finally {
    await h.dispose();
  }
});

test('HLC: a pending PowerDelivery start resolves false when the EV is unplugged', async () => {
  const h = await createHarness();
  try {
    h.controller.setHighLevelCommunication(true);
    h.ev.plugIn();
    await h.until('ready', () => h.controller.chargingState === 'ready');
    const closed = h.controller.requestPowerDelivery(true);
    h.ev.unplug();
    assert.equal(await closed, false);
  } finally {
    await h.dispose();
  }
});

test('HLC: leaving HLC mode returns to a current-based duty', async () => {
  const h = await createHarness();
  try {
    h.controller.setHighLevelCommunication(true);
    h.ev.plugIn();
    await h.until('ready', () => h.controller.chargingState === 'ready');
    assert.equal(h.controller.dutyCycle, 5);
    h.controller.setHighLevelCommunication(false);
    assert.equal(h.controller.dutyCycle, 53.3);
  } finally {
    await h.dispose();
  }
});
