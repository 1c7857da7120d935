import { currentFromDuty, type DutyMeaning } from '../iec61851/duty-cycle.js';
import type { CpOutput } from './cp.js';
import { PP_NOMINAL_OHMS } from './pp.js';
import type { SimulatedBoard, SimulatedFault } from './simulated-board.js';

/** Faults that sit on the vehicle or cable side. */
export type SimulatedEvFault = Extract<SimulatedFault, 'diode_fault' | 'cp_short' | 'pp_open'>;

export interface SimulatedEvOptions {
  /** Rating the cable's PP resistor codes (default 32 A). */
  readonly cableMaxCurrentA?: 13 | 20 | 32 | 63;
  /** Request ventilation (state D instead of C). */
  readonly needsVentilation?: boolean;
  /**
   * Behave as IEC 61851-1 asks of an EV (default true): close S2 only while the EVSE offers PWM,
   * open it when the PWM goes away. False models an EV that ignores the pilot.
   */
  readonly obeyPwm?: boolean;
}

/**
 * An EV and its charging cable, wired to a SimulatedBoard. The simulator and the tests drive it:
 * plug in, request power, stop, unplug, inject a fault.
 */
export class SimulatedEv {
  private readonly cableOhms: number;
  private readonly obeyPwm: boolean;
  private readonly needsVentilation: boolean;
  private wantsPower = false;
  private pluggedIn = false;
  private readonly unwatch: () => void;

  constructor(
    private readonly board: SimulatedBoard,
    options: SimulatedEvOptions = {},
  ) {
    this.cableOhms = PP_NOMINAL_OHMS[options.cableMaxCurrentA ?? 32];
    this.obeyPwm = options.obeyPwm ?? true;
    this.needsVentilation = options.needsVentilation ?? false;
    this.unwatch = board.onCpOutput(() => this.updateS2());
  }

  /** What the EVSE's PWM currently offers, as the EV decodes it. */
  get offer(): DutyMeaning {
    return decodeOutput(this.board.cpOutput);
  }

  get isPluggedIn(): boolean {
    return this.pluggedIn;
  }

  /** Whether S2 is closed (the EV draws or would draw current). */
  get isRequestingPower(): boolean {
    return this.board.vehicleCircuit.s2Closed;
  }

  /** Cable into the socket (PP first), then into the car: state B. */
  plugIn(): void {
    if (this.pluggedIn) return;
    this.pluggedIn = true;
    this.board.setCableOhms(this.cableOhms);
    this.board.setVehicle({ connected: true, s2Closed: false, needsVentilation: this.needsVentilation });
    this.updateS2();
  }

  /** Ask for energy: S2 closes (state C, or D) at once, or as soon as PWM is offered when obeying the pilot. */
  requestPower(): void {
    this.wantsPower = true;
    this.updateS2();
  }

  /** Stop drawing energy: S2 opens, state B. */
  stopPower(): void {
    this.wantsPower = false;
    this.updateS2();
  }

  /** Out of the car (state A), then the cable out of the socket. */
  unplug(): void {
    this.wantsPower = false;
    this.pluggedIn = false;
    this.board.setVehicle({ connected: false, s2Closed: false });
    this.board.setCableOhms(Number.POSITIVE_INFINITY);
  }

  injectFault(fault: SimulatedEvFault): void {
    this.board.injectFault(fault);
  }

  clearFault(fault: SimulatedEvFault): void {
    this.board.clearFault(fault);
  }

  dispose(): void {
    this.unwatch();
  }

  private updateS2(): void {
    if (!this.pluggedIn) return;
    const offered = this.offer.kind !== 'none';
    const s2Closed = this.wantsPower && (!this.obeyPwm || offered);
    if (s2Closed !== this.board.vehicleCircuit.s2Closed) this.board.setVehicle({ s2Closed });
  }
}

function decodeOutput(output: CpOutput): DutyMeaning {
  return output.kind === 'pwm' ? currentFromDuty(output.dutyPercent) : { kind: 'none' };
}
