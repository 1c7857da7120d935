import { ExiError } from './errors.js';

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const SHORT_HEX = 8;
const lastBytes = new Uint8Array(SHORT_HEX);
let lastLength = -1;
let lastHex = '';
// The last 8-byte binary (a session ID) as two 32-bit words: a repeat is two compares.
let lastWord0 = 0;
let lastWord1 = 0;

/** Reads a bit-packed EXI stream, most significant bit first. Every read checks the end. */
export class BitReader {
  pos: number;
  /** The event code framedCode() read after a value; -1 when the stream ended before it. */
  code = 0;
  buf: Uint8Array;
  end: number;
  private byteLength: number;
  constructor(buf: Uint8Array, startBit = 0) {
    this.buf = buf;
    this.pos = startBit;
    this.byteLength = buf.length;
    this.end = buf.length * 8;
  }

  /** Starts over on another stream: decode() keeps one reader instead of allocating one per call. */
  reset(buf: Uint8Array): this {
    this.buf = buf;
    this.pos = 0;
    this.code = 0;
    this.byteLength = buf.length;
    this.end = buf.length * 8;
    return this;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  fail(kind: ExiError['kind'], reason: string, at = this.pos): never {
    throw new ExiError(kind, at, reason);
  }

  private truncated(n: number): never {
    throw new ExiError('truncated', this.pos, `stream ends: ${n} more bit(s) needed, ${this.end - this.pos} left`);
  }

  /**
   * Reads an n-bit unsigned integer, 0 <= n <= 32. Small and branch-light so V8 inlines it:
   * while four whole bytes are left from the current one, any n <= 24 fits one 32-bit window
   * (and the end check is implied); the last bytes of the stream and wider reads go the slow way.
   */
  bits(n: number): number {
    const pos = this.pos;
    const i = pos >>> 3;
    const sh = 32 - (pos & 7) - n;
    if (sh > 0 && i + 3 < this.byteLength) {
      const buf = this.buf;
      const w = (buf[i]! << 24) | (buf[i + 1]! << 16) | (buf[i + 2]! << 8) | buf[i + 3]!;
      this.pos = pos + n;
      return (w >>> sh) & ((1 << n) - 1);
    }
    return this.bitsSlow(n);
  }

  /** One bit. */
  bit(): number {
    const pos = this.pos;
    if (pos >= this.end) this.truncated(1);
    this.pos = pos + 1;
    return (this.buf[pos >>> 3]! >>> (7 - (pos & 7))) & 1;
  }

  private bitsSlow(n: number): number {
    const pos = this.pos;
    if (pos + n > this.end) this.truncated(n);
    const buf = this.buf;
    let v = 0;
    let p = pos;
    let rem = n;
    while (rem > 0) {
      const o = p & 7;
      const take = Math.min(8 - o, rem);
      v = v * (1 << take) + ((buf[p >>> 3]! >>> (8 - o - take)) & ((1 << take) - 1));
      p += take;
      rem -= take;
    }
    this.pos = pos + n;
    return v;
  }

  /** Fails on event code c of a state with n first-level productions (c === n: second level). */
  badEvent(c: number, n: number, bits: number): never {
    if (c === n) this.fail('unsupported', 'second-level event (xsi:type, xsi:nil or undeclared content) is not supported', this.pos - bits);
    return this.fail('invalid-event-code', `event code ${c} undefined here`, this.pos - bits);
  }

  /**
   * CH (0) and a fixed-width value of a simple-typed element (its EE bit is read with the next
   * event code). Returns the value offset by `min`; fails on a set CH bit or values above `max`.
   */
  framedOpen(n: number, min: number, max: number, isEnum = false): number {
    const x = this.bits(n + 1);
    const v = (x & ((1 << n) - 1)) + min;
    if (x >>> n !== 0 || v > max) this.badFramed(n, x, v, max, isEnum);
    return v;
  }

  /**
   * framedOpen() and the k-bit event code after the value (its EE bit first) in one read; the
   * code goes to `code`. When the stream cannot hold both, reads the value alone and sets code
   * to -1, so that the failing code read happens where it did (badEventAfterValue).
   */
  framedCode(n: number, min: number, max: number, k: number, isEnum?: boolean): number {
    // The window read of bits(), repeated here, and only the success path: small enough for
    // V8 to inline at every call site. Anything else starts over in framedCodeSlow().
    const t = n + 1 + k;
    const pos = this.pos;
    const i = pos >>> 3;
    const sh = 32 - (pos & 7) - t;
    if (sh > 0 && i + 3 < this.byteLength) {
      const buf = this.buf;
      const x = (((buf[i]! << 24) | (buf[i + 1]! << 16) | (buf[i + 2]! << 8) | buf[i + 3]!) >>> sh) & ((1 << t) - 1);
      // CH bit and value: since max - min < 2^n, a set CH bit also fails this one check.
      const v = (x >>> k) + min;
      if (v <= max) {
        this.pos = pos + t;
        this.code = x & ((1 << k) - 1);
        return v;
      }
    }
    return this.framedCodeSlow(n, min, max, k, isEnum);
  }

  /** framedCode() near the end of the stream, for wide reads, and its failures. */
  private framedCodeSlow(n: number, min: number, max: number, k: number, isEnum = false): number {
    const t = n + 1 + k;
    if (this.end - this.pos < t) {
      const v = this.framedOpen(n, min, max, isEnum);
      this.code = -1;
      return v;
    }
    const pos = this.pos;
    const x = this.bits(t);
    const y = x >>> k;
    const v = (y & ((1 << n) - 1)) + min;
    if (y >>> n !== 0 || v > max) this.badFramedAt(pos + n + 1, n, y, v, max, isEnum);
    this.code = x & ((1 << k) - 1);
    return v;
  }

  private badFramedAt(pos: number, n: number, x: number, v: number, max: number, isEnum: boolean): never {
    this.pos = pos;
    return this.badFramed(n, x, v, max, isEnum);
  }

  private badFramed(n: number, x: number, v: number, max: number, isEnum: boolean): never {
    const start = this.pos - n - 1;
    if (x >>> n !== 0) this.fail('unsupported', 'second-level event (xsi:type, xsi:nil or undeclared content) is not supported', start);
    return this.fail('out-of-range', isEnum ? `enumeration index ${v} of ${max + 1} literals` : `value ${v} above maximum ${max}`, start + 1);
  }

  /**
   * CH (0) and an EXI Integer within [min, max]. Magnitudes of up to two 7-bit groups (below
   * 16384: nearly every physical value) take one 18-bit read; longer ones go the general way.
   */
  framedIntOpen(min: number, max: number): number {
    const start = this.pos;
    const i = start >>> 3;
    // Only the success path, to stay small enough to inline; the rest is framedIntSlow().
    if (i + 3 < this.byteLength) {
      const buf = this.buf;
      // 18 bits from any bit offset fit one 32-bit window of four whole bytes: CH, sign, two bytes.
      const x = (((buf[i]! << 24) | (buf[i + 1]! << 16) | (buf[i + 2]! << 8) | buf[i + 3]!) >>> (14 - (start & 7))) & 0x3ffff;
      if (x < 0x20000) {
        const b1 = (x >>> 8) & 0xff;
        if (b1 < 0x80) {
          const v = x & 0x10000 ? -b1 - 1 : b1;
          if (v >= min && v <= max) {
            this.pos = start + 10;
            return v;
          }
        } else if ((x & 0x80) === 0) {
          const m = (b1 & 0x7f) | ((x & 0x7f) << 7);
          const v = x & 0x10000 ? -m - 1 : m;
          if (v >= min && v <= max) {
            this.pos = start + 18;
            return v;
          }
        }
      }
    }
    return this.framedIntSlow(min, max);
  }

  /** framedIntOpen() near the end of the stream, for longer magnitudes, and its failures. */
  private framedIntSlow(min: number, max: number): number {
    const start = this.pos;
    if (this.end - start < 18) return this.framedIntShort(min, max);
    const x = this.bits(18);
    if (x >= 0x20000) {
      this.pos -= 8;
      this.badFramed(9, x >>> 8, 0, 0, false);
    }
    const b1 = (x >>> 8) & 0xff;
    let m = b1;
    if (b1 < 0x80) this.pos -= 8;
    else if ((x & 0x80) === 0) m = (b1 & 0x7f) | ((x & 0x7f) << 7);
    else {
      this.pos = start + 1;
      return this.int(min, max);
    }
    const v = x & 0x10000 ? -m - 1 : m;
    if (v < min || v > max) this.outside(v, min, max, start + 1);
    return v;
  }

  private outside(v: number, min: number, max: number, at: number): never {
    return this.fail('out-of-range', `value ${v} outside [${min}, ${max}]`, at);
  }

  /** framedIntOpen near the end of the stream, where an 18-bit read could overrun. */
  private framedIntShort(min: number, max: number): number {
    const x = this.bits(10);
    if (x >= 0x200) this.badFramed(9, x, 0, 0, false);
    const b = x & 0xff;
    let v: number;
    if (b < 0x80) v = x & 0x100 ? -b - 1 : b;
    else {
      this.pos -= 9;
      return this.int(min, max);
    }
    if (v < min || v > max) this.outside(v, min, max, this.pos - 9);
    return v;
  }

  /** CH (0) and an EXI Unsigned Integer up to max; up to two bytes (< 16384) in one read. */
  framedUintOpen(max: number): number {
    const start = this.pos;
    const i = start >>> 3;
    // Only the success path, to stay small enough to inline; the rest is framedUintSlow().
    if (i + 3 < this.byteLength) {
      const buf = this.buf;
      // 17 bits from any bit offset fit one 32-bit window of four whole bytes: CH, two bytes.
      const x = (((buf[i]! << 24) | (buf[i + 1]! << 16) | (buf[i + 2]! << 8) | buf[i + 3]!) >>> (15 - (start & 7))) & 0x1ffff;
      if (x < 0x8000) {
        const v = x >>> 8;
        if (v <= max) {
          this.pos = start + 9;
          return v;
        }
      } else if (x < 0x10000 && (x & 0x80) === 0) {
        const v = ((x >>> 8) & 0x7f) | ((x & 0x7f) << 7);
        if (v <= max) {
          this.pos = start + 17;
          return v;
        }
      }
    }
    return this.framedUintSlow(max);
  }

  /** framedUintOpen() near the end of the stream, for longer values, and its failures. */
  private framedUintSlow(max: number): number {
    const start = this.pos;
    if (this.end - start < 17) return this.framedUintShort(max);
    const x = this.bits(17);
    if (x >= 0x10000) {
      this.pos -= 8;
      this.badFramed(8, x >>> 8, 0, 0, false);
    }
    const b1 = x >>> 8;
    let v = b1;
    if (b1 < 0x80) this.pos -= 8;
    else if ((x & 0x80) === 0) v = (b1 & 0x7f) | ((x & 0x7f) << 7);
    else {
      this.pos = start + 1;
      return this.uint(max);
    }
    if (v > max) this.fail('out-of-range', `value ${v} above maximum ${max}`, start + 1);
    return v;
  }

  private framedUintShort(max: number): number {
    const x = this.bits(9);
    if (x >= 0x100) this.badFramed(8, x, 0, 0, false);
    if (x >= 0x80) {
      this.pos -= 8;
      return this.uint(max);
    }
    if (x > max) this.fail('out-of-range', `value ${x} above maximum ${max}`, this.pos - 8);
    return x;
  }

  /** Fails on code c read together with the preceding element's EE bit (the top bit). */
  badEventAfterValue(c: number, n: number, bits: number): never {
    if (c < 0) this.bits(bits + 1); // framedCode() found the stream too short for the code: fails here
    if (c >>> bits !== 0) this.fail('unsupported', 'second-level event after a simple value (undeclared content) is not supported', this.pos - bits - 1);
    return this.badEvent(c, n, bits);
  }

  /** Reads one bit that must be 0: the only first-level code these grammars use (CH / EE of simple content). */
  ev0(): void {
    if (this.bit() !== 0) this.fail('unsupported', 'second-level event (xsi:type, xsi:nil or undeclared content) is not supported', this.pos - 1);
  }

  /** EXI Unsigned Integer (7-bit groups, least significant first) as a JS number; fails above `max`. */
  uint(max: number = MAX_SAFE): number {
    const first = this.bits(8);
    let v = first;
    if (first >= 0x80) {
      const second = this.bits(8);
      if (second < 0x80) v = (first & 0x7f) | (second << 7);
      else {
        this.pos -= 16;
        return this.uintLong(max);
      }
    }
    if (v > max) this.fail('out-of-range', `value ${v} above maximum ${max}`, this.pos - (first >= 0x80 ? 16 : 8));
    return v;
  }

  private uintLong(max: number): number {
    const start = this.pos;
    let v = 0;
    let mul = 1;
    for (;;) {
      const b = this.bits(8);
      v += (b & 0x7f) * mul;
      if (b < 0x80) break;
      mul *= 128;
      if (mul > 2 ** 56) this.fail('out-of-range', 'unsigned integer longer than 64 bits', start);
    }
    if (v > max) this.fail('out-of-range', `value ${v} above maximum ${max}`, start);
    return v;
  }

  /** EXI Unsigned Integer of any size. */
  uintBig(): bigint {
    const start = this.pos;
    let v = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.bits(8);
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) break;
      shift += 7n;
      if (shift > 140n) this.fail('out-of-range', 'unsigned integer too long', start);
    }
    return v;
  }

  /** EXI Integer (sign bit, then magnitude; negative values store |v| - 1) within [min, max]. */
  int(min: number, max: number): number {
    const start = this.pos;
    const neg = this.bits(1);
    const m = this.uint();
    const v = neg ? -m - 1 : m;
    if (v < min || v > max) this.fail('out-of-range', `value ${v} outside [${min}, ${max}]`, start);
    return v;
  }

  /**
   * Integer or unsigned integer of a 64-bit (or unbounded) type: a number when safe, else a
   * decimal string. Magnitudes of up to seven 7-bit groups (below 2^49, e.g. timestamps) are
   * read as numbers; longer ones start over with BigInt.
   */
  bigJson(signed: boolean, minN: number, maxN: number, min: bigint | undefined, max: bigint | undefined): number | string {
    const start = this.pos;
    const neg = signed ? this.bits(1) : 0;
    let m = 0;
    let mul = 1;
    for (let g = 0; g < 7; g++) {
      const b = this.bits(8);
      m += (b & 0x7f) * mul;
      if (b < 0x80) {
        const v = neg ? -m - 1 : m;
        // minN/maxN: the bounds as numbers, so that the check needs no BigInt.
        if (v < minN || v > maxN) this.fail('out-of-range', `value ${v} outside [${min ?? ''}, ${max ?? ''}]`, start);
        return v;
      }
      mul *= 128;
    }
    this.pos = start;
    return this.bigJsonLong(signed, min, max);
  }

  private bigJsonLong(signed: boolean, min: bigint | undefined, max: bigint | undefined): number | string {
    const start = this.pos;
    const neg = signed ? this.bits(1) : 0;
    const m = this.uintBig();
    const v = neg ? -m - 1n : m;
    if ((min !== undefined && v < min) || (max !== undefined && v > max)) this.fail('out-of-range', `value ${v} outside [${min ?? ''}, ${max ?? ''}]`, start);
    return v >= -BigInt(MAX_SAFE) && v <= BigInt(MAX_SAFE) ? Number(v) : v.toString();
  }

  /** n-bit unsigned integer offset by `min` (bounded integer types). */
  nbit(n: number, min: number, max: number): number {
    const v = this.bits(n) + min;
    if (v > max) this.fail('out-of-range', `value ${v} above maximum ${max}`, this.pos - n);
    return v;
  }

  /** Enumeration index of n bits; fails on indexes past the last literal. */
  enumIndex(n: number, count: number): number {
    const v = this.bits(n);
    if (v >= count) this.fail('out-of-range', `enumeration index ${v} of ${count} literals`, this.pos - n);
    return v;
  }

  /** Binary (length-prefixed bytes) as lowercase hex. */
  hex(maxLength: number): string {
    const start = this.pos;
    const i = start >>> 3;
    // A repeat of the last 8-byte binary (the session ID of every message): its length byte and
    // two 32-bit windows compared with the last one, from any bit offset (ten whole bytes read).
    if (lastLength === 8 && maxLength >= 8 && i + 9 < this.byteLength) {
      const buf = this.buf;
      const o = start & 7;
      const u = 8 - o; // (a byte >>> 8 is 0: the byte-aligned case needs no branch)
      if ((((buf[i]! << o) | (buf[i + 1]! >>> u)) & 0xff) === 8) {
        const w0 = (((buf[i + 1]! << 24) | (buf[i + 2]! << 16) | (buf[i + 3]! << 8) | buf[i + 4]!) << o) | (buf[i + 5]! >>> u);
        const w1 = (((buf[i + 5]! << 24) | (buf[i + 6]! << 16) | (buf[i + 7]! << 8) | buf[i + 8]!) << o) | (buf[i + 9]! >>> u);
        if (w0 === lastWord0 && w1 === lastWord1) {
          this.pos = start + 72;
          return lastHex;
        }
      }
    }
    const len = this.uint();
    if (len > maxLength) this.fail('too-long', `binary of ${len} bytes, maximum ${maxLength}`, start);
    if (len * 8 > this.end - this.pos) this.fail('truncated', `binary of ${len} bytes exceeds the stream`, start);
    if (len <= SHORT_HEX) return this.shortHex(len);
    let s = '';
    if ((this.pos & 7) === 0) {
      const i = this.pos >>> 3;
      for (let k = 0; k < len; k++) s += HEX[this.buf[i + k]!];
      this.pos += len * 8;
    } else {
      for (let k = 0; k < len; k++) s += HEX[this.bits(8)];
    }
    return s;
  }

  /**
   * Short binaries (session IDs, EVCC IDs) repeat in every message of a session: the last one
   * is kept, so a repeat costs byte compares instead of building a string.
   */
  private shortHex(len: number): string {
    const bytes = lastBytes;
    const pos = this.pos;
    const buf = this.buf;
    const i = pos >>> 3;
    const o = pos & 7;
    let same = len === lastLength;
    // The caller checked that len bytes are left, so byte i + len exists whenever o > 0.
    for (let k = 0; k < len; k++) {
      const b = o === 0 ? buf[i + k]! : ((buf[i + k]! << o) | (buf[i + k + 1]! >>> (8 - o))) & 0xff;
      if (bytes[k] !== b) {
        bytes[k] = b;
        same = false;
      }
    }
    this.pos = pos + len * 8;
    if (same) return lastHex;
    let s = '';
    for (let k = 0; k < len; k++) s += HEX[bytes[k]!];
    lastLength = len;
    lastHex = s;
    lastWord0 = (bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!;
    lastWord1 = (bytes[4]! << 24) | (bytes[5]! << 16) | (bytes[6]! << 8) | bytes[7]!;
    return s;
  }

  /** Binary as bytes (for callers that want raw data). */
  bytes(len: number): Uint8Array {
    if (len * 8 > this.end - this.pos) this.fail('truncated', `${len} bytes exceed the stream`);
    const out = new Uint8Array(len);
    for (let k = 0; k < len; k++) out[k] = this.bits(8);
    return out;
  }
}
