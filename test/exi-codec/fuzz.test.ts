/**
 * Fuzzing with fast-check: mutated real streams (bit flips, cuts, inserted and deleted bytes)
 * and random bytes, fed to every schema's decoder, and random JSON fed to the encoders. Only
 * ExiErrors may come out, and a decoded document stays proportional to its input (memory is
 * bounded by the input). Time budget: each input must finish within HANG_MS (a hang detector
 * far above the microseconds a decode takes, not a performance assertion), and each test has
 * an overall timeout.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decode, decodeFragment, encode, fromHex, ExiError, SCHEMA_NAMES, loadAllSchemas } from '@opensecc/exi-codec';
import { fixturePayloads } from './helpers.js';

// The ISO 15118-20 codecs load on demand.
await loadAllSchemas();

const SEED = Number(process.env.FUZZ_SEED ?? 20240420);
const RUNS = Number(process.env.FUZZ_RUNS ?? 1500);
const streams = fixturePayloads().map((f) => fromHex(f.hex));
streams.push(
  fromHex('8098004011d018048d159e26ac00'), // ISO 15118-2 SessionSetupReq
  fromHex('808c02050d961e8809ac39d06204050d961ea72f80'), // ISO 15118-20 SessionSetupReq
);

const HANG_MS = 2000;

/** Decodes with every schema; only ExiError may escape, and output size is bounded by input size. */
function decodeAll(bytes: Uint8Array): void {
  const t0 = performance.now();
  for (const schema of SCHEMA_NAMES) {
    for (const fn of [decode, decodeFragment]) {
      try {
        const doc = fn(schema, bytes);
        const size = JSON.stringify(doc).length;
        assert.ok(size <= 64 * bytes.length + 256, `${schema}: ${size} chars of JSON from ${bytes.length} bytes`);
      } catch (e) {
        if (!(e instanceof ExiError)) throw new Error(`${schema}: non-ExiError ${String(e)} for ${Buffer.from(bytes).toString('hex')}`);
        assert.ok(e.bitOffset >= 0 && e.bitOffset <= bytes.length * 8 + 64, `bit offset ${e.bitOffset}`);
      }
    }
  }
  const ms = performance.now() - t0;
  assert.ok(ms < HANG_MS, `decoding ${Buffer.from(bytes).toString('hex')} took ${ms.toFixed(0)} ms`);
}

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bits: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), bits: fc.constant(0) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bits: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), bits: fc.constant(0) }),
);

function mutate(src: Uint8Array, ms: { kind: 'flip' | 'cut' | 'insert' | 'delete'; at: number; bits: number }[]): Uint8Array {
  let b = Uint8Array.from(src);
  for (const m of ms) {
    const i = b.length ? m.at % b.length : 0;
    if (m.kind === 'flip' && b.length) b[i] = b[i]! ^ m.bits;
    else if (m.kind === 'cut') b = b.subarray(0, i);
    else if (m.kind === 'insert') b = Uint8Array.from([...b.subarray(0, i), m.bits, ...b.subarray(i)]);
    else if (m.kind === 'delete' && b.length) b = Uint8Array.from([...b.subarray(0, i), ...b.subarray(i + 1)]);
  }
  return b;
}

test('mutated real streams only ever raise ExiError', { timeout: 120_000 }, () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: streams.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), (k, ms) => {
      decodeAll(mutate(streams[k]!, ms));
    }),
    { seed: SEED, numRuns: RUNS },
  );
});

test('random bytes (with and without a valid EXI header) only ever raise ExiError', { timeout: 120_000 }, () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (bytes, header) => {
      decodeAll(header ? Uint8Array.from([0x80, ...bytes]) : bytes);
    }),
    { seed: SEED, numRuns: RUNS },
  );
});

test('random JSON fed to the encoders only ever raises ExiError', { timeout: 120_000 }, () => {
  const roots = fc.constantFrom('V2G_Message', 'supportedAppProtocolReq', 'SessionSetupReq', 'DC_ChargeLoopReq', 'SignedInfo');
  fc.assert(
    fc.property(roots, fc.jsonValue({ maxDepth: 4 }), fc.constantFrom(...SCHEMA_NAMES), (root, value, schema) => {
      try {
        const bytes = encode(schema, { [root]: value });
        // Whatever encodes must decode back to the same document.
        assert.deepEqual(decode(schema, bytes), JSON.parse(JSON.stringify({ [root]: value })));
      } catch (e) {
        if (!(e instanceof ExiError)) throw e;
      }
    }),
    { seed: SEED, numRuns: RUNS },
  );
});
