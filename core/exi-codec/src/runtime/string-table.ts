import type { BitReader } from './bit-reader.js';
import type { BitWriter } from './bit-writer.js';

// Shared empty tables: most V2G messages carry no strings, so a stream allocates only on its first one.
const EMPTY: never[] = [];
const bitsFor = (n: number): number => (n <= 1 ? 0 : 32 - Math.clz32(n - 1));

/**
 * The EXI string table's value partitions (global, and local per element/attribute qname),
 * kept per stream. Qnames are numbered by the generated code (`qid`).
 *
 * Decoding resolves local and global hits. Encoding writes every value as a literal by default,
 * as the V2G reference codecs (cbexigen, OpenV2G) do: ISO 15118 signatures are computed over
 * re-encoded fragments, so both sides must produce the same bytes, and embedded decoders may
 * not implement hits. With `useHits`, encoding prefers a local hit, then a global hit, as
 * EXIficient does (EXI 1.0 section 7.3.3).
 */
export class StringTable {
  constructor(private useHits = false) {}

  private global: string[] = EMPTY;
  private local: (string[] | undefined)[] = EMPTY;
  private globalIndex: Map<string, number> | undefined;
  private localIndex: (Map<string, number> | undefined)[] | undefined;

  /** Empties the table for the next stream (encode() and decode() keep one table). */
  reset(useHits = false): this {
    this.useHits = useHits;
    if (this.global !== EMPTY) {
      this.global = EMPTY;
      this.local = EMPTY;
      this.globalIndex = undefined;
      this.localIndex = undefined;
    }
    return this;
  }

  read(r: BitReader, qid: number, maxLength: number): string {
    const start = r.pos;
    const h = r.uint();
    if (h === 0) {
      const part = this.local[qid];
      const n = part ? part.length : 0;
      if (n === 0) r.fail('invalid-value', 'local string-table hit with an empty local partition', start);
      const i = r.bits(bitsFor(n));
      if (i >= n) r.fail('invalid-value', `local string-table index ${i} of ${n}`, start);
      return this.checkLength(r, part![i]!, maxLength, start);
    }
    if (h === 1) {
      const n = this.global.length;
      if (n === 0) r.fail('invalid-value', 'global string-table hit with an empty table', start);
      const i = r.bits(bitsFor(n));
      if (i >= n) r.fail('invalid-value', `global string-table index ${i} of ${n}`, start);
      return this.checkLength(r, this.global[i]!, maxLength, start);
    }
    const len = h - 2;
    if (len > maxLength) r.fail('too-long', `string of ${len} characters, maximum ${maxLength}`, start);
    // Each character takes at least 8 bits: refuse lengths the rest of the stream cannot hold.
    if (len * 8 > r.remaining) r.fail('truncated', `string of ${len} characters exceeds the stream`, start);
    let s = '';
    for (let k = 0; k < len; k++) {
      const cp = r.uint(0x10ffff);
      s += String.fromCodePoint(cp);
    }
    if (len > 0) this.add(qid, s);
    return s;
  }

  write(w: BitWriter, qid: number, s: string, maxLength: number): void {
    if (!this.useHits) {
      this.writeLiteral(w, s, maxLength);
      return;
    }
    const li = this.localIndex?.[qid]?.get(s);
    if (li !== undefined) {
      w.uint(0);
      w.bits(li, bitsFor(this.local[qid]!.length));
      return;
    }
    const gi = this.globalIndex?.get(s);
    if (gi !== undefined) {
      w.uint(1);
      w.bits(gi, bitsFor(this.global.length));
      return;
    }
    if (this.writeLiteral(w, s, maxLength) > 0) this.add(qid, s);
  }

  /** Writes length + 2 and the code points; returns the length in characters. */
  private writeLiteral(w: BitWriter, s: string, maxLength: number): number {
    const cps: number[] = [];
    for (const ch of s) cps.push(ch.codePointAt(0)!);
    if (cps.length > maxLength) w.fail('too-long', `string of ${cps.length} characters, maximum ${maxLength}`);
    w.uint(cps.length + 2);
    for (const cp of cps) w.uint(cp);
    return cps.length;
  }

  private checkLength(r: BitReader, s: string, maxLength: number, start: number): string {
    if (s.length > maxLength && [...s].length > maxLength) r.fail('too-long', `string of ${[...s].length} characters, maximum ${maxLength}`, start);
    return s;
  }

  private add(qid: number, s: string): void {
    if (this.global === EMPTY) {
      this.global = [];
      this.local = [];
    }
    const part = this.local[qid] ?? (this.local[qid] = []);
    this.globalIndex ??= new Map();
    this.localIndex ??= [];
    const lmap = this.localIndex[qid] ?? (this.localIndex[qid] = new Map());
    if (!lmap.has(s)) lmap.set(s, part.length);
    if (!this.globalIndex.has(s)) this.globalIndex.set(s, this.global.length);
    part.push(s);
    this.global.push(s);
  }
}
