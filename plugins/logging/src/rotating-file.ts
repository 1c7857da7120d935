import { mkdir, open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { LineQueue } from './line-queue.js';

export interface RotatingFileOptions {
  readonly path: string;
  /** Rotate when the file reaches this size (a line is never split; a longer line gets a file of its own). */
  readonly maxBytes: number;
  /** Files kept, the current one included: NAME, NAME.1 (newest archive) … NAME.<maxFiles-1>. */
  readonly maxFiles: number;
  /** Rotate a non-empty file this many ms after it was started; 0 = by size only. */
  readonly intervalMs: number;
  /** Bytes waiting for the disk beyond which new lines are dropped (and counted). */
  readonly maxQueueBytes: number;
  /** The line written after lines were dropped, in the file's own format. */
  readonly dropNote?: (count: number) => string;
  /** A write or rotation failed (disk full, permissions): the lines concerned are counted as dropped. */
  readonly onError?: (error: Error) => void;
  /**
   * How long lines gather before a write starts (default 25 ms). A trace of the CurrentDemand
   * loop makes thousands of lines a second; one write per line would cost a system call and a
   * thread-pool round trip each, on the core that answers the car.
   */
  readonly batchDelayMs?: number;
}

const DEFAULT_BATCH_DELAY_MS = 25;

/**
 * An append-only line file with logrotate-style rotation and retention, written without ever
 * blocking the caller: write() only queues; one asynchronous loop writes batches and rotates
 * between them. When the disk cannot keep up, lines beyond the queue limit are dropped and
 * counted, and a note with the count is written once the queue has drained. Written by hand:
 * the libraries (rotating-file-stream, pino-roll) buffer without bound and cannot drop-and-count.
 */
export class RotatingFile {
  private readonly queue = new LineQueue();
  private handle: FileHandle | undefined;
  private size = 0;
  private startedAt = 0;
  private running: Promise<void> | undefined;
  private rotateRequested = false;
  private closed = false;
  private droppedTotal = 0;
  private droppedUnreported = 0;
  private writtenLines = 0;
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: RotatingFileOptions) {
    if (!(options.maxBytes > 0)) throw new RangeError(`RotatingFile ${options.path}: maxBytes must be > 0`);
    if (!(Number.isInteger(options.maxFiles) && options.maxFiles >= 1)) throw new RangeError(`RotatingFile ${options.path}: maxFiles must be an integer >= 1`);
    if (options.intervalMs > 0) {
      // Checks often enough that a rotation is late by at most a tenth of the interval (or a minute).
      const every = Math.max(10, Math.min(60_000, Math.floor(options.intervalMs / 10)));
      this.timer = setInterval(() => this.checkTime(), every);
      this.timer.unref();
    }
  }

  get path(): string {
    return this.options.path;
  }

  /** Lines dropped since the file was opened (queue full or write errors). */
  get dropped(): number {
    return this.droppedTotal;
  }

  get written(): number {
    return this.writtenLines;
  }

  /** Queue one line (a trailing newline is added when missing). Returns false when it was dropped. */
  write(line: string): boolean {
    if (this.closed) return false;
    const length = line.endsWith('\n') ? line.length : line.length + 1;
    if (this.queue.bytes + length > this.options.maxQueueBytes) {
      this.droppedTotal++;
      this.droppedUnreported++;
      return false;
    }
    this.queue.push(line);
    this.kick();
    return true;
  }

  /** Resolves when everything queued so far is on disk (or dropped). */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Write what is queued, then close. Later writes are refused. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.flush();
    await this.handle?.close().catch(() => undefined);
    this.handle = undefined;
  }

  private kick(): void {
    if (this.running) return;
    const delay = this.closed ? 0 : (this.options.batchDelayMs ?? DEFAULT_BATCH_DELAY_MS);
    this.running = new Promise((resolve) => setTimeout(resolve, delay)).then(() => this.drain()).finally(() => {
      this.running = undefined;
      // Lines or a rotation request that arrived while the loop was finishing.
      if (this.queue.length || this.rotateRequested) this.kick();
    });
  }

  private checkTime(): void {
    if (this.size > 0 && this.startedAt > 0 && Date.now() - this.startedAt >= this.options.intervalMs) {
      this.rotateRequested = true;
      this.kick();
    }
  }

  private async drain(): Promise<void> {
    while (this.queue.length || this.rotateRequested || this.droppedUnreported) {
      try {
        if (!this.handle) await this.openCurrent();
        if (this.rotateRequested) {
          this.rotateRequested = false;
          if (this.size > 0) await this.rotate();
          continue;
        }
        if (!this.queue.length) {
          this.queueNote();
          if (!this.queue.length) break;
        }
        const batch = this.takeBatch();
        if (batch.lines === 0) continue;
        if (batch.views.length === 1) await this.handle!.write(batch.views[0]!);
        else await this.handle!.writev(batch.views);
        this.size += batch.bytes;
        this.writtenLines += batch.lines;
        if (this.size >= this.options.maxBytes) await this.rotate();
        else if (this.options.intervalMs > 0 && Date.now() - this.startedAt >= this.options.intervalMs) await this.rotate();
      } catch (error) {
        // The batch (or whatever was queued when the file could not be opened) is lost; count it
        // and try again with the next line.
        const lost = this.pendingBatch;
        this.droppedTotal += lost;
        this.droppedUnreported += lost;
        this.pendingBatch = 0;
        await this.handle?.close().catch(() => undefined);
        this.handle = undefined;
        this.options.onError?.(error as Error);
        if (this.closed) {
          // Closing on a broken disk: give up on what is left rather than hang the shutdown.
          this.droppedTotal += this.queue.clear();
          this.droppedUnreported = 0;
          break;
        }
        if (!this.queue.length) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  private pendingBatch = 0;

  /** Whole lines that fit the current file (at least one, so an oversized line still gets written). */
  private takeBatch(): { views: Buffer[]; lines: number; bytes: number } {
    const room = this.options.maxBytes - this.size;
    const next = this.queue.peekSize();
    if (next !== undefined && this.size > 0 && next > room) {
      // Does not fit what is left: rotate first so the line starts a file.
      this.rotateRequested = true;
      this.pendingBatch = 0;
      return { views: [], lines: 0, bytes: 0 };
    }
    const batch = this.queue.take(room, 4096);
    this.pendingBatch = batch.lines;
    return batch;
  }

  private queueNote(): void {
    if (!this.droppedUnreported || !this.options.dropNote) {
      this.droppedUnreported = 0;
      return;
    }
    const note = this.options.dropNote(this.droppedUnreported);
    this.droppedUnreported = 0;
    this.queue.push(note);
  }

  private async openCurrent(): Promise<void> {
    await mkdir(dirname(this.options.path), { recursive: true });
    this.handle = await open(this.options.path, 'a');
    const stats = await this.handle.stat();
    this.size = stats.size;
    // A file continued after a restart keeps its age (birth time where the filesystem has one).
    this.startedAt = stats.size > 0 ? (stats.birthtimeMs > 0 ? stats.birthtimeMs : stats.mtimeMs) : Date.now();
  }

  private async rotate(): Promise<void> {
    await this.handle?.close();
    this.handle = undefined;
    const { path, maxFiles } = this.options;
    if (maxFiles === 1) {
      await rm(path, { force: true });
    } else {
      // Only the archives that exist are touched (one readdir, not maxFiles rename attempts).
      const archives = await this.archiveIndexes();
      for (const index of archives.filter((i) => i >= maxFiles - 1)) await rm(`${path}.${index}`, { force: true });
      for (const index of archives.filter((i) => i < maxFiles - 1).sort((a, b) => b - a)) await rename(`${path}.${index}`, `${path}.${index + 1}`);
      await rename(path, `${path}.1`);
    }
    await this.openCurrent();
  }

  /** The n of every NAME.<n> next to the file. */
  private async archiveIndexes(): Promise<number[]> {
    const name = basename(this.options.path);
    const out: number[] = [];
    for (const entry of await readdir(dirname(this.options.path))) {
      if (!entry.startsWith(name + '.')) continue;
      const suffix = entry.slice(name.length + 1);
      if (/^\d+$/.test(suffix)) out.push(Number(suffix));
    }
    return out;
  }
}

/** Size of a file, 0 when absent. */
export async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}
