import { OneShotTimer, type Timers } from './timers.js';

/** Why a supervised switch ended in its error state. */
export type SwitchFault =
  /** Commanded on, the feedback did not follow in time (contactor fails to close, lock jammed). */
  | 'engage_timeout'
  /** Commanded off, the feedback did not follow in time (contactor welded, lock stuck). */
  | 'release_timeout'
  /** The feedback went off while the switch was held on (contactor dropped out). */
  | 'dropped'
  /** The feedback went on while the switch was commanded off (welded contacts, wiring fault). */
  | 'engaged_uncommanded';

export interface SwitchStateNames<S extends string> {
  readonly off: S;
  readonly engaging: S;
  readonly on: S;
  readonly releasing: S;
  readonly error: S;
}

export interface SupervisedSwitchOptions<S extends string> {
  readonly names: SwitchStateNames<S>;
  readonly timers: Timers;
  /** How long the feedback may take to follow a command. */
  readonly feedbackTimeoutMs: number;
  /** Without feedback a command counts as done at once. */
  readonly hasFeedback: boolean;
  readonly command: (on: boolean) => void;
  readonly readFeedback: () => boolean;
  readonly subscribeFeedback: (listener: (on: boolean) => void) => () => void;
  readonly onChange: (state: S, fault: SwitchFault | undefined) => void;
}

/**
 * An actuator with a feedback contact, supervised: every command must be confirmed by the feedback
 * within a timeout, and any feedback change nobody commanded is an error. Used for the contactor
 * and the plug lock, which differ only in their state names.
 */
export class SupervisedSwitch<S extends string> {
  private current: S;
  private lastFault: SwitchFault | undefined;
  private commanded = false;
  private readonly timer: OneShotTimer;
  private waiters: Array<{ target: boolean; resolve: (ok: boolean) => void }> = [];
  private readonly unsubscribe: () => void;

  constructor(private readonly options: SupervisedSwitchOptions<S>) {
    this.timer = new OneShotTimer(options.timers);
    // Start from what the hardware reports, so a lock left closed is seen (and released) as such.
    this.commanded = options.hasFeedback && options.readFeedback();
    this.current = this.commanded ? options.names.on : options.names.off;
    this.unsubscribe = options.subscribeFeedback((on) => this.onFeedback(on));
  }

  get state(): S {
    return this.current;
  }

  get fault(): SwitchFault | undefined {
    return this.lastFault;
  }

  /** True only when the feedback confirms the switch is off (for a contactor: no current can flow). */
  get confirmedOff(): boolean {
    return this.current === this.options.names.off;
  }

  /** Close / lock. Resolves true once confirmed, false when it failed or was countermanded. */
  engage(): Promise<boolean> {
    const { names } = this.options;
    if (this.commanded && this.current === names.on) return Promise.resolve(true);
    const done = this.wait(true);
    if (!this.commanded || this.current !== names.engaging) {
      this.commanded = true;
      this.resolveWaiters(false, false);
      this.options.command(true);
      this.afterCommand();
    }
    return done;
  }

  /** Open / unlock. Always re-sends the command, even from the error state (retry). */
  release(): Promise<boolean> {
    const done = this.wait(false);
    const wasEngaged = this.commanded;
    this.commanded = false;
    if (wasEngaged) this.resolveWaiters(true, false);
    this.options.command(false);
    // Already on its way: keep the running timeout, or repeated calls would hide a welded contact.
    if (!wasEngaged && this.current === this.options.names.releasing) return done;
    this.afterCommand();
    return done;
  }

  dispose(): void {
    this.timer.cancel();
    this.unsubscribe();
    this.resolveWaiters(true, false);
    this.resolveWaiters(false, false);
  }

  private afterCommand(): void {
    const { names } = this.options;
    const target = this.commanded;
    if (!this.options.hasFeedback || this.options.readFeedback() === target) {
      this.timer.cancel();
      this.settle(target ? names.on : names.off, undefined);
      return;
    }
    this.set(target ? names.engaging : names.releasing, undefined);
    this.timer.start(this.options.feedbackTimeoutMs, () => this.onTimeout(target));
  }

  private onTimeout(target: boolean): void {
    if (target) {
      // Do not leave a coil energised that did not pull in.
      this.commanded = false;
      this.options.command(false);
      this.set(this.options.names.error, 'engage_timeout');
      this.resolveWaiters(true, false);
    } else {
      this.set(this.options.names.error, 'release_timeout');
      this.resolveWaiters(false, false);
    }
  }

  private onFeedback(on: boolean): void {
    if (!this.options.hasFeedback) return;
    const { names } = this.options;
    if (on === this.commanded) {
      this.timer.cancel();
      this.settle(on ? names.on : names.off, undefined);
      return;
    }
    if (this.timer.pending) return; // still moving towards the commanded position
    if (this.commanded && !on) {
      this.commanded = false;
      this.options.command(false);
      this.set(names.error, 'dropped');
      this.resolveWaiters(true, false);
    } else if (!this.commanded && on) {
      this.set(names.error, 'engaged_uncommanded');
    }
  }

  private settle(state: S, fault: SwitchFault | undefined): void {
    this.set(state, fault);
    this.resolveWaiters(this.commanded, true);
  }

  private set(state: S, fault: SwitchFault | undefined): void {
    if (state === this.current && fault === this.lastFault) return;
    this.current = state;
    this.lastFault = fault;
    this.options.onChange(state, fault);
  }

  private wait(target: boolean): Promise<boolean> {
    return new Promise((resolve) => this.waiters.push({ target, resolve }));
  }

  private resolveWaiters(target: boolean, ok: boolean): void {
    const keep: typeof this.waiters = [];
    for (const waiter of this.waiters) {
      if (waiter.target === target) waiter.resolve(ok);
      else keep.push(waiter);
    }
    this.waiters = keep;
  }
}
