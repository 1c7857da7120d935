/**
 * The SLAC module's only view of the control pilot (IEC 61851-1). The IEC 61851 state machine
 * (core/src/iec61851) implements this interface, or the lead wires an adapter around it; the SLAC code
 * depends on nothing else of it.
 */
export type CpState = 'A' | 'B' | 'C' | 'D' | 'E' | 'F';

export interface SlacControlPilot {
  /** Calls back on every state change; returns the unsubscribe function. */
  onStateChange(callback: (state: CpState) => void): () => void;
  state(): CpState;
  /**
   * Asks for the 5 % duty cycle that tells the EV to use digital communication (ISO 15118-3: the EVSE
   * shall offer it while SLAC may run).
   */
  requestFivePercent(): void;
  /**
   * SLAC failed for good in this plug-in session. The control pilot should leave 5 % for the nominal duty
   * cycle through E/F (ISO 15118-3 V2G3-M06-05, T_step_EF) so that the EV can charge basic.
   */
  slacFailed?(reason: string): void;
}

/** States in which a vehicle is connected and SLAC may run. */
export function isPluggedIn(state: CpState): boolean {
  return state === 'B' || state === 'C' || state === 'D';
}

/** A control pilot for the simulator and tests: the state is set by hand. */
export class SimulatedControlPilot implements SlacControlPilot {
  #state: CpState;
  #fivePercent = false;
  readonly #listeners = new Set<(state: CpState) => void>();
  readonly failures: string[] = [];

  constructor(initial: CpState = 'A') {
    this.#state = initial;
  }

  onStateChange(callback: (state: CpState) => void): () => void {
    this.#listeners.add(callback);
    return () => this.#listeners.delete(callback);
  }

  state(): CpState {
    return this.#state;
  }

  get fivePercent(): boolean {
    return this.#fivePercent;
  }

  requestFivePercent(): void {
    this.#fivePercent = true;
  }

  slacFailed(reason: string): void {
    this.failures.push(reason);
    this.#fivePercent = false;
  }

  /** Changes the state as if the EV had (un)plugged or switched its resistor. */
  set(state: CpState): void {
    if (state === this.#state) return;
    this.#state = state;
    if (state === 'A') this.#fivePercent = false;
    for (const listener of [...this.#listeners]) listener(state);
  }
}
