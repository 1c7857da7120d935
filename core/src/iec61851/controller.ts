import type { Bus, BusMessage, Logger, Unsubscribe } from '@opensecc/plugin-api';
import type { BoardAdapter, BoardFault, BoardFaultEvent } from '../hal/board-adapter.js';
import { Contactor, type ContactorState } from '../hal/contactor.js';
import { CP_NO_PWM, CP_STATE_F, dutyOfOutput, sameOutput, type CpOutput, type CpReading, type CpState } from '../hal/cp.js';
import { PlugLock, type PlugLockState } from '../hal/plug-lock.js';
import type { PpReading } from '../hal/pp.js';
import type { SwitchFault } from '../hal/supervised-switch.js';
import { OneShotTimer, systemTimers, type Timers } from '../hal/timers.js';
import type { ChargingState } from './charging-state.js';
import { resolveIec61851Config, type Iec61851Config } from './config.js';
import { dutyForCurrent, HLC_DUTY_PERCENT } from './duty-cycle.js';
import { FAULTS, type ActiveError, type ExternalFault, type FaultClearing, type FaultCode, type SafeCp } from './faults.js';
import { IEC61851_TOPICS as T } from './topics.js';

export interface Iec61851ControllerDeps {
  readonly board: BoardAdapter;
  /** The bus, stamped with the controller's origin (e.g. `kernelBus.view({kind:'kernel', name:'iec61851'})`). */
  readonly bus: Bus;
  readonly log: Logger;
  readonly config?: Partial<Iec61851Config>;
  readonly timers?: Timers;
  /** Wall clock for error timestamps (default Date.now). */
  readonly now?: () => number;
}

export type CpStateListener = (state: CpState, previous: CpState | undefined) => void;

interface RaisedError {
  readonly entry: ActiveError;
  readonly cp: SafeCp;
  readonly clearing: FaultClearing;
}

type Mode = 'created' | 'normal' | 'fault' | 'stopped';

/**
 * The IEC 61851-1 charging state machine of one charging point.
 *
 * It reads the CP/PP/feedback/safety inputs from the board, the customer's limits from the bus
 * (`ci/charging/enable`, `ci/charging/ac_max_current`), and from them decides the CP output, the
 * contactor and the plug lock; it publishes what it measured and decided on the `ci/…` topics.
 * Decisions are made in one place (`reconcile`), from the current inputs, so every event — a CP
 * change, a customer publish, a feedback, a timer — leads to the same consistent outputs.
 *
 * Every fault goes through one safe-stop path: contactor commanded open, then the CP driven to a
 * safe level (F or steady +12 V), the plug unlocked only once the contactor's feedback confirms
 * that no current can flow.
 *
 * A high-level-communication layer (SLAC, DIN 70121 / ISO 15118) drives it through
 * `setHighLevelCommunication`, `requestPowerDelivery`, `onCpStateChange` and `safeStop`.
 */
export class Iec61851Controller {
  readonly config: Iec61851Config;
  private readonly board: BoardAdapter;
  private readonly bus: Bus;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly contactor: Contactor;
  private readonly lock: PlugLock;
  private readonly evStopTimer: OneShotTimer;
  private readonly recoveryTimer: OneShotTimer;

  private mode: Mode = 'created';
  private cp: CpReading;
  private pp: PpReading;
  private output: CpOutput | undefined;
  private enabled = true;
  private customerMaxCurrentA: number | undefined;
  private hlcMode = false;
  private hlcPowerRequested = false;
  private readonly boardFaults = new Set<BoardFault>();
  private readonly errors = new Map<string, RaisedError>();
  private readonly published = new Map<string, string>();
  private readonly cpListeners = new Set<CpStateListener>();
  private powerWaiters: Array<{ target: 'closed' | 'open'; resolve: (ok: boolean) => void }> = [];
  private readonly unsubscribers: Unsubscribe[] = [];
  private reconciling = false;
  private reconcileAgain = false;

  constructor(deps: Iec61851ControllerDeps) {
    this.config = resolveIec61851Config(deps.config);
    this.board = deps.board;
    this.bus = deps.bus;
    this.log = deps.log;
    this.now = deps.now ?? Date.now;
    const timers = deps.timers ?? systemTimers;
    this.evStopTimer = new OneShotTimer(timers);
    this.recoveryTimer = new OneShotTimer(timers);
    this.contactor = new Contactor(this.board, timers, this.config.contactorFeedbackTimeoutMs, (s, f) => this.onContactorChange(s, f));
    this.lock = new PlugLock(this.board, timers, this.config.plugLockTimeoutMs, (s, f) => this.onPlugLockChange(s, f));
    this.cp = this.board.readCp();
    this.pp = this.board.readPp();
  }

  // --- life cycle ----------------------------------------------------------------------------------

  /** Start the board, bring it to a safe idle state and begin following its inputs. */
  async start(): Promise<void> {
    if (this.mode !== 'created') throw new Error(`Iec61851Controller.start(): already ${this.mode === 'stopped' ? 'stopped' : 'started'}`);
    await this.board.start();
    this.mode = 'normal';
    const board = this.board;
    this.unsubscribers.push(
      board.on('cp', (reading) => this.onCp(reading)),
      board.on('pp', (reading) => this.onPp(reading)),
      board.on('fault', (event) => this.onBoardFault(event)),
      this.bus.subscribe<unknown>(T.enable, (m) => this.onEnable(m), { replay: true }),
      this.bus.subscribe<unknown>(T.acMaxCurrent, (m) => this.onAcMaxCurrent(m), { replay: true }),
    );
    this.cp = board.readCp();
    this.pp = board.readPp();
    this.applyCp(CP_NO_PWM);
    this.contactor.release();
    this.publishCp(undefined);
    this.publishPp();
    this.publish(T.contactorState, this.contactor.state);
    this.publish(T.plugLockState, this.lock.state);
    this.publish(T.errorActive, []);
    for (const fault of board.activeFaults()) this.onBoardFault({ fault, active: true });
    this.checkInputs();
    this.reconcile();
    this.log.info({ board: board.name, plcInterface: board.plcInterface }, 'IEC 61851 controller started');
  }

  /** Stop: contactor open, CP to F, plug unlocked if the contactor confirms open, board stopped. */
  async stop(): Promise<void> {
    if (this.mode === 'stopped' || this.mode === 'created') {
      this.mode = 'stopped';
      return;
    }
    this.mode = 'stopped';
    this.evStopTimer.cancel();
    this.recoveryTimer.cancel();
    const opened = this.contactor.state === 'open' ? Promise.resolve(true) : this.contactor.release();
    this.applyCp(CP_STATE_F);
    this.resolvePowerWaiters(() => false);
    if ((await opened) && this.lockUsed() && this.lock.state !== 'unlocked') await this.lock.release();
    for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
    this.contactor.dispose();
    this.lock.dispose();
    await this.board.stop();
    this.log.info('IEC 61851 controller stopped');
  }

  // --- state for other subsystems -------------------------------------------------------------------

  get cpState(): CpState | undefined {
    return this.cp.state === 'invalid' ? undefined : this.cp.state;
  }

  get chargingState(): ChargingState {
    return this.deriveChargingState();
  }

  get contactorState(): ContactorState {
    return this.contactor.state;
  }

  get plugLockState(): PlugLockState {
    return this.lock.state;
  }

  /** The duty the CP is driven with (100 = no PWM, 0 = state F). */
  get dutyCycle(): number {
    return this.output === undefined ? 100 : dutyOfOutput(this.output);
  }

  get activeErrors(): ActiveError[] {
    return [...this.errors.values()].map((e) => e.entry);
  }

  /** The current the PWM offers right now (min of customer, EVSE and cable), in A. */
  get allowedCurrentA(): number {
    return Math.min(this.config.maxCurrentA, this.customerMaxCurrentA ?? Number.POSITIVE_INFINITY, this.cableRatingA() ?? 0);
  }

  // --- API for the high-level-communication layer -------------------------------------------------

  /** Be told of every CP state change (SLAC starts on B, V2G watches C/B). Returns the unsubscribe. */
  onCpStateChange(listener: CpStateListener): () => void {
    this.cpListeners.add(listener);
    return () => void this.cpListeners.delete(listener);
  }

  /**
   * HLC mode: offer 5 % PWM (ISO 15118-3 / DIN 70121) instead of a current, and close the contactor
   * only on `requestPowerDelivery(true)`. Off: basic charging, the contactor follows state C.
   */
  setHighLevelCommunication(enabled: boolean): void {
    if (this.hlcMode === enabled) return;
    this.hlcMode = enabled;
    if (!enabled) this.hlcPowerRequested = false;
    this.log.info({ hlc: enabled }, enabled ? 'high-level communication mode: 5 % PWM' : 'basic charging mode');
    this.reconcile();
  }

  get highLevelCommunication(): boolean {
    return this.hlcMode;
  }

  /**
   * PowerDelivery (DIN/ISO) start or stop. Start: the contactor closes once the EV is in C (or D
   * with ventilation); resolves true when its feedback confirms closed, false when that does not
   * happen (fault, EV unplugged, request withdrawn). Stop: opens it at once; resolves true when
   * confirmed open. Only in HLC mode (resolves false otherwise).
   */
  requestPowerDelivery(on: boolean): Promise<boolean> {
    if (!this.hlcMode || this.mode !== 'normal') {
      this.log.warn({ on, hlc: this.hlcMode, mode: this.mode }, 'power delivery request refused');
      return Promise.resolve(false);
    }
    if (on && !isEvPresent(this.cp.state)) return Promise.resolve(false);
    const target = on ? 'closed' : 'open';
    this.resolvePowerWaiters((waiter) => (waiter.target !== target ? false : undefined));
    this.hlcPowerRequested = on;
    if (this.contactor.state === target) return Promise.resolve(true);
    const done = new Promise<boolean>((resolve) => this.powerWaiters.push({ target, resolve }));
    this.reconcile();
    return done;
  }

  /**
   * The safe stop every fault path takes, open to other subsystems: a failed V2G session, an
   * isolation fault reported by a DC power module, a plugin. The error stays active until the EV
   * is unplugged (clearing 'unplug', the default) or `clearFault(code)` is called.
   */
  safeStop(fault: ExternalFault): void {
    this.raise(fault.code, fault.message, fault.cp ?? 'no_pwm', fault.clearing ?? 'unplug');
  }

  /**
   * Clear a latched ('manual') or external error, e.g. after service fixed a welded contactor.
   * Refused (false) for conditions still measured, and for a contactor that does not confirm open.
   */
  clearFault(code: string): boolean {
    const error = this.errors.get(code);
    if (!error) return false;
    if (error.clearing !== 'manual' && error.clearing !== 'unplug') return false;
    if (code === 'contactor_welded' && !this.contactor.confirmedOff) return false;
    this.removeError(code);
    this.maybeRecover();
    return true;
  }

  // --- inputs -------------------------------------------------------------------------------------

  private onCp(reading: CpReading): void {
    if (this.mode !== 'normal' && this.mode !== 'fault') return;
    const previous = this.cp;
    this.cp = reading;
    this.publishCp(previous);
    this.checkInputs();
    this.reconcile();
  }

  private onPp(reading: PpReading): void {
    if (this.mode !== 'normal' && this.mode !== 'fault') return;
    this.pp = reading;
    this.publishPp();
    this.checkInputs();
    this.reconcile();
  }

  private onBoardFault(event: BoardFaultEvent): void {
    if (this.mode !== 'normal' && this.mode !== 'fault') return;
    if (event.active) {
      this.boardFaults.add(event.fault);
      const spec = FAULTS[event.fault];
      this.raise(event.fault, event.detail ? `${spec.message}: ${event.detail}` : spec.message, spec.cp, spec.clearing);
    } else {
      this.boardFaults.delete(event.fault);
      this.checkInputs();
    }
    this.reconcile();
  }

  private onEnable(message: BusMessage<unknown>): void {
    if (typeof message.value !== 'boolean') {
      this.log.warn({ topic: message.topic, value: message.value }, 'ignored: not a boolean');
      return;
    }
    if (this.enabled === message.value) return;
    this.enabled = message.value;
    this.log.info({ enabled: this.enabled, by: message.origin.name }, 'charging enable changed');
    this.reconcile();
  }

  private onAcMaxCurrent(message: BusMessage<unknown>): void {
    const value = message.value;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      this.log.warn({ topic: message.topic, value }, 'ignored: not a non-negative number');
      return;
    }
    this.customerMaxCurrentA = value;
    this.log.info({ maxCurrentA: value, by: message.origin.name }, 'customer current limit changed');
    this.reconcile();
  }

  private onContactorChange(state: ContactorState, fault: SwitchFault | undefined): void {
    this.publish(T.contactorState, state);
    if (fault === 'release_timeout' || fault === 'engaged_uncommanded') this.raiseKnown('contactor_welded', fault);
    else if (fault === 'engage_timeout') this.raiseKnown('contactor_failed_to_close');
    else if (fault === 'dropped') this.raiseKnown('contactor_dropped');
    if (state === 'closed') this.resolvePowerWaiters((w) => (w.target === 'closed' ? true : undefined));
    else if (state === 'open') this.resolvePowerWaiters((w) => (w.target === 'open' ? true : undefined));
    else if (state === 'error') this.resolvePowerWaiters(() => false);
    if (state === 'open') this.maybeRecover();
    this.reconcile();
  }

  private onPlugLockChange(state: PlugLockState, fault: SwitchFault | undefined): void {
    this.publish(T.plugLockState, state);
    if (fault === 'engage_timeout' || fault === 'dropped' || fault === 'release_timeout') this.raiseKnown('plug_lock_failed', fault);
    else if (fault === 'engaged_uncommanded') this.log.warn('plug lock closed without command');
    this.reconcile();
  }

  /** Raise faults the inputs show, clear the ones whose condition is gone. */
  private checkInputs(): void {
    const state = this.cp.state;
    const drivingF = this.output !== undefined && this.output.kind === 'steady' && this.output.volts === -12;
    if (!drivingF) {
      if (state === 'E') this.raiseKnown('cp_short');
      else if (state === 'invalid' || state === 'F') this.raiseKnown('cp_invalid', `${this.cp.highVolts} V`);
      else if (this.cp.diodeFault) this.raiseKnown('diode_fault', `negative level ${this.cp.lowVolts} V`);
      if (state === 'D' && !this.config.ventilationAvailable) this.raiseKnown('ventilation_unavailable');
    }
    if (this.ppUsed() && isEvPresent(state)) {
      if (this.pp.status === 'none') this.raiseKnown('pp_open');
      else if (this.pp.status === 'invalid') this.raiseKnown('pp_invalid', this.pp.ohms === undefined ? undefined : `${this.pp.ohms} Ω`);
    }
    if (state === 'A') {
      this.hlcPowerRequested = false;
      this.resolvePowerWaiters((w) => (w.target === 'closed' ? false : undefined));
    }
    let cleared = false;
    for (const [code, error] of this.errors) {
      if (this.conditionGone(code, error.clearing, drivingF)) {
        this.removeError(code);
        cleared = true;
      }
    }
    if (cleared) this.maybeRecover();
  }

  private conditionGone(code: string, clearing: FaultClearing, drivingF: boolean): boolean {
    const state = this.cp.state;
    switch (clearing) {
      case 'board':
        return !this.boardFaults.has(code as BoardFault);
      case 'unplug':
        return state === 'A';
      case 'condition':
        switch (code as FaultCode) {
          case 'cp_short':
            return state !== 'E';
          case 'cp_invalid':
            return state !== 'invalid' && (state !== 'F' || drivingF);
          case 'pp_open':
          case 'pp_invalid':
            return this.pp.status === 'ok' || state === 'A';
          default:
            return false;
        }
      default:
        return false;
    }
  }

  // --- faults -------------------------------------------------------------------------------------

  private raiseKnown(code: FaultCode, detail?: string): void {
    const spec = FAULTS[code];
    this.raise(code, detail ? `${spec.message} (${detail})` : spec.message, spec.cp, spec.clearing);
  }

  /** The one safe-stop path: contactor open, then CP safe, lock released once no current can flow. */
  private raise(code: string, message: string, cp: SafeCp, clearing: FaultClearing): void {
    if (this.mode !== 'normal' && this.mode !== 'fault') return;
    if (!this.errors.has(code)) {
      const entry: ActiveError = { code, message, since: new Date(this.now()).toISOString() };
      this.errors.set(code, { entry, cp, clearing });
      this.log.warn({ code }, `fault: ${message}`);
      this.publish(T.errorEvent, entry, false);
      this.publishErrors();
    }
    this.recoveryTimer.cancel();
    if (this.mode === 'normal') {
      this.mode = 'fault';
      this.evStopTimer.cancel();
      this.hlcPowerRequested = false;
      this.resolvePowerWaiters((w) => (w.target === 'closed' ? false : undefined));
    }
    // 1. contactor open (command again even if it reads open: the command is what makes it safe)
    this.openContactor();
    // 2. CP to the safe level the active faults need
    this.applyCp(this.safeOutput());
    this.reconcile();
  }

  private openContactor(): void {
    const state = this.contactor.state;
    const fault = this.contactor.fault;
    if (state === 'opening') return;
    if (state === 'error' && (fault === 'release_timeout' || fault === 'engaged_uncommanded')) {
      // Stuck closed: repeat the command, but keep the error (re-arming the timeout would hide it).
      this.board.setContactor(false);
      return;
    }
    void this.contactor.release();
  }

  private removeError(code: string): void {
    if (!this.errors.delete(code)) return;
    this.log.info({ code }, 'fault cleared');
    this.publishErrors();
  }

  private safeOutput(): CpOutput {
    for (const error of this.errors.values()) if (error.cp === 'F') return CP_STATE_F;
    return CP_NO_PWM;
  }

  /** Leave the fault state once only 'retry' errors remain and the contactor confirms open. */
  private maybeRecover(): void {
    if (this.mode !== 'fault') return;
    const blocking = [...this.errors.values()].some((e) => e.clearing !== 'retry');
    if (blocking) {
      this.recoveryTimer.cancel();
      this.applyCp(this.safeOutput());
      return;
    }
    if (this.recoveryTimer.pending) return;
    this.recoveryTimer.start(this.config.faultRecoveryDelayMs, () => {
      if (this.mode !== 'fault') return;
      if (!this.contactor.confirmedOff) {
        this.log.warn({ contactor: this.contactor.state }, 'not recovering: contactor not confirmed open');
        return;
      }
      if ([...this.errors.values()].some((e) => e.clearing !== 'retry')) return;
      for (const code of [...this.errors.keys()]) this.removeError(code);
      this.mode = 'normal';
      this.log.info('faults cleared: leaving the safe state');
      this.applyCp(CP_NO_PWM);
      this.reconcile();
    });
  }

  // --- decisions ----------------------------------------------------------------------------------

  private reconcile(): void {
    if (this.mode !== 'normal' && this.mode !== 'fault') return;
    if (this.reconciling) {
      this.reconcileAgain = true;
      return;
    }
    this.reconciling = true;
    try {
      do {
        this.reconcileAgain = false;
        this.reconcileOnce();
      } while (this.reconcileAgain);
    } finally {
      this.reconciling = false;
    }
  }

  private reconcileOnce(): void {
    if (this.mode === 'fault') {
      const state = this.contactor.state;
      if (state === 'closed' || state === 'closing') void this.contactor.release();
      this.updateLock(false);
      this.publish(T.chargingState, this.deriveChargingState());
      return;
    }
    const evPresent = isEvPresent(this.cp.state);
    const desired = this.desiredOutput(evPresent);
    // Offer first, then close; open first, then withdraw: the contactor never closes without PWM
    // and opens without waiting for the CP write.
    if (desired.kind === 'pwm') {
      this.applyCp(desired);
      this.updateContactor(true);
    } else {
      this.updateContactor(false);
      this.applyCp(desired);
    }
    this.updateLock(evPresent);
    this.publish(T.chargingState, this.deriveChargingState());
  }

  private desiredOutput(evPresent: boolean): CpOutput {
    const lockReady = !this.lockUsed() || this.lock.state === 'locked';
    const cableOk = !this.ppUsed() || this.pp.status === 'ok';
    if (!evPresent || !lockReady || !cableOk || !this.enabled) return CP_NO_PWM;
    if (this.hlcMode) return this.pwm(HLC_DUTY_PERCENT);
    const duty = dutyForCurrent(this.allowedCurrentA);
    return duty === undefined ? CP_NO_PWM : this.pwm(duty);
  }

  private updateContactor(offered: boolean): void {
    const state = this.cp.state;
    const evRequests = state === 'C' || (state === 'D' && this.config.ventilationAvailable);
    const wanted = evRequests && offered && (!this.hlcMode || this.hlcPowerRequested);
    const contactor = this.contactor.state;
    if (wanted) {
      this.evStopTimer.cancel();
      if (contactor === 'open' || contactor === 'opening') void this.contactor.engage();
      return;
    }
    if (contactor === 'closing') {
      void this.contactor.release();
    } else if (contactor === 'closed') {
      // The EV has stopped (B/A) or the HLC session ended the power delivery: open at once.
      // Otherwise the EVSE withdrew its offer while the EV still draws: give it time to stop.
      if (!evRequests || (this.hlcMode && !this.hlcPowerRequested)) {
        this.evStopTimer.cancel();
        void this.contactor.release();
      } else if (!this.evStopTimer.pending) {
        this.evStopTimer.start(this.config.evStopTimeoutMs, () => {
          this.log.warn({ timeoutMs: this.config.evStopTimeoutMs }, 'EV did not stop after the PWM was withdrawn: opening the contactor under load');
          void this.contactor.release();
          this.reconcile();
        });
      }
    }
  }

  /** Lock while an EV is present; unlock otherwise, but only once the contactor confirms open. */
  private updateLock(evPresent: boolean): void {
    if (!this.lockUsed()) return;
    const lock = this.lock.state;
    if (this.mode === 'normal' && evPresent) {
      if (lock === 'unlocked') void this.lock.engage();
      return;
    }
    if (!this.contactor.confirmedOff) return;
    if (lock === 'locked' || lock === 'locking' || (lock === 'error' && this.lock.fault !== 'release_timeout')) void this.lock.release();
  }

  private deriveChargingState(): ChargingState {
    if (this.mode === 'fault') return 'fault';
    const contactor = this.contactor.state;
    if (this.evStopTimer.pending || contactor === 'opening') return 'stopping';
    if (contactor === 'closed') return 'charging';
    if (contactor === 'closing') return 'starting';
    if (!isEvPresent(this.cp.state)) return 'idle';
    return this.output?.kind === 'pwm' ? 'ready' : 'connected';
  }

  // --- outputs ------------------------------------------------------------------------------------

  private pwm(dutyPercent: number): CpOutput {
    return { kind: 'pwm', dutyPercent, frequencyHz: this.config.pwmFrequencyHz };
  }

  private applyCp(output: CpOutput): void {
    if (this.output !== undefined && sameOutput(this.output, output)) return;
    this.output = output;
    this.board.setCp(output);
    this.publish(T.cpDutyCycle, dutyOfOutput(output));
  }

  private publishCp(previous: CpReading | undefined): void {
    const state = this.cpState;
    if (state === undefined) return;
    this.publish(T.cpState, state);
    const before = previous === undefined || previous.state === 'invalid' ? undefined : previous.state;
    if (state === before) return;
    this.log.info({ cp: state, from: before ?? null }, `control pilot state ${state}`);
    for (const listener of [...this.cpListeners]) {
      try {
        listener(state, before);
      } catch (error) {
        this.log.error({ err: error }, 'CP state listener failed');
      }
    }
  }

  private publishPp(): void {
    this.publish(T.ppMaxCurrent, this.cableRatingA() ?? null);
  }

  private publishErrors(): void {
    this.publish(T.errorActive, this.activeErrors);
  }

  /** Publish when the value changed (events: always). A bad value is logged, never thrown into the charging logic. */
  private publish(topic: string, value: unknown, retain = true): void {
    const json = JSON.stringify(value);
    if (retain && this.published.get(topic) === json) return;
    try {
      this.bus.publish(topic, value, { retain });
      if (retain) this.published.set(topic, json);
    } catch (error) {
      this.log.error({ err: error, topic }, 'publish failed');
    }
  }

  private resolvePowerWaiters(decide: (waiter: { target: 'closed' | 'open' }) => boolean | undefined): void {
    const keep: typeof this.powerWaiters = [];
    for (const waiter of this.powerWaiters) {
      const result = decide(waiter);
      if (result === undefined) keep.push(waiter);
      else waiter.resolve(result);
    }
    this.powerWaiters = keep;
  }

  // --- configuration helpers ------------------------------------------------------------------------

  private lockUsed(): boolean {
    return this.config.cable === 'socket' && this.config.lockPlug && this.board.capabilities.plugLock;
  }

  private ppUsed(): boolean {
    return this.config.cable === 'socket' && this.board.capabilities.proximityPilot;
  }

  private cableRatingA(): number | undefined {
    if (this.config.cable === 'tethered') return this.config.tetheredCableMaxCurrentA;
    if (!this.board.capabilities.proximityPilot) return this.config.maxCurrentA;
    return this.pp.maxCurrentA ?? undefined;
  }
}

function isEvPresent(state: CpState | 'invalid'): boolean {
  return state === 'B' || state === 'C' || state === 'D';
}
