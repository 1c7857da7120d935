/** Bytes per chunk of the queue; a longer line gets a chunk of its own size. */
const CHUNK_BYTES = 64 * 1024;
/** Most UTF-8 bytes one UTF-16 code unit can take: a line of n units surely fits in 3n bytes. */
const MAX_UTF8_PER_UNIT = 3;

interface Chunk {
  readonly bytes: Buffer;
  /** Bytes written into `bytes`. */
  length: number;
  /** Byte offset at which each queued line ends. */
  readonly ends: number[];
  /** Lines (and their bytes) already taken. */
  takenLines: number;
  takenBytes: number;
}

/**
 * Lines waiting for the disk, kept as UTF-8 bytes outside the JavaScript heap. A trace line is
 * encoded the moment it is queued, so the string dies young; a queue of strings would keep a
 * batch's worth alive across garbage collections, and the collector copies survivors on the
 * thread that answers the car. Taking lines hands out views of the chunks, written with one
 * writev; a chunk is reused once everything taken from it has been written.
 */
export class LineQueue {
  private chunks: Chunk[] = [];
  private spare: Buffer | undefined;
  private queued = 0;
  private lines = 0;

  /** Bytes queued and not yet taken. */
  get bytes(): number {
    return this.queued;
  }

  get length(): number {
    return this.lines;
  }

  /**
   * Queue one line, with a newline added when it has none (written as a byte: no second string
   * per line). Returns its size in bytes.
   */
  push(line: string): number {
    const newline = line.endsWith('\n') ? 0 : 1;
    let chunk = this.chunks.at(-1);
    const roomNeeded = line.length * MAX_UTF8_PER_UNIT + newline;
    if (!chunk || chunk.bytes.length - chunk.length < roomNeeded) {
      const exact = Buffer.byteLength(line) + newline;
      if (!chunk || chunk.bytes.length - chunk.length < exact) chunk = this.newChunk(exact);
    }
    let written = chunk.bytes.write(line, chunk.length, 'utf8');
    if (newline) chunk.bytes[chunk.length + written++] = 0x0a;
    chunk.length += written;
    chunk.ends.push(chunk.length);
    this.queued += written;
    this.lines++;
    return written;
  }

  /**
   * Take whole lines from the front: as many as fit `room` bytes (at least one, whatever its
   * size) and at most `maxLines`. Returns the views to write, and how many lines and bytes they
   * hold. The views stay valid until the next take.
   */
  take(room: number, maxLines: number): { views: Buffer[]; lines: number; bytes: number } {
    this.recycle();
    const views: Buffer[] = [];
    let lines = 0;
    let bytes = 0;
    for (const chunk of this.chunks) {
      const start = chunk.takenBytes;
      while (chunk.takenLines < chunk.ends.length && lines < maxLines) {
        const end = chunk.ends[chunk.takenLines]!;
        const size = end - chunk.takenBytes;
        if (lines > 0 && bytes + size > room) break;
        chunk.takenLines++;
        chunk.takenBytes = end;
        lines++;
        bytes += size;
      }
      if (chunk.takenBytes > start) views.push(chunk.bytes.subarray(start, chunk.takenBytes));
      if (chunk.takenLines < chunk.ends.length) break;
    }
    this.queued -= bytes;
    this.lines -= lines;
    return { views, lines, bytes };
  }

  /** Size in bytes of the next line to take, or undefined when none is queued. */
  peekSize(): number | undefined {
    for (const chunk of this.chunks) {
      if (chunk.takenLines < chunk.ends.length) return chunk.ends[chunk.takenLines]! - chunk.takenBytes;
    }
    return undefined;
  }

  /** Forget everything queued; returns how many lines that was. */
  clear(): number {
    const lines = this.lines;
    this.chunks = [];
    this.queued = 0;
    this.lines = 0;
    return lines;
  }

  private newChunk(minimum: number): Chunk {
    let bytes: Buffer;
    if (minimum <= CHUNK_BYTES && this.spare) {
      bytes = this.spare;
      this.spare = undefined;
    } else {
      bytes = Buffer.allocUnsafeSlow(Math.max(CHUNK_BYTES, minimum));
    }
    const chunk: Chunk = { bytes, length: 0, ends: [], takenLines: 0, takenBytes: 0 };
    this.chunks.push(chunk);
    return chunk;
  }

  /** Drop the chunks taken in full (their views have been written by now); keep one to reuse. */
  private recycle(): void {
    while (this.chunks.length > 0) {
      const first = this.chunks[0]!;
      if (first.takenLines < first.ends.length || (first === this.chunks.at(-1) && first.length < first.bytes.length / 2)) break;
      this.chunks.shift();
      if (first.bytes.length === CHUNK_BYTES) this.spare = first.bytes;
    }
  }
}
