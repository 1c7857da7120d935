export interface RestartPolicy {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  /** Restarts allowed within resetAfterMs; one more and the plugin stays failed. */
  readonly maxRestarts: number;
  readonly resetAfterMs: number;
}

/** Exponential back-off for one plugin: the delay doubles with each failure inside the window. */
export class Backoff {
  private failures: number[] = [];

  constructor(private readonly policy: RestartPolicy) {}

  /** The delay before the next restart, or undefined when the plugin has failed too often. */
  next(now = Date.now()): number | undefined {
    this.failures = this.failures.filter((at) => now - at < this.policy.resetAfterMs);
    if (this.failures.length >= this.policy.maxRestarts) return undefined;
    const delay = Math.min(this.policy.initialDelayMs * 2 ** this.failures.length, this.policy.maxDelayMs);
    this.failures.push(now);
    return delay;
  }

  get count(): number {
    return this.failures.length;
  }
}
