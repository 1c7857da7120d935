import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { canApiFrom, DbcError, parseDbc, readRaw, writeRaw, type CanSignal } from '@opensecc/plugin-can';
import { shippedApi } from './helpers.js';

const HEAD = `VERSION "t"\n\nNS_ :\n\tCM_\n\tBA_\n\nBS_:\n\nBU_: SECC EVSE_CTRL\n\n`;

function parseError(body: string): DbcError {
  try {
    parseDbc(HEAD + body, 'test.dbc');
  } catch (error) {
    assert.ok(error instanceof DbcError, `DbcError expected, got ${String(error)}`);
    return error;
  }
  assert.fail('the DBC parsed but should not');
}

test('the shipped database: 29-bit ids in the stack range, both directions, cycle times, controller timeouts, a topic on every signal', () => {
  const api = shippedApi();
  assert.equal(api.baudrate, 1_000_000);
  const names = api.messages.map((m) => `${m.direction}:${m.message.name}`);
  assert.ok(names.includes('tx:SECC_Status') && names.includes('tx:SECC_EvTargets') && names.includes('rx:EVSE_Status') && names.includes('rx:EVSE_Present') && names.includes('rx:EVSE_Limits'));
  for (const m of api.messages) {
    assert.ok(m.message.id > 0x7ff && m.message.id <= 0x1fffffff, `${m.message.name} has an extended id`);
    assert.ok(m.message.id >= api.idRange.min && m.message.id <= api.idRange.max);
    assert.ok(m.cycleMs > 0);
    if (m.direction === 'rx') assert.ok(m.timeoutMs > m.cycleMs, `${m.message.name} timeout`);
    for (const s of m.signals) assert.match(s.topic, /^ci\//);
  }
  // Everything the MQTT HLC topics carry in the controller's direction has a signal.
  const rxTopics = new Set(api.messages.filter((m) => m.direction === 'rx').flatMap((m) => m.signals.map((s) => s.topic)));
  for (const t of ['present_voltage', 'present_current', 'max_voltage', 'max_current', 'max_power', 'min_voltage', 'min_current', 'isolation_status', 'status_code', 'authorization', 'stop_charging', 'error_shutdown', 'processing', 'peak_current_ripple', 'current_regulation_tolerance', 'energy_to_be_delivered']) {
    assert.ok(rxTopics.has(`ci/hlc/evse/${t}`), `ci/hlc/evse/${t} carried`);
  }
  const txTopics = new Set(api.messages.filter((m) => m.direction === 'tx').flatMap((m) => m.signals.map((s) => s.topic)));
  for (const t of ['ci/charging/state', 'ci/hlc/session/state', 'ci/hlc/session/protocol', 'ci/hlc/ev/soc', 'ci/hlc/ev/ready', 'ci/hlc/ev/error_code', 'ci/hlc/ev/target_voltage', 'ci/hlc/ev/target_current', 'ci/hlc/ev/max_voltage', 'ci/hlc/ev/max_current']) {
    assert.ok(txTopics.has(t), `${t} carried`);
  }
  const present = api.messages.find((m) => m.message.name === 'EVSE_Present')!.signals[0]!;
  assert.deepEqual(present.validStates, new Set(['cable_check', 'pre_charge', 'power_delivery', 'charging', 'power_delivery_stop', 'welding_detection']));
});

test('strict parser: what it does not understand or what breaks a rule is an error with file and line', () => {
  const msg = 'BO_ 2566868992 SECC_Status: 8 SECC\n';
  const cases: Array<[string, RegExp]> = [
    [`${msg} SG_ A : 0|8@0+ (1,0) [0|100] "" EVSE_CTRL\n`, /big-endian \(Motorola/],
    ['BO_ 256 Std: 8 SECC\n SG_ A : 0|8@1+ (1,0) [0|100] "" EVSE_CTRL\n', /not a 29-bit extended id/],
    [`${msg} SG_ A : 0|8@1+ (1,0) [0|100] "" EVSE_CTRL\n SG_ B : 4|8@1+ (1,0) [0|100] "" EVSE_CTRL\n`, /overlaps A/],
    [`${msg} SG_ A : 60|8@1+ (1,0) [0|100] "" EVSE_CTRL\n`, /do not fit the 8-byte payload/],
    [`${msg} SG_ A : 0|8@1+ (1,0) [0|255] "" EVSE_CTRL\n`, /reserved for 'not available'/],
    [`${msg} SG_ A : 0|8@1+ (1,0) [0|100] "" EVSE_CTRL\nBA_ "Nope" SG_ 2566868992 A 1;\n`, /attribute Nope is not defined/],
    [`${msg} SG_ A : 0|8@1+ (1,0) [0|100] "" EVSE_CTRL\nSIG_VALTYPE_ 2566868992 A : 1;\n`, /unsupported DBC statement 'SIG_VALTYPE_'/],
    [`${msg} SG_ A M : 0|8@1+ (1,0) [0|100] "" EVSE_CTRL\n`, /multiplexed/],
    [`${msg} SG_ A : 0|8@1+ (1,0) [0|100] "" NOBODY\n`, /receiver NOBODY is not a node/],
    [`${msg} SG_ A : 0|8@1+ (1,0) [0|100] "" EVSE_CTRL\nVAL_ 2566868992 A 200 "x" ;\n`, /outside the range/],
    ['BO_ 2566868992 M: 9 SECC\n', /length 9 outside 0..8/],
  ];
  for (const [body, reason] of cases) {
    const error = parseError(body);
    assert.match(error.message, reason);
    assert.match(error.message, /^test\.dbc:\d+: /, `file and line in '${error.message}'`);
  }
  // The line is the offending one.
  assert.match(parseError(`${msg} SG_ A : 0|8@0+ (1,0) [0|100] "" EVSE_CTRL\n`).message, /^test\.dbc:12:/);
});

test('the interface rules on top of DBC: a topic per signal, ValidStates are session states, controller messages have timeouts', () => {
  const base = (extra: string, cycle = 'BA_ "GenMsgCycleTime" BO_ 2566869248 100;\nBA_ "TimeoutMs" BO_ 2566869248 500;\n') =>
    parseDbc(
      `${HEAD}BO_ 2566868992 S: 1 SECC\n SG_ State : 0|8@1+ (1,0) [0|2] "" EVSE_CTRL\nBO_ 2566869248 C: 1 EVSE_CTRL\n SG_ V : 0|8@1+ (1,0) [0|100] "V" SECC\n` +
        `BA_DEF_ "IdRangeMin" HEX 0 536870911;\nBA_DEF_ "IdRangeMax" HEX 0 536870911;\nBA_DEF_ BO_ "GenMsgCycleTime" INT 0 65535;\nBA_DEF_ BO_ "TimeoutMs" INT 0 65535;\nBA_DEF_ SG_ "Topic" STRING ;\nBA_DEF_ SG_ "ValidStates" STRING ;\n` +
        `BA_ "IdRangeMin" 419385344;\nBA_ "IdRangeMax" 419385855;\nBA_ "GenMsgCycleTime" BO_ 2566868992 100;\n${cycle}` +
        `BA_ "Topic" SG_ 2566868992 State "ci/hlc/session/state";\nVAL_ 2566868992 State 0 "idle" 1 "charging" 2 "stopped" 255 "SNA" ;\n${extra}`,
      'rules.dbc',
    );
  const ok = canApiFrom(base('BA_ "Topic" SG_ 2566869248 V "ci/hlc/evse/present_voltage";\nBA_ "ValidStates" SG_ 2566869248 V "charging";\n'));
  assert.equal(ok.messages[1]!.signals[0]!.kind, 'physical');
  assert.throws(() => canApiFrom(base('')), /C\.V: attribute Topic missing/);
  assert.throws(() => canApiFrom(base('BA_ "Topic" SG_ 2566869248 V "ci/hlc/evse/present_voltage";\nBA_ "ValidStates" SG_ 2566869248 V "flying";\n')), /'flying', which is not a session state/);
  assert.throws(() => canApiFrom(base('BA_ "Topic" SG_ 2566869248 V "ci/hlc/evse/present_voltage";\n', 'BA_ "GenMsgCycleTime" BO_ 2566869248 100;\n')), /TimeoutMs 0 must exceed its cycle time 100/);
});

test('raw signal values round-trip through the payload at any position and length, without touching other bits', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 64 }), fc.nat(63), fc.boolean(), fc.uint8Array({ minLength: 8, maxLength: 8 }), fc.double({ min: 0, max: 1, noNaN: true }), (length, start, signed, payload, fraction) => {
      fc.pre(start + length <= 64 && length <= 52);
      const signal = { name: 'X', startBit: start, length, signed, byteOrder: 'little_endian', factor: 1, offset: 0, min: 0, max: 0, unit: '', receivers: [], comment: '', values: new Map(), attributes: {}, sna: undefined } as CanSignal;
      const span = 2 ** length;
      const raw = signed ? Math.floor(fraction * (span - 1)) - span / 2 : Math.floor(fraction * (span - 1));
      const data = Uint8Array.from(payload);
      writeRaw(signal, data, raw);
      assert.equal(readRaw(signal, data), raw);
      for (let bit = 0; bit < 64; bit++) {
        if (bit >= start && bit < start + length) continue;
        assert.equal((data[bit >> 3]! >> (bit & 7)) & 1, (payload[bit >> 3]! >> (bit & 7)) & 1, `bit ${bit} untouched`);
      }
    }),
    { numRuns: 500 },
  );
});

test('the plugin manifest lets it read every topic the stack sends and write every topic the controller sends', async () => {
  const { manifest } = await import('@opensecc/plugin-can');
  const matches = (pattern: string, topic: string) => {
    const p = pattern.split('/');
    const t = topic.split('/');
    for (let i = 0; i < p.length; i++) {
      if (p[i] === '#') return true;
      if (p[i] !== '+' && p[i] !== t[i]) return false;
    }
    return p.length === t.length;
  };
  for (const m of shippedApi().messages) {
    for (const s of m.signals) {
      const allowed = m.direction === 'tx' ? manifest.bus!.read! : manifest.bus!.write!;
      assert.ok(allowed.some((p) => matches(p, s.topic)), `${m.message.name}.${s.signal.name}: ${s.topic} in bus.${m.direction === 'tx' ? 'read' : 'write'}`);
      if (m.direction === 'rx') assert.match(s.topic, /^ci\/hlc\/evse\//, 'the controller writes only the publishable EVSE topics');
    }
  }
});
