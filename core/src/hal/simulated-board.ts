import {
  BoardEventHub,
  type BoardAdapter,
  type BoardCapabilities,
  type BoardEventName,
  type BoardEvents,
  type BoardFault,
  type BoardListener,
} from './board-adapter.js';
import { CP_NO_PWM, classifyCp, type CpOutput, type CpReading } from './cp.js';
import { ppFromOhms, type PpReading } from './pp.js';
import { systemTimers, OneShotTimer, type Timers } from './timers.js';

/** Faults the simulated board can be told to have. */
export const SIMULATED_FAULTS = [
  /** The contactor stays closed when commanded open. */
  'contactor_welded',
  /** The contactor stays open when commanded closed. */
  'contactor_fails_to_close',
  /** CP shorted to PE: the line reads 0 V (state E). */
  'cp_short',
  /** The EV's CP diode is missing: the negative PWM level follows the positive one. */
  'diode_fault',
  /** The PP line is open although a cable is plugged in. */
  'pp_open',
  /** The lock actuator does not move. */
  'plug_lock_jammed',
  // Safety inputs, reported as BoardFault events:
  'overcurrent',
  'rcd_trip',
  'emergency_stop',
  'overtemperature',
] as const;
export type SimulatedFault = (typeof SIMULATED_FAULTS)[number];

const SAFETY_INPUTS: ReadonlySet<string> = new Set<BoardFault>(['overcurrent', 'rcd_trip', 'emergency_stop', 'overtemperature']);

/** The vehicle side of the CP circuit (what a SimulatedEv sets). */
export interface VehicleCircuit {
  /** The vehicle connector is plugged into the EV's inlet. */
  readonly connected: boolean;
  /** The EV's S2 switch: closed = requesting energy (C, or D with ventilation). */
  readonly s2Closed: boolean;
  /** The EV needs ventilation: its S2 resistor gives 3 V (D) instead of 6 V (C). */
  readonly needsVentilation: boolean;
}

/** Commands the board received, in order; tests and the console use it. */
export type BoardCommand =
  | { readonly kind: 'cp'; readonly output: CpOutput }
  | { readonly kind: 'contactor'; readonly closed: boolean }
  | { readonly kind: 'plugLock'; readonly locked: boolean };

export interface SimulatedBoardOptions {
  readonly plcInterface?: string;
  /** Time from a contactor command to its feedback (default 20 ms). */
  readonly contactorDelayMs?: number;
  /** Time from a lock command to its feedback (default 20 ms). */
  readonly plugLockDelayMs?: number;
  readonly capabilities?: Partial<BoardCapabilities>;
  readonly timers?: Timers;
}

/**
 * A board in software: it models the CP levels from the simulated EV's resistors and diode, the PP
 * coding resistor of the cable, a contactor and a plug lock whose feedback follows a command after
 * a delay, and faults that can be injected at any time. Events are emitted in a microtask after the
 * change, as a real board's interrupt would arrive after the command that caused it.
 */
export class SimulatedBoard implements BoardAdapter {
  readonly name = 'simulated';
  readonly capabilities: BoardCapabilities;
  readonly plcInterface: string | undefined;
  /** Every command received, oldest first. */
  readonly commands: BoardCommand[] = [];

  private readonly hub = new BoardEventHub();
  private readonly outputListeners = new Set<(output: CpOutput) => void>();
  private readonly timers: Timers;
  private readonly contactorDelayMs: number;
  private readonly plugLockDelayMs: number;
  private readonly contactorTimer: OneShotTimer;
  private readonly lockTimer: OneShotTimer;
  private readonly faults = new Set<SimulatedFault>();

  private output: CpOutput = CP_NO_PWM;
  private vehicle: VehicleCircuit = { connected: false, s2Closed: false, needsVentilation: false };
  private cableOhms = Number.POSITIVE_INFINITY;
  private cp: CpReading;
  private pp: PpReading;
  private contactorCommand = false;
  private contactorClosed = false;
  private lockCommand = false;
  private locked = false;
  private running = false;

  constructor(options: SimulatedBoardOptions = {}) {
    this.plcInterface = options.plcInterface;
    this.timers = options.timers ?? systemTimers;
    this.contactorDelayMs = options.contactorDelayMs ?? 20;
    this.plugLockDelayMs = options.plugLockDelayMs ?? 20;
    this.capabilities = {
      contactorFeedback: true,
      plugLock: true,
      plugLockFeedback: true,
      proximityPilot: true,
      ...options.capabilities,
    };
    this.contactorTimer = new OneShotTimer(this.timers);
    this.lockTimer = new OneShotTimer(this.timers);
    this.cp = this.measureCp();
    this.pp = this.measurePp();
  }

  async start(): Promise<void> {
    this.running = true;
    this.setContactor(false);
    this.setCp(CP_NO_PWM);
  }

  async stop(): Promise<void> {
    this.setContactor(false);
    this.running = false;
    this.contactorTimer.cancel();
    this.lockTimer.cancel();
  }

  // --- BoardAdapter ------------------------------------------------------------------------------

  setCp(output: CpOutput): void {
    this.commands.push({ kind: 'cp', output });
    this.output = output;
    this.remeasure();
    for (const listener of [...this.outputListeners]) queueMicrotask(() => listener(output));
  }

  readCp(): CpReading {
    return this.cp;
  }

  readPp(): PpReading {
    return this.pp;
  }

  setContactor(closed: boolean): void {
    this.commands.push({ kind: 'contactor', closed });
    this.contactorCommand = closed;
    this.moveContactor();
  }

  readContactorFeedback(): boolean {
    return this.capabilities.contactorFeedback ? this.contactorClosed : this.contactorCommand;
  }

  setPlugLock(locked: boolean): void {
    this.commands.push({ kind: 'plugLock', locked });
    this.lockCommand = locked;
    this.moveLock();
  }

  readPlugLockFeedback(): boolean {
    return this.capabilities.plugLockFeedback ? this.locked : this.lockCommand;
  }

  activeFaults(): readonly BoardFault[] {
    return [...this.faults].filter((fault) => SAFETY_INPUTS.has(fault)) as BoardFault[];
  }

  on<K extends BoardEventName>(event: K, listener: BoardListener<K>): () => void {
    return this.hub.on(event, listener);
  }

  // --- simulation side ---------------------------------------------------------------------------

  /** The CP output the EVSE logic drives right now. */
  get cpOutput(): CpOutput {
    return this.output;
  }

  /** Whether the contactor is physically closed (the power path is live). */
  get contactorIsClosed(): boolean {
    return this.contactorClosed;
  }

  get plugIsLocked(): boolean {
    return this.locked;
  }

  /** Called (in a microtask) on every CP output command: the simulated EV watches the PWM. */
  onCpOutput(listener: (output: CpOutput) => void): () => void {
    this.outputListeners.add(listener);
    return () => void this.outputListeners.delete(listener);
  }

  /** Change the vehicle side of the CP circuit. */
  setVehicle(change: Partial<VehicleCircuit>): void {
    this.vehicle = { ...this.vehicle, ...change };
    this.remeasure();
  }

  get vehicleCircuit(): VehicleCircuit {
    return this.vehicle;
  }

  /** The cable's PP coding resistor in ohms; Infinity when no cable is in the socket. */
  setCableOhms(ohms: number): void {
    this.cableOhms = ohms;
    this.remeasure();
  }

  injectFault(fault: SimulatedFault, detail?: string): void {
    if (this.faults.has(fault)) return;
    this.faults.add(fault);
    this.afterFaultChange(fault, true, detail);
  }

  clearFault(fault: SimulatedFault): void {
    if (!this.faults.delete(fault)) return;
    this.afterFaultChange(fault, false);
  }

  hasFault(fault: SimulatedFault): boolean {
    return this.faults.has(fault);
  }

  // --- model -------------------------------------------------------------------------------------

  private afterFaultChange(fault: SimulatedFault, active: boolean, detail?: string): void {
    if (SAFETY_INPUTS.has(fault)) {
      const event = detail === undefined ? { fault: fault as BoardFault, active } : { fault: fault as BoardFault, active, detail };
      this.emit('fault', event);
    }
    if (fault === 'contactor_welded' || fault === 'contactor_fails_to_close') this.moveContactor();
    if (fault === 'plug_lock_jammed') this.moveLock();
    this.remeasure();
  }

  /** The positive and negative CP levels the EVSE would measure, from output, EV and faults. */
  private measureCp(): CpReading {
    if (this.faults.has('cp_short')) return classifyCp(0, this.output.kind === 'pwm' ? 0 : undefined);
    if (this.output.kind === 'steady' && this.output.volts !== 12) return classifyCp(this.output.volts);
    const { connected, s2Closed, needsVentilation } = this.vehicle;
    const high = !connected ? 12 : !s2Closed ? 9 : needsVentilation ? 3 : 6;
    if (this.output.kind === 'steady') return classifyCp(high);
    // Without its diode the EV's resistors load the negative half-wave as much as the positive one.
    const diodeMissing = connected && this.faults.has('diode_fault');
    return classifyCp(high, diodeMissing ? -high : -12);
  }

  private measurePp(): PpReading {
    if (!this.capabilities.proximityPilot) return { status: 'none', maxCurrentA: null };
    return ppFromOhms(this.faults.has('pp_open') ? Number.POSITIVE_INFINITY : this.cableOhms);
  }

  private remeasure(): void {
    const cp = this.measureCp();
    const previous = this.cp;
    this.cp = cp;
    if (cp.state !== previous.state || cp.diodeFault !== previous.diodeFault) this.emit('cp', cp);
    const pp = this.measurePp();
    const previousPp = this.pp;
    this.pp = pp;
    if (pp.status !== previousPp.status || pp.maxCurrentA !== previousPp.maxCurrentA) this.emit('pp', pp);
  }

  private moveContactor(): void {
    const target = this.contactorCommand;
    const stuck = target ? this.faults.has('contactor_fails_to_close') : this.faults.has('contactor_welded') && this.contactorClosed;
    if (stuck || target === this.contactorClosed) {
      this.contactorTimer.cancel();
      return;
    }
    this.contactorTimer.start(this.contactorDelayMs, () => {
      this.contactorClosed = target;
      this.emit('contactorFeedback', target);
    });
  }

  private moveLock(): void {
    const target = this.lockCommand;
    if (this.faults.has('plug_lock_jammed') || target === this.locked) {
      this.lockTimer.cancel();
      return;
    }
    this.lockTimer.start(this.plugLockDelayMs, () => {
      this.locked = target;
      this.emit('plugLockFeedback', target);
    });
  }

  private emit<K extends BoardEventName>(event: K, payload: BoardEvents[K]): void {
    queueMicrotask(() => {
      if (this.running) this.hub.emit(event, payload);
    });
  }
}
