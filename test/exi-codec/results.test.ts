/**
 * encode() hands out results carved from a shared slab (see runtime/bit-writer.ts): each result
 * must still be the caller's own — later encodes, slab changes and big messages must not touch
 * the bytes of an earlier result, and writing into a result must not change another.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode, encode, toHex } from '@opensecc/exi-codec';

/** A DIN SessionSetupReq whose EVCCID (hexBinary, at most 8 bytes) varies with i. */
function small(i: number): object {
  const id = (i % 0x1000000).toString(16).padStart(12, '0');
  return { V2G_Message: { Header: { SessionID: '0000000000000000' }, Body: { SessionSetupReq: { EVCCID: id } } } };
}

/** An xmldsig SignatureValue (base64Binary, unbounded) of n bytes: a message of about n bytes. */
function big(n: number, fill: number): object {
  return { SignatureValue: { CONTENT: fill.toString(16).padStart(2, '0').repeat(n) } };
}

test('results stay intact across many encodes (several slabs) and big messages', () => {
  const kept: { bytes: Uint8Array; hex: string }[] = [];
  for (let i = 0; i < 3000; i++) {
    // Now and then a message too big for a slab result, or bigger than a whole slab.
    const doc = i % 500 === 7 ? big(i % 1000 === 7 ? 20000 : 1500, i & 0xff) : small(i);
    const bytes = encode(i % 500 === 7 ? 'xmldsig' : 'din', doc);
    kept.push({ bytes, hex: toHex(bytes) });
  }
  for (const [i, k] of kept.entries()) {
    assert.equal(toHex(k.bytes), k.hex, `result ${i} changed after later encodes`);
    assert.deepEqual(decode(i % 500 === 7 ? 'xmldsig' : 'din', k.bytes), i % 500 === 7 ? big(i % 1000 === 7 ? 20000 : 1500, i & 0xff) : small(i));
  }
});

test('a result is independent: writing into it changes no other result', () => {
  const a = encode('din', small(1));
  const b = encode('din', small(2));
  const c = encode('din', small(3));
  const before = [toHex(a), toHex(c)];
  b.fill(0xff);
  assert.deepEqual([toHex(a), toHex(c)], before);
  assert.equal(toHex(encode('din', small(2))), toHex(encode('din', small(2))));
  assert.notEqual(toHex(encode('din', small(2))), toHex(b));
});

test('a result is a plain Uint8Array of exactly the stream', () => {
  const bytes = encode('din', small(5));
  assert.equal(Object.getPrototypeOf(bytes), Uint8Array.prototype);
  assert.deepEqual(bytes, new Uint8Array(Buffer.from(toHex(bytes), 'hex')));
});
