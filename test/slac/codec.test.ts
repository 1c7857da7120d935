import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  MESSAGE_SPECS,
  SlacEncodeError,
  decodeFrame,
  encodeFrame,
  mmtypeName,
  nidFromNmk,
  padFrame,
  type MessageName,
} from '@opensecc/core/slac/index';
import { CAPTURE_DIR, fixtureNames, loadFixture } from './helpers/fixtures.js';
import { homePlugFrames } from './helpers/pcapng.js';

const EV = '02:00:00:00:00:0e';
const EVSE = '02:00:00:00:00:05';

/** A plausible value for every field of every known message, so each layout is exercised both ways. */
function sampleFields(name: MessageName): Record<string, unknown> {
  const spec = MESSAGE_SPECS.find((s) => s.name === name)!;
  const fields: Record<string, unknown> = {};
  spec.fields.forEach(({ name: field, kind }, i) => {
    switch (kind.t) {
      case 'u8': fields[field] = (i * 7 + 1) & 0xff; break;
      case 'u16': fields[field] = 0x0102 + i; break;
      case 'mac': fields[field] = `02:00:00:00:00:${(i + 16).toString(16)}`; break;
      case 'hex': fields[field] = Buffer.alloc(kind.length, i + 1).toString('hex'); break;
      case 'u8list': fields[field] = [10, 20, 30, 40, 50]; break;
      case 'nibbles': fields[field] = [1, 2, 3, 15, 0]; break;
      case 'text8': fields[field] = 'MAC-QCA7000-1.2.3'; break;
      case 'rest': fields[field] = 'aabbcc'; break;
    }
  });
  // Derived counts are recomputed by the encoder.
  if ('numGroups' in fields) fields.numGroups = 5;
  if ('amlen' in fields) fields.amlen = 5;
  return fields;
}

test('every known message encodes and decodes back to the same fields', () => {
  for (const spec of MESSAGE_SPECS) {
    const name = spec.name as MessageName;
    const fields = sampleFields(name);
    const frame = encodeFrame(name, fields as never, { dst: EV, src: EVSE });
    const result = decodeFrame(frame);
    assert.ok(result.ok, `${name}: ${!result.ok && result.error.message}`);
    assert.equal(result.frame.name, name);
    assert.equal(result.frame.mmtype, spec.mmtype);
    assert.equal(result.frame.mmv, spec.mmv);
    assert.equal(result.frame.dst, EV);
    assert.equal(result.frame.src, EVSE);
    for (const [key, value] of Object.entries(fields)) {
      if (spec.fields.find((f) => f.name === key)?.kind.t === 'rest') {
        assert.ok(String(result.frame.fields[key]).startsWith(String(value)), `${name}.${key}`);
      } else {
        assert.deepEqual(result.frame.fields[key], value, `${name}.${key}`);
      }
    }
  }
});

test('frames are laid out as on the wire: EtherType 0x88E1, MMV, little-endian MMTYPE, fragmentation bytes', () => {
  const frame = encodeFrame('CM_SLAC_PARM.REQ', { applicationType: 0, securityType: 0, runId: '0102030405060708' }, { dst: 'ff:ff:ff:ff:ff:ff', src: EV });
  assert.equal(frame.length, 60, 'padded to the Ethernet minimum');
  assert.equal(
    frame.subarray(0, 29).toString('hex'),
    'ffffffffffff' + '02000000000e' + '88e1' + '01' + '6460' + '0000' + '0000' + '0102030405060708',
  );
  assert.ok(frame.subarray(29).every((b) => b === 0), 'padding is zeros');
});

test('a short frame is padded to 60 bytes; a long one is left alone', () => {
  assert.equal(padFrame(Buffer.alloc(29, 1)).length, 60);
  assert.deepEqual(padFrame(Buffer.alloc(29, 1)).subarray(0, 29), Buffer.alloc(29, 1));
  assert.equal(padFrame(Buffer.alloc(129, 1)).length, 129);
  const unpadded = encodeFrame('CM_VALIDATE.REQ', { signalType: 0, timer: 0, result: 1 }, { dst: EV, src: EVSE }, { pad: false });
  assert.equal(unpadded.length, 22);
  assert.ok(decodeFrame(unpadded).ok, 'an unpadded frame (as a veth delivers it) still decodes');
});

test('the attenuation profile never exceeds 58 groups when encoding', () => {
  const base = { applicationType: 0, securityType: 0, sourceAddress: EV, runId: '00'.repeat(8), sourceId: '00'.repeat(17), respId: '00'.repeat(17), numSounds: 10 };
  assert.doesNotThrow(() => encodeFrame('CM_ATTEN_CHAR.IND', { ...base, numGroups: 58, aag: new Array(58).fill(20) }, { dst: EV, src: EVSE }));
  assert.throws(
    () => encodeFrame('CM_ATTEN_CHAR.IND', { ...base, numGroups: 59, aag: new Array(59).fill(20) }, { dst: EV, src: EVSE }),
    (e: unknown) => e instanceof SlacEncodeError && /aag.*59 entries, at most 58/.test(e.message),
  );
});

test('bad field values are rejected with the message and field named', () => {
  assert.throws(
    () => encodeFrame('CM_SLAC_PARM.REQ', { applicationType: 0, securityType: 0, runId: '0102' }, { dst: EV, src: EVSE }),
    /CM_SLAC_PARM\.REQ: field 'runId' must be 8 bytes of hex/,
  );
  assert.throws(() => encodeFrame('CM_SLAC_PARM.REQ', { applicationType: 300, securityType: 0, runId: '00'.repeat(8) }, { dst: EV, src: EVSE }), /applicationType/);
  assert.throws(() => encodeFrame('CM_SLAC_PARM.REQ', { applicationType: 0, securityType: 0, runId: '00'.repeat(8) }, { dst: 'nope', src: EVSE }), /field 'dst'/);
});

test('malformed frames are reported with what and where, never thrown', () => {
  const good = encodeFrame('CM_SLAC_MATCH.REQ', sampleFields('CM_SLAC_MATCH.REQ') as never, { dst: EVSE, src: EV }, { pad: false });
  const truncated = decodeFrame(good.subarray(0, 65));
  assert.equal(truncated.ok, false);
  assert.match(!truncated.ok ? truncated.error.reason : '', /CM_SLAC_MATCH\.REQ is truncated: field 'evseMac'/);
  assert.match(!truncated.ok ? truncated.error.at : '', /^byte 63 \(field evseMac of CM_SLAC_MATCH\.REQ\)$/);

  const ipv4 = Buffer.from(good);
  ipv4.writeUInt16BE(0x0800, 12);
  const notHomePlug = decodeFrame(ipv4);
  assert.equal(notHomePlug.ok, false);
  assert.match(!notHomePlug.ok ? notHomePlug.error.reason : '', /EtherType 0x0800/);

  for (const length of [0, 5, 13, 14, 16, 18]) {
    const result = decodeFrame(good.subarray(0, length));
    assert.equal(result.ok, false, `${length}-byte frame`);
  }

  // The attenuation profile claims more groups than the frame holds.
  const atten = encodeFrame('CM_ATTEN_CHAR.IND', { applicationType: 0, securityType: 0, sourceAddress: EV, runId: '00'.repeat(8), sourceId: '00'.repeat(17), respId: '00'.repeat(17), numSounds: 10, numGroups: 3, aag: [1, 2, 3] }, { dst: EV, src: EVSE }, { pad: false });
  atten[atten.length - 4] = 58;
  const overlong = decodeFrame(atten);
  assert.equal(overlong.ok, false);
  assert.match(!overlong.ok ? overlong.error.reason : '', /'aag' needs 58 bytes \(numGroups = 58\)/);
});

test('decoding never throws, whatever the bytes (property)', () => {
  const seeds = MESSAGE_SPECS.map((s) => encodeFrame(s.name as MessageName, sampleFields(s.name as MessageName) as never, { dst: EV, src: EVSE }));
  fc.assert(
    fc.property(fc.nat(seeds.length - 1), fc.nat(200), fc.array(fc.tuple(fc.nat(199), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), (which, cut, flips) => {
      const frame = Buffer.from(seeds[which]!.subarray(0, cut));
      for (const [at, value] of flips) if (at < frame.length) frame[at] = value;
      const result = decodeFrame(frame);
      assert.equal(typeof result.ok, 'boolean');
    }),
    { numRuns: 2000 },
  );
  fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), (bytes) => void decodeFrame(bytes)), { numRuns: 1000 });
});

test('unknown and vendor message types get readable names', () => {
  assert.equal(mmtypeName(0x6064), 'CM_SLAC_PARM.REQ');
  assert.equal(mmtypeName(0xa069), 'VS_OP_ATTR.CNF');
  assert.equal(mmtypeName(0xa14e), 'VS_0xA14C.IND');
  assert.equal(mmtypeName(0x6005), 'MME_0x6004.CNF');
});

test('NID is derived from the NMK as HomePlug AV specifies (vector from a Compleo charger)', () => {
  // The Compleo charger's CM_SLAC_MATCH.CNF in the committed fixture carries this NMK and NID.
  assert.equal(nidFromNmk(Buffer.from('c0e93e076fe0ea3850f88ac39b87dc2f', 'hex')).toString('hex'), '4c53a6137fd300');
});

test('every HomePlug frame in the committed fixtures decodes', () => {
  const names = fixtureNames();
  assert.deepEqual(names, ['compleo', 'ioniq', 'tesla-model-y']);
  for (const name of names) {
    const { frames } = loadFixture(name);
    assert.ok(frames.length > 40, `${name} has SLAC traffic`);
    const seen = new Set<string>();
    for (const [i, frame] of frames.entries()) {
      const result = decodeFrame(frame);
      assert.ok(result.ok, `${name} frame ${i}: ${!result.ok && result.error.message}`);
      seen.add(result.frame.name);
    }
    for (const expected of ['CM_SLAC_PARM.REQ', 'CM_SLAC_PARM.CNF', 'CM_START_ATTEN_CHAR.IND', 'CM_MNBC_SOUND.IND', 'CM_ATTEN_CHAR.IND', 'CM_ATTEN_CHAR.RSP', 'CM_SLAC_MATCH.REQ', 'CM_SLAC_MATCH.CNF', 'CM_SET_KEY.REQ', 'CM_SET_KEY.CNF']) {
      assert.ok(seen.has(expected), `${name} contains ${expected}`);
    }
  }
  // Field values the real peers sent.
  const ioniq = loadFixture('ioniq').frames.map((f) => decodeFrame(f)).flatMap((r) => (r.ok ? [r.frame] : []));
  const atten = ioniq.find((f) => f.name === 'CM_ATTEN_CHAR.IND')!;
  assert.equal(atten.fields.numGroups, 58);
  assert.equal(atten.fields.numSounds, 10);
  const match = ioniq.find((f) => f.name === 'CM_SLAC_MATCH.REQ')!;
  assert.equal(match.fields.mvfLength, 0x3e);
  assert.equal(match.fields.pevMac, '04:65:65:00:64:c3');
  assert.equal(match.fields.runId, '0465650064c30000');
  const tesla = loadFixture('tesla-model-y').frames.map((f) => decodeFrame(f)).flatMap((r) => (r.ok ? [r.frame] : []));
  assert.equal(tesla.find((f) => f.name === 'CM_SLAC_PARM.REQ')!.fields.runId, Buffer.from('TESLA EV').toString('hex'));
  const version = tesla.find((f) => f.name === 'VS_SW_VER.CNF')!;
  assert.equal(version.fields.version, 'MAC-QCA7420-1.4.0.20-00-20171027-CS');
});

test('every HomePlug AV frame in ../shared/captures decodes', { skip: existsSync(CAPTURE_DIR) ? false : 'needs ../shared/captures' }, () => {
  const files = readdirSync(CAPTURE_DIR).filter((f) => f.endsWith('.pcapng'));
  assert.ok(files.length >= 3);
  let total = 0;
  for (const file of files) {
    for (const packet of homePlugFrames(join(CAPTURE_DIR, file))) {
      const result = decodeFrame(packet.data);
      assert.ok(result.ok, `${file} packet ${packet.number}: ${!result.ok && result.error.message}`);
      total++;
    }
  }
  assert.ok(total >= 200, `${total} frames`);
});

test('a fragment of a longer message is reported with its fragmentation fields and raw payload', () => {
  const frame = encodeFrame('CM_SLAC_PARM.REQ', { applicationType: 0, securityType: 0, runId: '0102030405060708' }, { dst: EV, src: EVSE });
  frame[17] = 0x21; // NF_MI 2 (three fragments), FN_MI 1
  frame[18] = 7; // FMSN
  const result = decodeFrame(frame);
  assert.ok(result.ok);
  assert.deepEqual(result.frame.fragmentation, { count: 2, index: 1, sequence: 7 });
  assert.equal(result.frame.message, undefined, 'no typed message from a partial payload');
  assert.ok(String(result.frame.fields.payload).startsWith('00000102030405060708'));
});

test('MMV 0 frames have no fragmentation bytes; Qualcomm vendor messages start with the OUI', () => {
  const frame = encodeFrame('VS_PL_LNK_STATUS.CNF', { oui: '00b052', status: 0, linkStatus: 1 }, { dst: EVSE, src: '00:b0:52:00:00:01' });
  assert.equal(frame.subarray(14, 20).toString('hex'), '00b9a000b052');
  const result = decodeFrame(frame);
  assert.ok(result.ok);
  assert.equal(result.frame.fragmentation, undefined);
  assert.deepEqual(result.frame.fields, { oui: '00b052', status: 0, linkStatus: 1 });
});
