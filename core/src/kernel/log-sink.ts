import type { DestinationStream } from 'pino';

/** Receives every log line the kernel writes (one JSON object, newline-terminated). Must not block. */
export type LogLineListener = (line: string) => void;

/** The kernel capability 'log-sink': lets a plugin (logging) receive the log lines as they are written. */
export interface LogSinkApi {
  /** Start receiving lines; returns the detach function. */
  attach(listener: LogLineListener): () => void;
}

/**
 * A pino destination that writes to the primary destination (stdout as JSON lines, for journald)
 * and hands each line to the attached listeners. pino calls write() once per log line, so a
 * listener sees whole lines. A listener that throws is detached: logging must never fail the
 * caller, and a broken file writer must not take stdout down with it.
 *
 * Kernel hook (kernel.ts): `const sink = new LogSink(options.logDestination ?? pino.destination({ dest: 1, sync: false }))`,
 * `new LogManager(effective.log, sink)` and `this.capabilities.set('log-sink', sink)`.
 */
export class LogSink implements DestinationStream, LogSinkApi {
  private listeners: LogLineListener[] = [];

  constructor(private readonly primary: DestinationStream) {}

  write(line: string): void {
    this.primary.write(line);
    for (const listener of this.listeners) {
      try {
        listener(line);
      } catch {
        this.listeners = this.listeners.filter((l) => l !== listener);
      }
    }
  }

  attach(listener: LogLineListener): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /** pino's logger.flush() forwards here; the primary (sonic-boom) flushes its buffer. */
  flush(callback?: (error?: Error) => void): void {
    const primary = this.primary as { flush?: (cb?: (error?: Error) => void) => void };
    if (primary.flush) primary.flush(callback);
    else callback?.();
  }

  /** pino.final / flushSync support on the primary destination. */
  flushSync(): void {
    (this.primary as { flushSync?: () => void }).flushSync?.();
  }
}
