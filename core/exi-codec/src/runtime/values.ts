/** JSON-side checks and conversions used by the generated encoders. */
import type { BitWriter } from './bit-writer.js';

const describe = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'string' ? JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v) : typeof v === 'object' ? 'an object' : String(v));

export function expectObject(w: BitWriter, v: unknown): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) w.fail('invalid-value', `expected an object, got ${describe(v)}`);
  return v as Record<string, unknown>;
}

const EMPTY: readonly unknown[] = Object.freeze([]);
/** A repeatable element's value: an array (or absent). */
export function expectArray(w: BitWriter, v: unknown, key: string): readonly unknown[] {
  if (v === undefined) return EMPTY;
  if (!Array.isArray(v)) w.fail('invalid-value', `${key} must be an array (it may occur more than once), got ${describe(v)}`);
  return v;
}

export function expectInt(w: BitWriter, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) w.fail('invalid-value', `expected an integer, got ${describe(v)}`);
  if ((v as number) < min || (v as number) > max) w.fail('out-of-range', `value ${v} outside [${min}, ${max}]`);
  return v as number;
}

export function expectBig(w: BitWriter, v: unknown, min: bigint | undefined, max: bigint | undefined): bigint {
  let b: bigint;
  if (typeof v === 'number' && Number.isInteger(v)) b = BigInt(v);
  else if (typeof v === 'string' && /^-?[0-9]+$/.test(v)) b = BigInt(v);
  else return w.fail('invalid-value', `expected an integer (number or decimal string), got ${describe(v)}`);
  if ((min !== undefined && b < min) || (max !== undefined && b > max)) w.fail('out-of-range', `value ${b} outside [${min ?? ''}, ${max ?? ''}]`);
  return b;
}

/**
 * Writes an integer of a 64-bit (or unbounded) type: safe-integer numbers take the number
 * path (same bits, no BigInt), anything else goes through expectBig.
 */
export function writeBig(w: BitWriter, v: unknown, signed: boolean, minN: number, maxN: number, min: bigint | undefined, max: bigint | undefined): void {
  if (typeof v === 'number' && Number.isSafeInteger(v)) {
    // minN/maxN: the bounds as numbers (exact for safe integers), so that the check needs no BigInt.
    if (v < minN || v > maxN) w.fail('out-of-range', `value ${v} outside [${min ?? ''}, ${max ?? ''}]`);
    if (signed) w.int(v);
    else w.uint(v);
    return;
  }
  const b = expectBig(w, v, min, max);
  if (signed) w.intBig(b);
  else w.uintBig(b);
}

export function expectBool(w: BitWriter, v: unknown): boolean {
  if (typeof v !== 'boolean') w.fail('invalid-value', `expected true or false, got ${describe(v)}`);
  return v as boolean;
}

export function expectString(w: BitWriter, v: unknown): string {
  if (typeof v !== 'string') w.fail('invalid-value', `expected a string, got ${describe(v)}`);
  return v as string;
}

export function expectEnum(w: BitWriter, v: unknown, literals: ReadonlyMap<string, number>): number {
  const i = typeof v === 'string' ? literals.get(v) : undefined;
  if (i === undefined) w.fail('invalid-value', `${describe(v)} is not one of ${[...literals.keys()].join(', ')}`);
  return i!;
}

// Nibble value of each UTF-16 code unit, -1 for non-hex characters.
const HEX_VALUE = new Int8Array(65536).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX_VALUE['0123456789abcdef'.charCodeAt(i)] = i;
  HEX_VALUE['0123456789ABCDEF'.charCodeAt(i)] = i;
}

// The last short binary written (session IDs repeat in every message): its parsed bytes.
let lastHex = '';
const lastHexBytes = new Uint8Array(8);

/** Writes an EXI Binary from a hex string (length prefix, then the bytes). */
export function writeHex(w: BitWriter, v: unknown, maxLength: number): void {
  if (typeof v !== 'string' || (v.length & 1) !== 0) return w.fail('invalid-value', `expected an even-length hex string, got ${describe(v)}`);
  const n = v.length >>> 1;
  if (n > maxLength) w.fail('too-long', `binary of ${n} bytes, maximum ${maxLength}`);
  if (n <= 8 && n > 0 && v === lastHex) {
    w.uint(n);
    let i = 0;
    for (; i + 1 < n; i += 2) w.bits((lastHexBytes[i]! << 8) | lastHexBytes[i + 1]!, 16);
    if (i < n) w.bits(lastHexBytes[i]!, 8);
    return;
  }
  w.uint(n);
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const j = 2 * i;
    const a = HEX_VALUE[v.charCodeAt(j)]!;
    const b = HEX_VALUE[v.charCodeAt(j + 1)]!;
    const c = HEX_VALUE[v.charCodeAt(j + 2)]!;
    const d = HEX_VALUE[v.charCodeAt(j + 3)]!;
    if ((a | b | c | d) < 0) badHex(w, v);
    w.bits((a << 12) | (b << 8) | (c << 4) | d, 16);
    if (n <= 8) {
      lastHexBytes[i] = (a << 4) | b;
      lastHexBytes[i + 1] = (c << 4) | d;
    }
  }
  if (i < n) {
    const a = HEX_VALUE[v.charCodeAt(2 * i)]!;
    const b = HEX_VALUE[v.charCodeAt(2 * i + 1)]!;
    if ((a | b) < 0) badHex(w, v);
    w.bits((a << 4) | b, 8);
    if (n <= 8) lastHexBytes[i] = (a << 4) | b;
  }
  if (n <= 8) lastHex = v;
}

function badHex(w: BitWriter, v: string): never {
  return w.fail('invalid-value', `expected a hex string, got ${describe(v)}`);
}

/** Number of keys with a defined value (what an object must have used up at its end). */
export function countKeys(o: Record<string, unknown>): number {
  let n = 0;
  for (const k in o) if (o[k] !== undefined) n++;
  return n;
}

/** Fails naming what an encoder could not place: unknown keys, or items out of place or too many. */
export function leftoverKeys(w: BitWriter, o: Record<string, unknown>, allowed: readonly string[]): never {
  const unknown = Object.keys(o).filter((k) => o[k] !== undefined && !allowed.includes(k));
  if (unknown.length) return w.fail('unexpected-element', `unknown key(s) ${unknown.join(', ')}`);
  return w.fail('unexpected-element', 'an element out of place: too many items of an array, or two alternatives of a choice');
}
