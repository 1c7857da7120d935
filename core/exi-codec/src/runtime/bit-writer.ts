import { markAsUntransferable } from 'node:worker_threads';
import { ExiError } from './errors.js';

/**
 * encode() writes straight into a shared slab and returns a view of the bytes it wrote, the way
 * Node's Buffer pool hands out small Buffers: a result then costs one view object, not a copy
 * into an ArrayBuffer of its own. Above 64 bytes, where V8 puts such a copy's memory outside its
 * heap, slice() alone took about a third of an encode. Each result owns its
 * bytes: the next stream starts after them. Results above SLAB_RESULT_MAX bytes are copied out
 * instead, and their space is reused, so that one big message does not pin a big slab.
 */
const SLAB_SIZE = 8192;
const SLAB_RESULT_MAX = 1024;
let slab = newSlab(SLAB_SIZE);
let slabUsed = 0; // bytes of `slab` handed out in results (8-byte aligned)

function newSlab(size: number): Uint8Array {
  const buffer = new ArrayBuffer(size);
  // Transferring one result's buffer (postMessage) would detach every other result and the writer.
  markAsUntransferable(buffer);
  return new Uint8Array(buffer);
}

/** Writes a bit-packed EXI stream, most significant bit first, into a growing buffer. */
export class BitWriter {
  private buf: Uint8Array;
  private start = 0; // where this stream begins in buf (in the slab: after earlier results)
  private len = 0; // end of the whole bytes written (index into buf)
  private cur = 0; // pending bits (at most 31), not yet in buf
  private n = 0; // number of pending bits

  /**
   * `shared`: write into the module's slab (what encode() does: it finishes before any other
   * encode can start). Writers kept across encodes use their own buffer (default).
   */
  constructor(private readonly shared = false) {
    this.buf = shared ? slab : new Uint8Array(64);
  }

  /** Starts a new stream in the shared slab (encode() keeps one writer). */
  reset(): this {
    this.buf = slab;
    this.start = slabUsed;
    this.len = slabUsed;
    this.cur = 0;
    this.n = 0;
    return this;
  }

  get bitLength(): number {
    return (this.len - this.start) * 8 + this.n;
  }

  fail(kind: ExiError['kind'], reason: string): never {
    throw new ExiError(kind, this.bitLength, reason);
  }

  /** Makes room for four more bytes: the stream moves to a bigger buffer (a new slab if shared). */
  private grow(): void {
    const size = this.len - this.start;
    const capacity = Math.max(this.shared ? SLAB_SIZE : this.buf.length * 2, (2 * size + 15) & ~7);
    const bigger = this.shared ? newSlab(capacity) : new Uint8Array(capacity);
    bigger.set(this.buf.subarray(this.start, this.len));
    if (this.shared) {
      slab = bigger;
      slabUsed = 0;
    }
    this.buf = bigger;
    this.start = 0;
    this.len = size;
  }

  /**
   * Writes the low n bits of v (0 <= n <= 32, 0 <= v < 2^n). Bits collect in `cur` (up to 31)
   * and go out as one 32-bit word when the next value would fill it. The hot path is a shift;
   * the spill, about one call in eight, stays out of line (V8 does not inline a call that
   * rare), which keeps this small enough to be inlined at every call site.
   */
  bits(v: number, n: number): void {
    const cn = this.n + n;
    if (cn < 32) {
      this.cur = (this.cur << n) | v;
      this.n = cn;
      return;
    }
    this.spill(v, n);
  }

  /** Writes the 32 bits made of `cur` and the high bits of v; keeps the rest of v pending. */
  private spill(v: number, n: number): void {
    if (n > 24) {
      // Wide values: the high part first, then the low 16 bits.
      this.bits(Math.floor(v / 65536), n - 16);
      this.bits(v & 0xffff, 16);
      return;
    }
    const k = this.n; // 8 <= k <= 31, since k + n >= 32
    const rest = k + n - 32; // bits of v left pending, < n
    const word = (this.cur << (32 - k)) | (v >>> rest);
    if (this.len + 4 > this.buf.length) this.grow(); // (grow() moves the stream: read len after it)
    const len = this.len;
    const buf = this.buf;
    buf[len] = word >>> 24;
    buf[len + 1] = word >>> 16;
    buf[len + 2] = word >>> 8;
    buf[len + 3] = word;
    this.len = len + 4;
    this.cur = v & ((1 << rest) - 1);
    this.n = rest;
  }

  /** EXI Unsigned Integer of a non-negative safe integer; up to two 7-bit groups in one write. */
  uint(v: number): void {
    if (v < 128) this.bits(v, 8);
    else if (v < 16384) this.bits(0x8000 | ((v & 0x7f) << 8) | (v >>> 7), 16);
    else this.uintLong(v);
  }

  private uintLong(v: number): void {
    // Above 31 bits, integer shifts would wrap: divide down to there first.
    while (v > 0x7fffffff) {
      this.bits((v % 128) | 128, 8);
      v = Math.floor(v / 128);
    }
    if (v >= 0x200000) {
      // Three continued groups in one write.
      this.bits(0x808080 | ((v & 0x7f) << 16) | (((v >>> 7) & 0x7f) << 8) | ((v >>> 14) & 0x7f), 24);
      v >>>= 21;
    }
    while (v >= 128) {
      this.bits((v & 0x7f) | 128, 8);
      v >>>= 7;
    }
    this.bits(v, 8);
  }

  uintBig(v: bigint): void {
    while (v >= 128n) {
      this.bits(Number(v & 127n) | 128, 8);
      v >>= 7n;
    }
    this.bits(Number(v), 8);
  }

  /** EXI Integer: sign bit, then magnitude (|v| - 1 for negative values). */
  int(v: number): void {
    const neg = v < 0;
    const m = neg ? -v - 1 : v;
    if (m < 128) this.bits(neg ? 0x100 | m : m, 9);
    else if (m < 16384) this.bits((neg ? 0x18000 : 0x8000) | ((m & 0x7f) << 8) | (m >>> 7), 17);
    else {
      this.bits(neg ? 1 : 0, 1);
      this.uintLong(m);
    }
  }

  intBig(v: bigint): void {
    if (v < 0n) {
      this.bits(1, 1);
      this.uintBig(-v - 1n);
    } else {
      this.bits(0, 1);
      this.uintBig(v);
    }
  }

  /** Pads the last byte with zero bits and returns the stream. */
  finish(): Uint8Array {
    if (this.len + 4 > this.buf.length) this.grow();
    let k = this.n;
    let len = this.len;
    const buf = this.buf;
    const cur = this.cur;
    for (; k >= 8; k -= 8) buf[len++] = cur >>> (k - 8);
    if (k > 0) buf[len++] = cur << (8 - k);
    this.len = len;
    this.cur = 0;
    this.n = 0;
    const start = this.start;
    if (this.shared && len - start <= SLAB_RESULT_MAX) {
      slabUsed = (len + 7) & ~7;
      return new Uint8Array(buf.buffer, start, len - start);
    }
    return buf.slice(start, len);
  }
}
