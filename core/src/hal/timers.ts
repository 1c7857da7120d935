/**
 * Timer functions as an explicit dependency, so the charging logic never reaches for globals and
 * a test or a real-time host can supply its own.
 */
export type TimerHandle = unknown;

export interface Timers {
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Node's own timers. */
export const systemTimers: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** One pending timeout that can be re-armed or cancelled; a new start cancels the previous one. */
export class OneShotTimer {
  private handle: TimerHandle | undefined;

  constructor(private readonly timers: Timers) {}

  get pending(): boolean {
    return this.handle !== undefined;
  }

  start(ms: number, callback: () => void): void {
    this.cancel();
    const handle = this.timers.setTimeout(() => {
      if (this.handle !== handle) return;
      this.handle = undefined;
      callback();
    }, ms);
    this.handle = handle;
  }

  cancel(): void {
    if (this.handle === undefined) return;
    this.timers.clearTimeout(this.handle);
    this.handle = undefined;
  }
}
