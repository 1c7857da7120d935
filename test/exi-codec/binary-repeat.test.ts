/**
 * The decoder keeps the last 8-byte binary (a session ID repeats in every message) and compares
 * the next one with it word by word, from whatever bit offset it starts at. These tests mix
 * repeats, near-misses (one bit apart) and different offsets, so a wrong shortcut would return
 * a stale value.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decode, encode, decodeFragment, encodeFragment } from '@opensecc/exi-codec';
import { BitReader } from '@opensecc/exi-codec/runtime/bit-reader';

const hex8 = fc.uint8Array({ minLength: 8, maxLength: 8 }).map((b) => Buffer.from(b).toString('hex'));
/** A binary close to `base`: the same, one bit flipped, or random. */
const near = (base: string): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constant(base),
    fc.nat(63).map((bit) => {
      const b = Buffer.from(base, 'hex');
      b[bit >> 3]! ^= 0x80 >> (bit & 7);
      return b.toString('hex');
    }),
    hex8,
  );

// Each message puts an 8-byte binary at another bit offset (DIN and ISO 15118-2 headers,
// the DIN EVCCID after the header, an ISO 15118-2 fragment).
const messages: ((id: string) => { decoded: () => unknown; doc: unknown })[] = [
  (id) => {
    const doc = { V2G_Message: { Header: { SessionID: id }, Body: { SessionStopReq: {} } } };
    return { doc, decoded: () => decode('din', encode('din', doc)) };
  },
  (id) => {
    const doc = { V2G_Message: { Header: { SessionID: id }, Body: { SessionStopReq: { ChargingSession: 'Terminate' } } } };
    return { doc, decoded: () => decode('iso2', encode('iso2', doc)) };
  },
  (id) => {
    const doc = { V2G_Message: { Header: { SessionID: '0000000000000000' }, Body: { SessionSetupReq: { EVCCID: id } } } };
    return { doc, decoded: () => decode('din', encode('din', doc)) };
  },
  (id) => {
    const doc = { MeteringReceiptReq: { Id: 'id2', SessionID: id, SAScheduleTupleID: 1, MeterInfo: { MeterID: 'meter-1', MeterReading: 123456 } } };
    return { doc, decoded: () => decodeFragment('iso2', encodeFragment('iso2', doc)) };
  },
];

test('8-byte binaries decode right after repeats, near-misses and offset changes', () => {
  fc.assert(
    fc.property(
      hex8.chain((base) => fc.array(fc.tuple(near(base), fc.nat(messages.length - 1)), { minLength: 2, maxLength: 12 })),
      (steps) => {
        for (const [id, m] of steps) {
          const { doc, decoded } = messages[m]!(id);
          assert.deepEqual(decoded(), doc);
        }
      },
    ),
    { numRuns: 400 },
  );
});

test('an 8-byte binary at each bit offset 0..7, after repeats and near-misses, reads right', () => {
  // The messages above start their binaries at bit offsets 2, 6 and 4 (mod 8): the reader
  // itself covers the rest, with the stream ending right after the binary or a little later.
  const bitsOf = (id: string): string => BigInt(`0x${id}`).toString(2).padStart(64, '0');
  const ids = ['0102030405060708', '0102030405060709', '8102030405060708', 'ffffffffffffffff', '0000000000000000', '0102030405060708'];
  for (let offset = 0; offset < 8; offset++) {
    for (const tail of [0, 1, 16]) {
      for (const id of [...ids, ...ids.slice().reverse()]) {
        const bits = '1'.repeat(offset) + '00001000' + bitsOf(id) + '1'.repeat(tail);
        const bytes = new Uint8Array(Math.ceil(bits.length / 8));
        for (let i = 0; i < bits.length; i++) if (bits[i] === '1') bytes[i >> 3]! |= 0x80 >> (i & 7);
        const r = new BitReader(bytes, offset);
        assert.equal(r.hex(8), id, `offset ${offset}, tail ${tail}`);
        assert.equal(r.pos, offset + 72);
      }
    }
  }
});
