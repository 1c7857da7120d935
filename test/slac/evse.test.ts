import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MemorySegment,
  SimulatedControlPilot,
  SlacEv,
  SlacEvse,
  SLAC_MATCH_TOPIC,
  SLAC_STATE_TOPIC,
  decodeFrame,
  encodeFrame,
  nidFromNmk,
  type DecodedFrame,
  type SlacEvseState,
  type SlacMatchReport,
} from '@opensecc/core/slac/index';
import { FAST_TIMERS, TestBus, delay, recordingLogger, waitForEvent } from './helpers/test-kit.js';

const EVSE_MAC = '02:00:00:00:00:05';
const EV_MAC = '02:00:00:00:00:0e';
const MODEM_MAC = '00:b0:52:00:00:01';

function setup(options: { cp?: SimulatedControlPilot; timers?: Partial<typeof FAST_TIMERS> } = {}) {
  const segment = new MemorySegment();
  const traffic: DecodedFrame[] = [];
  const sizes: number[] = [];
  segment.tap((frame) => {
    sizes.push(frame.length);
    const result = decodeFrame(frame);
    if (result.ok) traffic.push(result.frame);
  });
  const { log, records } = recordingLogger();
  const bus = new TestBus();
  const states: SlacEvseState[] = [];
  const evse = new SlacEvse({ link: segment.attach(EVSE_MAC, 'evse'), log, bus, controlPilot: options.cp, timers: { ...FAST_TIMERS, ...options.timers } });
  evse.on('state', (s) => states.push(s));
  const ev = (evOptions: Partial<ConstructorParameters<typeof SlacEv>[0]> = {}) =>
    new SlacEv({ link: segment.attach(EV_MAC, 'ev'), log, timers: FAST_TIMERS, ...evOptions });
  return { segment, traffic, sizes, log, records, bus, evse, ev, states };
}

const sentBy = (traffic: DecodedFrame[], mac: string, name: string) => traffic.filter((f) => f.src === mac && f.name === name);

test('EVSE and EV match over the in-memory link: keys, RunID echo, bus topics, 5 % PWM', async () => {
  const cp = new SimulatedControlPilot('A');
  const { evse, ev, bus, traffic, sizes, states, records } = setup({ cp });
  evse.start();
  assert.equal(evse.state, 'idle');
  cp.set('B');
  assert.equal(cp.fivePercent, true, '5 % requested when the vehicle is connected');
  assert.equal(evse.state, 'waiting_for_parm');

  const result = await ev().match();
  assert.equal(result.ok, true, result.reason);
  assert.equal(result.evseMac, EVSE_MAC);
  assert.equal(result.nid, evse.nid);
  assert.equal(result.nid, nidFromNmk(Buffer.from(result.nmk!, 'hex')).toString('hex'), 'NID derived from the session NMK');
  assert.equal(evse.state, 'matched');
  assert.deepEqual(states, ['waiting_for_parm', 'sounding', 'matching', 'matched']);

  // The EVSE gave its modem the same key it gave the EV.
  const setKey = sentBy(traffic, EVSE_MAC, 'CM_SET_KEY.REQ');
  assert.equal(setKey.length, 1);
  assert.equal(setKey[0]!.dst, MODEM_MAC);
  assert.equal(setKey[0]!.fields.newKey, result.nmk);
  assert.equal(setKey[0]!.fields.nid, result.nid);

  // RunID echoed exactly in every answer.
  for (const name of ['CM_SLAC_PARM.CNF', 'CM_ATTEN_CHAR.IND', 'CM_SLAC_MATCH.CNF']) {
    const frames = sentBy(traffic, EVSE_MAC, name);
    assert.ok(frames.length >= 1, name);
    for (const f of frames) assert.equal(f.fields.runId, result.runId, `${name} RunID`);
  }
  const atten = sentBy(traffic, EVSE_MAC, 'CM_ATTEN_CHAR.IND')[0]!;
  assert.equal(atten.dst, EV_MAC);
  assert.ok((atten.fields.numGroups as number) <= 58);
  assert.ok(sizes.every((n) => n >= 60), 'every frame on the wire is at least 60 bytes');

  assert.deepEqual(bus.values(SLAC_STATE_TOPIC), ['idle', 'waiting_for_parm', 'sounding', 'matching', 'matched']);
  const report = bus.get<SlacMatchReport>(SLAC_MATCH_TOPIC)!;
  assert.equal(report.result, 'matched');
  assert.equal(report.ev_mac, EV_MAC);
  assert.equal(report.run_id, result.runId);
  assert.equal(report.nid, result.nid);
  assert.equal(report.attenuation!.num_groups, 58);
  assert.equal(report.attempts, 1);
  assert.ok(!JSON.stringify(report).includes(result.nmk!), 'the NMK is not published');

  // Every step is logged with the EV's MAC.
  for (const msg of ['CM_SLAC_PARM.REQ received: matching attempt started', 'sounding finished: attenuation profile', 'CM_SLAC_MATCH.CNF sent: matched']) {
    const record = records.find((r) => r.msg === msg);
    assert.ok(record, msg);
    assert.equal(record.evMac, EV_MAC, `${msg} names the EV`);
  }
  evse.stop();
});

test('the attenuation profile from the modem is averaged and cut to 58 groups', async () => {
  const { segment, evse, ev, traffic } = setup();
  // A fake local modem: for every sound it reports a 60-group profile (more than the standard allows).
  const modem = segment.attach('00:b0:52:00:00:99', 'modem');
  let n = 0;
  modem.onFrame((raw) => {
    const r = decodeFrame(raw);
    if (!r.ok || r.frame.name !== 'CM_MNBC_SOUND.IND') return;
    const level = n++ % 2 === 0 ? 20 : 31; // alternating, so the average is 25.5 → 26
    const aag = Array.from({ length: 60 }, (_, g) => level + (g % 3));
    // Built by hand: our encoder refuses more than 58 groups.
    const head = encodeFrame('CM_ATTEN_PROFILE.IND', { pevMac: r.frame.src, numGroups: 0, reserved: 0, aag: [] }, { dst: 'ff:ff:ff:ff:ff:ff', src: modem.mac }, { pad: false });
    head[19 + 6] = aag.length;
    modem.send(Buffer.concat([head, Buffer.from(aag)]));
  });
  evse.start();
  const result = await ev().match();
  assert.equal(result.ok, true, result.reason);
  const atten = sentBy(traffic, EVSE_MAC, 'CM_ATTEN_CHAR.IND')[0]!;
  assert.equal(atten.fields.numGroups, 58);
  assert.equal(atten.fields.numSounds, 10);
  const aag = atten.fields.aag as number[];
  assert.equal(aag.length, 58);
  assert.deepEqual(aag.slice(0, 3), [26, 27, 28]); // (20+31)/2 + g%3, rounded
  assert.equal(evse.lastResult!.attenuation!.profile.length, 58);
  evse.stop();
});

test('frames addressed to a local modem and foreign requests are ignored', async () => {
  const { segment, evse, traffic } = setup();
  evse.start();
  const setKey = { keyType: 1, myNonce: 'aaaaaaaa', yourNonce: '00000000', pid: 4, prn: 0, pmn: 0, ccoCapability: 0, nid: '01020304050607', newEks: 1, newKey: '77'.repeat(16) };
  // The EV host's CM_SET_KEY.REQ to its own modem, broadcast (as pyPLC sends it) and to the QCA local address.
  segment.inject(encodeFrame('CM_SET_KEY.REQ', setKey, { dst: 'ff:ff:ff:ff:ff:ff', src: EV_MAC }));
  segment.inject(encodeFrame('CM_SET_KEY.REQ', setKey, { dst: MODEM_MAC, src: EV_MAC }));
  segment.inject(encodeFrame('VS_SW_VER.REQ', { oui: '00b052' }, { dst: MODEM_MAC, src: EV_MAC }));
  // A SLAC request addressed to another station is not ours either.
  segment.inject(encodeFrame('CM_SLAC_PARM.REQ', { applicationType: 0, securityType: 0, runId: '11'.repeat(8) }, { dst: '02:00:00:00:00:77', src: EV_MAC }));
  await delay(50);
  assert.deepEqual(traffic.filter((f) => f.src === EVSE_MAC).map((f) => f.name), ['CM_SET_KEY.REQ'], 'the EVSE only sent its own CM_SET_KEY.REQ');
  assert.equal(evse.state, 'waiting_for_parm');
  evse.stop();
});

test('malformed frames are dropped with a report and the EVSE still matches afterwards', async () => {
  const { segment, evse, ev, records } = setup();
  const dropped: string[] = [];
  evse.on('dropped', ({ error }) => dropped.push(error.message));
  evse.start();
  const parm = encodeFrame('CM_SLAC_PARM.REQ', { applicationType: 0, securityType: 0, runId: '11'.repeat(8) }, { dst: 'ff:ff:ff:ff:ff:ff', src: EV_MAC }, { pad: false });
  const attenShort = encodeFrame('CM_ATTEN_PROFILE.IND', { pevMac: EV_MAC, numGroups: 3, reserved: 0, aag: [1, 2, 3] }, { dst: EVSE_MAC, src: MODEM_MAC }, { pad: false });
  attenShort[19 + 6] = 250; // claims 250 groups
  segment.inject(attenShort);
  const notHomePlug = Buffer.from(parm);
  notHomePlug.writeUInt16BE(0x0800, 12);
  segment.inject(notHomePlug);
  await delay(30);
  assert.equal(evse.droppedFrames, 2);
  assert.equal(dropped.length, 2);
  assert.match(dropped[0]!, /CM_ATTEN_PROFILE\.IND is truncated: field 'aag' needs 250 bytes/);
  assert.match(dropped[1]!, /not a HomePlug AV frame: EtherType 0x0800/);
  assert.equal(records.filter((r) => r.msg === 'dropped a malformed HomePlug frame').length, 2);
  const result = await ev().match();
  assert.equal(result.ok, true, result.reason);
  evse.stop();
});

test('EV and EVSE disagree on the RunID in CM_SLAC_MATCH.REQ: both time out, retry, and fail cleanly', async () => {
  const cp = new SimulatedControlPilot('B');
  const { evse, ev, records, bus } = setup({ cp });
  evse.start();
  const failed = waitForEvent<SlacMatchReport>(evse, 'result', (r) => r.result === 'failed');
  const result = await ev({ faults: { matchRunId: 'ffffffffffffffff' } }).match();
  assert.equal(result.ok, false);
  assert.equal(result.attempts, 3, 'C_EV_match_retry = 2 retries after the first attempt');
  assert.match(result.reason!, /no CM_SLAC_MATCH\.CNF within TT_match_response/);
  const report = await failed;
  assert.equal(evse.state, 'failed');
  assert.equal(report.attempts, 3);
  assert.ok(records.some((r) => r.msg === 'CM_SLAC_MATCH.REQ ignored: RunID mismatch' && r.runId === 'ffffffffffffffff'));
  assert.equal(cp.failures.length, 1, 'the control pilot is told to leave 5 %');
  assert.equal(bus.get(SLAC_STATE_TOPIC), 'failed');
  evse.stop();
});

test('missing CM_SLAC_MATCH.REQ: TT_EVSE_match_session expires, the EVSE waits for a retry, then fails cleanly', async () => {
  const cp = new SimulatedControlPilot('B');
  const { evse, ev, states, records } = setup({ cp });
  evse.start();
  const failed = waitForEvent<SlacMatchReport>(evse, 'result', (r) => r.result === 'failed');
  const result = await ev({ faults: { skipMatchRequest: true } }).match();
  assert.equal(result.ok, false);
  const report = await failed;
  // matching → (TT_EVSE_match_session) → waiting_for_parm → (TT_EVSE_SLAC_init, the EV stays silent) → failed
  assert.deepEqual(states, ['waiting_for_parm', 'sounding', 'matching', 'waiting_for_parm', 'failed']);
  assert.ok(records.some((r) => r.msg === 'SLAC matching attempt failed' && /no CM_SLAC_MATCH\.REQ within TT_EVSE_match_session/.test(String(r.reason))));
  assert.match(report.reason!, /TT_EVSE_SLAC_init/);
  assert.equal(cp.failures.length, 1);
  evse.stop();
});

test('a silent EV: TT_EVSE_SLAC_init expires and SLAC fails cleanly; unplug and replug start over', async () => {
  const cp = new SimulatedControlPilot('A');
  const { evse, ev, bus, states } = setup({ cp });
  evse.start();
  cp.set('B');
  const firstNid = evse.nid;
  const report = await waitForEvent<SlacMatchReport>(evse, 'result');
  assert.equal(report.result, 'failed');
  assert.match(report.reason!, /no CM_SLAC_PARM\.REQ within TT_EVSE_SLAC_init/);
  assert.equal(report.ev_mac, null);
  assert.equal(cp.failures.length, 1);
  assert.deepEqual(states, ['waiting_for_parm', 'failed']);

  // A request now is ignored until the vehicle is unplugged.
  cp.set('A');
  assert.equal(evse.state, 'idle');
  cp.set('B');
  assert.equal(evse.state, 'waiting_for_parm');
  assert.notEqual(evse.nid, firstNid, 'a new NMK/NID for the new plug-in session');
  const result = await ev().match();
  assert.equal(result.ok, true, result.reason);
  assert.equal(result.nid, evse.nid);
  assert.equal(bus.get<SlacMatchReport>(SLAC_MATCH_TOPIC)!.result, 'matched');
  evse.stop();
});

test('control pilot E/F aborts the session; back in B it restarts with new keys', async () => {
  const cp = new SimulatedControlPilot('B');
  const { evse, ev, states } = setup({ cp, timers: { evseSlacInitMs: 5_000 } });
  evse.start();
  const nid = evse.nid;
  cp.set('F');
  assert.equal(evse.state, 'idle');
  assert.equal(evse.nid, undefined);
  cp.set('C'); // B → C while unmatched is a plugged-in state too
  assert.equal(evse.state, 'waiting_for_parm');
  assert.notEqual(evse.nid, nid);
  const result = await ev().match();
  assert.equal(result.ok, true, result.reason);
  cp.set('E');
  assert.equal(evse.state, 'idle');
  assert.deepEqual(states, ['waiting_for_parm', 'idle', 'waiting_for_parm', 'sounding', 'matching', 'matched', 'idle']);
  evse.stop();
});

test('a lost CM_SLAC_PARM.CNF or CM_SLAC_MATCH.CNF is answered again when the EV repeats its request', async () => {
  const { segment, evse, traffic } = setup();
  evse.start();
  const runId = '0465650064c30000';
  const parm = encodeFrame('CM_SLAC_PARM.REQ', { applicationType: 0, securityType: 0, runId }, { dst: 'ff:ff:ff:ff:ff:ff', src: EV_MAC });
  segment.inject(parm);
  await delay(10);
  segment.inject(parm);
  await delay(10);
  const cnfs = sentBy(traffic, EVSE_MAC, 'CM_SLAC_PARM.CNF');
  assert.equal(cnfs.length, 2);
  assert.ok(cnfs.every((c) => c.fields.runId === runId && c.fields.forwardingSta === EV_MAC && c.dst === EV_MAC));
  assert.equal(evse.state, 'sounding');
  evse.stop();
});

test('crosstalk: a neighbour EV sounding at the same time neither disturbs nor fails our match', async () => {
  const cp = new SimulatedControlPilot('B');
  const { segment, evse, ev, log, states, records } = setup({ cp });
  evse.start();
  // The neighbour hears us through the cable duct but finds us too far away (its limit is below our attenuation).
  const neighbour = new SlacEv({ link: segment.attach('02:00:00:00:00:99', 'neighbour'), log, timers: FAST_TIMERS, maxAttenuationDb: 5 });
  const [ours, theirs] = await Promise.all([ev().match(), neighbour.match()]);
  assert.equal(ours.ok, true, ours.reason);
  assert.equal(theirs.ok, false);
  // It turned us down (or lost its attempt when we matched our EV); after that its retries went unanswered.
  assert.ok(records.some((r) => r.iface === 'neighbour' && r.msg === 'EV matching attempt failed'));
  assert.match(theirs.reason!, /no CM_SLAC_PARM\.CNF/);
  assert.ok(records.some((r) => r.msg === 'CM_SLAC_PARM.REQ from another EV ignored: already matched'));
  assert.equal(evse.matchedEv, EV_MAC);
  assert.equal(evse.state, 'matched');
  assert.ok(!states.includes('failed'));
  assert.equal(evse.lastResult!.ev_mac, EV_MAC);
  evse.stop();
});

test('with checkLink the EVSE polls the Qualcomm modem until the EV joined', async () => {
  const segment = new MemorySegment();
  const { log, records } = recordingLogger();
  const evse = new SlacEvse({ link: segment.attach(EVSE_MAC, 'evse'), log, timers: FAST_TIMERS, checkLink: true });
  // A fake local modem: the link comes up on the second status request.
  const modem = segment.attach('00:b0:52:00:00:42', 'modem');
  let polls = 0;
  modem.onFrame((raw) => {
    const r = decodeFrame(raw);
    if (!r.ok || r.frame.name !== 'VS_PL_LNK_STATUS.REQ' || r.frame.dst !== MODEM_MAC) return;
    polls++;
    modem.send(encodeFrame('VS_PL_LNK_STATUS.CNF', { oui: '00b052', status: 0, linkStatus: polls >= 2 ? 1 : 0 }, { dst: EVSE_MAC, src: modem.mac }));
  });
  const link = waitForEvent<{ evMac: string; up: boolean }>(evse, 'link');
  evse.start();
  const result = await new SlacEv({ link: segment.attach(EV_MAC, 'ev'), log, timers: FAST_TIMERS }).match();
  assert.equal(result.ok, true, result.reason);
  assert.deepEqual(await link, { evMac: EV_MAC, up: true });
  assert.equal(polls, 2);
  assert.ok(records.some((r) => r.msg === 'powerline link up: the EV joined the network'));
  evse.stop();
});
