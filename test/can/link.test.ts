/**
 * The stack's end of the CAN interface on the in-process virtual bus, against the real kernel bus
 * and topic registry: a test node plays the controller frame by frame.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ControllerLink, encodeMessage, readRaw, VirtualCanBus, type CanApi, type CanFrame, type CanStats, type CanStatus } from '@opensecc/plugin-can';
import { recordingLogger } from '#support/log.js';
import { makeBus, shippedApi, sleep, waitFor } from './helpers.js';

const K = { kind: 'kernel', name: 'test' } as const;
let busNumber = 0;

async function setup() {
  const api = shippedApi();
  const bus = makeBus();
  const log = recordingLogger();
  const name = `link${++busNumber}`;
  const controller = VirtualCanBus.named(name).endpoint('test-controller');
  const received: CanFrame[] = [];
  controller.onFrame((f) => received.push(f));
  await controller.open();
  const traced: Array<'rx' | 'tx'> = [];
  const link = new ControllerLink({ api, transport: VirtualCanBus.named(name).endpoint('secc'), bus: bus.view(K), log, bitrate: 1_000_000, trace: (d) => traced.push(d) });
  await link.start();
  const send = (message: string, raws: Record<string, number>, patch?: (data: Uint8Array) => Uint8Array) => {
    const m = api.messages.find((x) => x.message.name === message)!.message;
    let data = encodeMessage(m, new Map(Object.entries(raws)));
    if (patch) data = patch(data);
    controller.send({ id: m.id, extended: true, data });
  };
  const lastFrame = (message: string) => {
    const m = api.messages.find((x) => x.message.name === message)!.message;
    return received.filter((f) => f.id === m.id).at(-1);
  };
  const signal = (api: CanApi, message: string, name: string, frame: CanFrame) => {
    const s = api.messages.find((x) => x.message.name === message)!.signals.find((x) => x.signal.name === name)!.signal;
    return readRaw(s, frame.data);
  };
  return { api, bus, log, link, controller, send, received, lastFrame, signal: (m: string, s: string, f: CanFrame) => signal(api, m, s, f), traced, stop: async () => { await link.stop(); await controller.close(); } };
}

test('stack → controller: the cyclic status carries the bus topics; signals not valid in the session state go out as SNA', async () => {
  const t = await setup();
  try {
    t.bus.publish('ci/charging/state', 'connected', K);
    t.bus.publish('ci/cp/state', 'B', K);
    t.bus.publish('ci/hlc/session/state', 'session_setup', K);
    t.bus.publish('ci/hlc/ev/soc', 42, K);
    t.bus.publish('ci/hlc/ev/target_voltage', { value: 4005, multiplier: -1, unit: 'V' }, K);
    const status = await waitFor('a status frame with state session_setup', () => {
      const f = t.lastFrame('SECC_Status');
      return f && t.signal('SECC_Status', 'HlcState', f) === 4 ? f : undefined;
    });
    assert.equal(t.signal('SECC_Status', 'ChargingState', status), 1, 'connected');
    assert.equal(t.signal('SECC_Status', 'CpState', status), 1, 'B');
    assert.equal(t.signal('SECC_Status', 'EvSoc', status), 255, 'SoC is not valid in session_setup: SNA');
    await sleep(120);
    assert.equal(t.signal('SECC_EvTargets', 'EvTargetVoltage', t.lastFrame('SECC_EvTargets')!), 0xffff, 'target voltage not valid before pre_charge: SNA');

    t.bus.publish('ci/hlc/session/state', 'pre_charge', K);
    await sleep(120);
    assert.equal(t.signal('SECC_Status', 'EvSoc', t.lastFrame('SECC_Status')!), 42);
    assert.equal(t.signal('SECC_EvTargets', 'EvTargetVoltage', t.lastFrame('SECC_EvTargets')!), 4005, '400.5 V at 0.1 V/bit');
    assert.ok(t.traced.includes('tx'));
    // The 48-bit EVCCID (hex on the bus) as one signal.
    t.bus.publish('ci/hlc/ev/evccid', '02005e0a0b0c', K);
    const id = await waitFor('SECC_EvId', () => {
      const f = t.lastFrame('SECC_EvId');
      return f && t.signal('SECC_EvId', 'EvccId', f) !== 2 ** 48 - 1 ? f : undefined;
    }, 3000);
    assert.equal(t.signal('SECC_EvId', 'EvccId', id), 0x02005e0a0b0c);
  } finally {
    await t.stop();
  }
});

test('controller → stack: values land on the ci/hlc/evse topics only in the states they are valid in', async () => {
  const t = await setup();
  try {
    t.bus.publish('ci/hlc/session/state', 'session_setup', K);
    t.send('EVSE_Present', { PresentVoltage: 3000, PresentCurrent: 100 });
    t.send('EVSE_Status', { EvseStatusCode: 1, IsolationStatus: 1, Authorization: 1, Processing: 0, StopCharging: 0, ErrorShutdown: 0 });
    await waitFor('authorization Accepted', () => t.bus.get('ci/hlc/evse/authorization') === 'Accepted');
    assert.equal(t.bus.get('ci/hlc/evse/present_voltage'), undefined, 'present voltage is not valid in session_setup');
    assert.equal(t.bus.get('ci/hlc/evse/isolation_status'), undefined, 'isolation status is not valid in session_setup');
    assert.equal(t.bus.get('ci/hlc/evse/status_code'), 'EVSE_Ready', 'status code is valid in every state');
    t.bus.publish('ci/hlc/session/state', 'cable_check', K);
    t.send('EVSE_Present', { PresentVoltage: 3000, PresentCurrent: 100 });
    t.send('EVSE_Status', { EvseStatusCode: 1, IsolationStatus: 1, Authorization: 2, Processing: 0, StopCharging: 0, ErrorShutdown: 0 });
    await waitFor('present voltage', () => t.bus.get('ci/hlc/evse/present_voltage'));
    assert.deepEqual(t.bus.get('ci/hlc/evse/present_voltage'), { value: 3000, multiplier: -1, unit: 'V' });
    assert.deepEqual(t.bus.get('ci/hlc/evse/present_current'), { value: 100, multiplier: -1, unit: 'A' });
    assert.equal(t.bus.get('ci/hlc/evse/isolation_status'), 'Valid');
    assert.equal(t.bus.get('ci/hlc/evse/authorization'), 'Accepted', 'authorization is no longer valid in cable_check: Rejected is not applied');
    assert.ok(t.link.counters.notValidInState > 0);
    // An optional value at SNA leaves its topic alone.
    assert.equal(t.bus.get('ci/hlc/evse/energy_to_be_delivered'), undefined);
  } finally {
    await t.stop();
  }
});

test('bad frames are counted, logged and ignored: nothing changes state', async () => {
  const t = await setup();
  // A healthy controller in the background, so that only the bad frames could change anything.
  const good = () => {
    t.send('EVSE_Status', { EvseStatusCode: 1, IsolationStatus: 1, Authorization: 1, Processing: 0, StopCharging: 0, ErrorShutdown: 0 });
    t.send('EVSE_Present', { PresentVoltage: 3000, PresentCurrent: 100 });
    t.send('EVSE_Limits', { MaxVoltage: 5000, MaxCurrent: 2000, MaxPower: 10000, MinVoltage: 1500 });
    t.send('EVSE_Limits2', { MinCurrent: 0, PeakCurrentRipple: 50, CurrentRegulationTolerance: 50 });
  };
  const feed = setInterval(good, 40);
  try {
    t.bus.publish('ci/hlc/session/state', 'charging', K);
    await waitFor('controller ok', () => t.bus.get<CanStatus>('ci/can/status')?.controller === 'ok');
    const snapshot = () => JSON.stringify(t.bus.snapshot('ci/hlc/#').map((m) => [m.topic, m.value]));
    const before = snapshot();
    const changes: string[] = [];
    t.bus.subscribe('ci/hlc/#', (m) => changes.push(m.topic));
    // wrong length
    t.send('EVSE_Present', { PresentVoltage: 1000, PresentCurrent: 50 }, (d) => d.subarray(0, 3));
    // out of range: 1600 V (raw 16000) > 1500 V
    t.send('EVSE_Present', { PresentVoltage: 16000, PresentCurrent: 50 });
    // a raw value without meaning (status code 9), with stop and error shutdown set: none of it applies
    t.send('EVSE_Status', { EvseStatusCode: 9, IsolationStatus: 1, Authorization: 1, Processing: 0, StopCharging: 1, ErrorShutdown: 1 });
    // unknown id in the stack's range, and an id the stack itself sends
    t.controller.send({ id: t.api.idRange.min + 0x1f0, extended: true, data: new Uint8Array(8) });
    t.controller.send({ id: t.api.messages.find((m) => m.message.name === 'SECC_Status')!.message.id, extended: true, data: new Uint8Array(8) });
    // foreign traffic: ignored, not bad
    t.controller.send({ id: 0x123, extended: false, data: new Uint8Array(2) });
    const stats = await waitFor('bad frames counted', () => {
      const s = t.bus.get<CanStats>('ci/can/stats');
      return s && s.badFrames.unknown_id === 1 && s.badFrames.wrong_direction === 1 ? s : undefined;
    });
    assert.deepEqual(stats.badFrames, { wrong_length: 1, unknown_id: 1, wrong_direction: 1, out_of_range: 2 });
    await waitFor('foreign frame counted', () => t.link.counters.foreignFrames === 1);
    await sleep(100);
    assert.deepEqual(changes, [], 'no HLC topic was written');
    assert.equal(snapshot(), before);
    assert.equal(t.bus.get('ci/hlc/evse/error_shutdown'), false);
    assert.equal(t.log.lines.filter((l) => l.level === 'warn' && /bad CAN frame ignored/.test(l.message)).length, 5);
    assert.ok(t.log.lines.some((l) => /outside \[0\|1500\]/.test(l.message)));
  } finally {
    clearInterval(feed);
    await t.stop();
  }
});

test('a controller message missing longer than its timeout: reported; during a session: error shutdown held for that session', async () => {
  const t = await setup();
  const feed = setInterval(() => {
    t.send('EVSE_Status', { EvseStatusCode: 1, IsolationStatus: 1, Authorization: 1, Processing: 0, StopCharging: 0, ErrorShutdown: 0 });
    t.send('EVSE_Present', { PresentVoltage: 3000, PresentCurrent: 100 });
    t.send('EVSE_Limits', { MaxVoltage: 5000, MaxCurrent: 2000, MaxPower: 10000, MinVoltage: 1500 });
    t.send('EVSE_Limits2', { MinCurrent: 0, PeakCurrentRipple: 50, CurrentRegulationTolerance: 50 });
  }, 40);
  const errors: unknown[] = [];
  t.bus.subscribe('ci/can/error', (m) => errors.push(m.value));
  try {
    t.bus.publish('ci/hlc/session/state', 'charging', K);
    await waitFor('controller ok', () => t.bus.get<CanStatus>('ci/can/status')?.controller === 'ok');
    assert.equal(t.bus.get('ci/hlc/evse/error_shutdown'), false);
    clearInterval(feed);
    const status = await waitFor('controller timeout', () => {
      const s = t.bus.get<CanStatus>('ci/can/status');
      return s?.errorShutdown ? s : undefined;
    });
    assert.equal(status.controller, 'timeout');
    assert.ok(status.missing.includes('EVSE_Present'));
    assert.equal(t.bus.get('ci/hlc/evse/error_shutdown'), true, 'error shutdown requested');
    assert.ok(errors.some((e) => (e as { code: string }).code === 'controller_timeout'));
    // The controller comes back: the shutdown is not lifted for this session.
    t.send('EVSE_Status', { EvseStatusCode: 1, IsolationStatus: 1, Authorization: 1, Processing: 0, StopCharging: 0, ErrorShutdown: 0 });
    await sleep(50);
    assert.equal(t.bus.get('ci/hlc/evse/error_shutdown'), true);
    // The session ends; a new one starts with the controller still (partly) silent: shut down again.
    t.bus.publish('ci/hlc/session/state', 'error', K);
    await waitFor('latch released', () => t.bus.get<CanStatus>('ci/can/status')?.errorShutdown === false);
    t.bus.publish('ci/hlc/evse/error_shutdown', false, K); // what the stack does at session start
    t.bus.publish('ci/hlc/session/state', 'session_setup', K);
    await waitFor('error shutdown again', () => t.bus.get('ci/hlc/evse/error_shutdown') === true);
  } finally {
    clearInterval(feed);
    await t.stop();
  }
});

test('no session running: a silent controller is reported, but nothing is shut down', async () => {
  const t = await setup();
  try {
    t.bus.publish('ci/hlc/session/state', 'idle', K);
    t.send('EVSE_Present', { PresentVoltage: 0, PresentCurrent: 0 });
    await waitFor('present timeout', () => t.bus.get<CanStatus>('ci/can/status')?.controller === 'timeout', 2000);
    await sleep(50);
    assert.equal(t.bus.get('ci/hlc/evse/error_shutdown'), undefined);
    assert.equal(t.bus.get<CanStatus>('ci/can/status')?.errorShutdown, false);
    assert.ok(t.log.lines.some((l) => l.level === 'error' && /EVSE_Present missing/.test(l.message)));
  } finally {
    await t.stop();
  }
});

test('a stalled process is not a silent controller: time the stack could not listen does not count', async () => {
  const t = await setup();
  const feed = () => {
    t.send('EVSE_Status', { EvseStatusCode: 1, IsolationStatus: 1, Authorization: 1, Processing: 0, StopCharging: 0, ErrorShutdown: 0 });
    t.send('EVSE_Present', { PresentVoltage: 3000, PresentCurrent: 100 });
    t.send('EVSE_Limits', { MaxVoltage: 5000, MaxCurrent: 2000, MaxPower: 10000, MinVoltage: 1500 });
    t.send('EVSE_Limits2', { MinCurrent: 0, PeakCurrentRipple: 50, CurrentRegulationTolerance: 50 });
  };
  const timer = setInterval(feed, 40);
  try {
    t.bus.publish('ci/hlc/session/state', 'charging', K);
    await waitFor('controller ok', () => t.bus.get<CanStatus>('ci/can/status')?.controller === 'ok');
    const until = Date.now() + 700; // longer than every controller timeout
    while (Date.now() < until) {
      // a long synchronous task blocks the event loop
    }
    await sleep(200);
    assert.equal(t.bus.get<CanStatus>('ci/can/status')?.controller, 'ok');
    assert.notEqual(t.bus.get('ci/hlc/evse/error_shutdown'), true);
  } finally {
    clearInterval(timer);
    await t.stop();
  }
});
