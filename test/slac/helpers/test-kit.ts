/** Small real parts for the SLAC tests: a pino logger that keeps its records, and an in-memory Bus. */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Bus, BusHandler, BusMessage, Logger } from '@opensecc/plugin-api';

export interface LogRecord {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** A pino logger at debug level writing into an array (set SLAC_TEST_LOG=1 to also print). */
export function recordingLogger(): { log: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n')) {
        if (!line) continue;
        const record = JSON.parse(line) as LogRecord;
        records.push(record);
        if (process.env.SLAC_TEST_LOG) process.stderr.write(line + '\n');
      }
      callback();
    },
  });
  return { log: pino({ level: 'debug' }, stream) as unknown as Logger, records };
}

/** A minimal Bus (publish/subscribe/retain) until tests use the kernel's KernelBus. */
export class TestBus implements Bus {
  readonly published: BusMessage[] = [];
  readonly #retained = new Map<string, BusMessage>();
  readonly #handlers = new Set<{ pattern: string; handler: BusHandler }>();

  publish<T>(topic: string, value: T): void {
    const message: BusMessage = { topic, value, origin: { kind: 'kernel', name: 'slac' }, at: Date.now() };
    this.published.push(message);
    this.#retained.set(topic, message);
    for (const { pattern, handler } of this.#handlers) if (pattern === topic || pattern === '#') handler(message);
  }

  subscribe<T>(pattern: string, handler: BusHandler<T>): () => void {
    const entry = { pattern, handler: handler as BusHandler };
    this.#handlers.add(entry);
    return () => this.#handlers.delete(entry);
  }

  get<T>(topic: string): T | undefined {
    return this.#retained.get(topic)?.value as T | undefined;
  }

  snapshot(): BusMessage[] {
    return [...this.#retained.values()];
  }

  values<T>(topic: string): T[] {
    return this.published.filter((m) => m.topic === topic).map((m) => m.value as T);
  }
}

/** Resolves when `emitter` emits `event` with a value that passes `accept`, or rejects after `ms` (a hang guard, not a timing assertion). */
export function waitForEvent<T>(
  emitter: { on(event: string, listener: (value: T) => void): unknown; off(event: string, listener: (value: T) => void): unknown },
  event: string,
  accept: (value: T) => boolean = () => true,
  ms = 10_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`no '${event}' event within ${ms} ms`));
    }, ms);
    const listener = (value: T) => {
      if (!accept(value)) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve(value);
    };
    emitter.on(event, listener);
  });
}

export const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Shortened timers so failure paths finish in well under a second; the ratios follow the standard. */
export const FAST_TIMERS = {
  evseSlacInitMs: 300,
  matchSequenceMs: 100,
  matchResponseMs: 60,
  evseMatchMnbcMs: 300,
  evAttenResultsMs: 500,
  evseMatchSessionMs: 250,
  matchJoinMs: 500,
  evBatchMsgIntervalMs: 2,
  soundingGraceMs: 20,
};
