import { ExiError } from './errors.js';

/**
 * Encoding is synchronous, so writers share one scratch buffer (grown on demand) and only
 * finish() allocates: the returned copy.
 */
let scratch = new Uint8Array(1024);

/** Writes a bit-packed EXI stream, most significant bit first, into a growing buffer. */
export class BitWriter {
  private buf: Uint8Array;
  private len = 0; // whole bytes written
  private cur = 0; // pending bits (at most 31)
  private n = 0; // number of pending bits

  /**
   * `shared`: write into the module's scratch buffer (what encode() does: it finishes before
   * any other encode can start). Writers kept across encodes use their own buffer (default).
   */
  constructor(shared = false) {
    this.buf = shared ? scratch : new Uint8Array(64);
  }

  get bitLength(): number {
    return this.len * 8 + this.n;
  }

  fail(kind: ExiError['kind'], reason: string): never {
    throw new ExiError(kind, this.bitLength, reason);
  }

  private grow(): void {
    const bigger = new Uint8Array(this.buf.length * 2);
    bigger.set(this.buf);
    if (this.buf === scratch) scratch = bigger;
    this.buf = bigger;
  }

  /**
   * Writes the low n bits of v (0 <= n <= 32, 0 <= v < 2^n). Bits collect in `cur` (up to 31)
   * and go out as whole bytes only when the next value would not fit: most calls are a shift.
   */
  bits(v: number, n: number): void {
    let cn = this.n + n;
    if (cn > 31) {
      this.flush();
      cn = this.n + n;
      if (cn > 31) {
        // Wide values: the high part first, then the low 16 bits.
        this.bits(Math.floor(v / 65536), n - 16);
        this.bits(v & 0xffff, 16);
        return;
      }
    }
    this.cur = (this.cur << n) | v;
    this.n = cn;
  }

  /** Moves the whole bytes of `cur` to the buffer. */
  private flush(): void {
    let cn = this.n;
    const cur = this.cur;
    while (cn >= 8) {
      cn -= 8;
      if (this.len === this.buf.length) this.grow();
      this.buf[this.len++] = (cur >>> cn) & 0xff;
    }
    this.cur = cur & ((1 << cn) - 1);
    this.n = cn;
  }

  /** EXI Unsigned Integer of a non-negative safe integer. */
  uint(v: number): void {
    if (v < 128) {
      this.bits(v, 8);
      return;
    }
    while (v >= 128) {
      this.bits((v % 128) | 128, 8);
      v = Math.floor(v / 128);
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
    const m = v < 0 ? -v - 1 : v;
    if (m < 128) {
      this.bits(v < 0 ? 0x100 | m : m, 9);
      return;
    }
    this.bits(v < 0 ? 1 : 0, 1);
    this.uint(m);
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
    this.flush();
    if (this.n > 0) {
      this.bits(0, 8 - this.n);
      this.flush();
    }
    return this.buf.slice(0, this.len);
  }
}
