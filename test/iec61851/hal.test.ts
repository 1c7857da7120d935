import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Contactor,
  CP_NO_PWM,
  CP_STATE_F,
  classifyCp,
  ppFromOhms,
  PP_NOMINAL_OHMS,
  SimulatedBoard,
  SimulatedEv,
  systemTimers,
  type ContactorState,
  type SwitchFault,
} from '@opensecc/core/hal/index';

const tick = (ms = 15) => new Promise((resolve) => setTimeout(resolve, ms));

test('CP levels classify into the IEC 61851-1 states', () => {
  assert.equal(classifyCp(12).state, 'A');
  assert.equal(classifyCp(11.2).state, 'A');
  assert.equal(classifyCp(9).state, 'B');
  assert.equal(classifyCp(6).state, 'C');
  assert.equal(classifyCp(3).state, 'D');
  assert.equal(classifyCp(0).state, 'E');
  assert.equal(classifyCp(-12).state, 'F');
  assert.equal(classifyCp(-5).state, 'invalid');
  assert.equal(classifyCp(20).state, 'invalid');
});

test('the diode check fails only with PWM, an EV present and a negative level not near -12 V', () => {
  assert.equal(classifyCp(9, -12).diodeFault, false);
  assert.equal(classifyCp(9, -9).diodeFault, true);
  assert.equal(classifyCp(9).diodeFault, false); // steady output: nothing to check
  assert.equal(classifyCp(12, -12).diodeFault, false);
});

test('PP resistance codes the cable rating', () => {
  assert.deepEqual(ppFromOhms(PP_NOMINAL_OHMS[13]), { status: 'ok', maxCurrentA: 13, ohms: 1500 });
  assert.equal(ppFromOhms(680).maxCurrentA, 20);
  assert.equal(ppFromOhms(220).maxCurrentA, 32);
  assert.equal(ppFromOhms(100).maxCurrentA, 63);
  assert.equal(ppFromOhms(Number.POSITIVE_INFINITY).status, 'none');
  assert.equal(ppFromOhms(3000).status, 'invalid');
  assert.equal(ppFromOhms(20).status, 'invalid');
});

test('the simulated board derives CP levels from the simulated EV', async () => {
  const board = new SimulatedBoard();
  await board.start();
  const ev = new SimulatedEv(board, { obeyPwm: false, cableMaxCurrentA: 20 });
  const states: string[] = [];
  board.on('cp', (reading) => states.push(reading.state));
  ev.plugIn();
  assert.equal(board.readCp().state, 'B');
  assert.equal(board.readPp().maxCurrentA, 20);
  ev.requestPower();
  assert.equal(board.readCp().state, 'C');
  board.setCp(CP_STATE_F);
  assert.equal(board.readCp().state, 'F');
  board.setCp(CP_NO_PWM);
  ev.stopPower();
  ev.unplug();
  assert.equal(board.readPp().status, 'none');
  await tick(1);
  assert.deepEqual(states, ['B', 'C', 'F', 'C', 'B', 'A']);
  ev.dispose();
  await board.stop();
});

test('the simulated board models the missing EV diode and the CP short', async () => {
  const board = new SimulatedBoard();
  await board.start();
  const ev = new SimulatedEv(board);
  ev.plugIn();
  board.setCp({ kind: 'pwm', dutyPercent: 53.3, frequencyHz: 1000 });
  assert.equal(board.readCp().diodeFault, false);
  ev.injectFault('diode_fault');
  assert.equal(board.readCp().diodeFault, true);
  ev.clearFault('diode_fault');
  ev.injectFault('cp_short');
  assert.equal(board.readCp().state, 'E');
  ev.dispose();
  await board.stop();
});

test('the obeying simulated EV closes S2 only while PWM is offered', async () => {
  const board = new SimulatedBoard();
  await board.start();
  const ev = new SimulatedEv(board);
  ev.plugIn();
  ev.requestPower();
  assert.equal(board.readCp().state, 'B');
  board.setCp({ kind: 'pwm', dutyPercent: 26.7, frequencyHz: 1000 });
  await tick(1);
  assert.equal(board.readCp().state, 'C');
  assert.deepEqual(ev.offer, { kind: 'current', amps: 16 });
  board.setCp(CP_NO_PWM);
  await tick(1);
  assert.equal(board.readCp().state, 'B');
  ev.dispose();
  await board.stop();
});

function contactorOn(board: SimulatedBoard, timeoutMs = 40) {
  const changes: Array<[ContactorState, SwitchFault | undefined]> = [];
  const contactor = new Contactor(board, systemTimers, timeoutMs, (state, fault) => changes.push([state, fault]));
  return { contactor, changes };
}

test('contactor: commands are confirmed by the delayed feedback', async () => {
  const board = new SimulatedBoard({ contactorDelayMs: 5 });
  await board.start();
  const { contactor, changes } = contactorOn(board);
  assert.equal(await contactor.engage(), true);
  assert.equal(board.contactorIsClosed, true);
  assert.equal(await contactor.release(), true);
  assert.deepEqual(changes.map((c) => c[0]), ['closing', 'closed', 'opening', 'open']);
  contactor.dispose();
  await board.stop();
});

test('contactor: a welded contactor ends in error (release_timeout)', async () => {
  const board = new SimulatedBoard({ contactorDelayMs: 5 });
  await board.start();
  const { contactor, changes } = contactorOn(board);
  await contactor.engage();
  board.injectFault('contactor_welded');
  assert.equal(await contactor.release(), false);
  assert.deepEqual(changes.at(-1), ['error', 'release_timeout']);
  assert.equal(contactor.confirmedOff, false);
  contactor.dispose();
  await board.stop();
});

test('contactor: one that fails to close ends in error and is commanded open again', async () => {
  const board = new SimulatedBoard({ contactorDelayMs: 5 });
  await board.start();
  board.injectFault('contactor_fails_to_close');
  const { contactor, changes } = contactorOn(board);
  assert.equal(await contactor.engage(), false);
  assert.deepEqual(changes.at(-1), ['error', 'engage_timeout']);
  assert.deepEqual(board.commands.filter((c) => c.kind === 'contactor').at(-1), { kind: 'contactor', closed: false });
  contactor.dispose();
  await board.stop();
});

test('contactor: without a feedback contact, a command counts as done', async () => {
  const board = new SimulatedBoard({ capabilities: { contactorFeedback: false } });
  await board.start();
  const { contactor, changes } = contactorOn(board);
  assert.equal(await contactor.engage(), true);
  assert.deepEqual(changes, [['closed', undefined]]);
  contactor.dispose();
  await board.stop();
});
