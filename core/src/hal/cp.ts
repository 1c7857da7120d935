/**
 * Control pilot (CP) signal: what the EVSE drives and how a measured level maps to the
 * IEC 61851-1 states (Annex A). The EVSE drives +12 V through a 1 kΩ resistor, steady or as a
 * 1 kHz ±12 V PWM; the EV loads it with a diode and resistors, which pulls the positive level to
 * 9 V (B, connected), 6 V (C, charge) or 3 V (D, charge with ventilation).
 */

export const CP_STATES = ['A', 'B', 'C', 'D', 'E', 'F'] as const;
/**
 * A: no EV (12 V). B: EV connected, not requesting (9 V). C: EV requests energy (6 V).
 * D: EV requests energy and ventilation (3 V). E: CP shorted to PE / no supply (0 V).
 * F: EVSE not available (-12 V, driven by the EVSE itself).
 */
export type CpState = (typeof CP_STATES)[number];

/** Nominal positive CP level per state, in volts. */
export const CP_NOMINAL_VOLTS: Readonly<Record<CpState, number>> = { A: 12, B: 9, C: 6, D: 3, E: 0, F: -12 };

/** What the EVSE drives on the pilot line. */
export type CpOutput =
  /** Steady level: +12 V is "no PWM" (X1, duty 100 %), -12 V is state F, 0 V is state E. */
  | { readonly kind: 'steady'; readonly volts: 12 | 0 | -12 }
  /** ±12 V square wave; duty is the share of the period at +12 V, in percent. */
  | { readonly kind: 'pwm'; readonly dutyPercent: number; readonly frequencyHz: number };

export const CP_NO_PWM: CpOutput = { kind: 'steady', volts: 12 };
export const CP_STATE_F: CpOutput = { kind: 'steady', volts: -12 };

/** The duty cycle a CP output amounts to, as `ci/cp/duty_cycle` reports it: steady +12 V is 100 %, -12 V and 0 V are 0 %. */
export function dutyOfOutput(output: CpOutput): number {
  if (output.kind === 'pwm') return output.dutyPercent;
  return output.volts === 12 ? 100 : 0;
}

export function sameOutput(a: CpOutput, b: CpOutput): boolean {
  if (a.kind === 'steady' && b.kind === 'steady') return a.volts === b.volts;
  if (a.kind === 'pwm' && b.kind === 'pwm') return a.dutyPercent === b.dutyPercent && a.frequencyHz === b.frequencyHz;
  return false;
}

/** One CP measurement as a board reports it. */
export interface CpReading {
  /** State from the positive level, or 'invalid' when the level lies in no state's band. */
  readonly state: CpState | 'invalid';
  /** Positive (or steady) level in volts. */
  readonly highVolts: number;
  /** Negative level in volts while PWM runs; undefined with a steady output. */
  readonly lowVolts?: number;
  /**
   * True when PWM runs, an EV is present and the negative level is not near -12 V: the EV's diode
   * is missing or shorted (IEC 61851-1 requires the EVSE to check it and then not to supply).
   */
  readonly diodeFault: boolean;
}

/**
 * Band edges halfway between the nominal levels, so a real board's tolerance (IEC 61851-1 gives
 * ±1 V around 12/9/6/3 V) always falls in the right band. Below 1.5 V down to -10 V is no state.
 */
export function cpStateFromVolts(volts: number): CpState | 'invalid' {
  if (!Number.isFinite(volts)) return 'invalid';
  if (volts > 13.5) return 'invalid';
  if (volts >= 10.5) return 'A';
  if (volts >= 7.5) return 'B';
  if (volts >= 4.5) return 'C';
  if (volts >= 1.5) return 'D';
  if (volts >= -1.5) return 'E';
  if (volts <= -10.5 && volts >= -13.5) return 'F';
  return 'invalid';
}

/** The negative PWM level above which the EV's diode is taken as missing. */
export const DIODE_CHECK_MAX_LOW_VOLTS = -10.5;

/** Classify a measurement. Board adapters that measure voltages should use this, so every board agrees. */
export function classifyCp(highVolts: number, lowVolts?: number): CpReading {
  const state = cpStateFromVolts(highVolts);
  const evPresent = state === 'B' || state === 'C' || state === 'D';
  const diodeFault = lowVolts !== undefined && evPresent && lowVolts > DIODE_CHECK_MAX_LOW_VOLTS;
  return lowVolts === undefined ? { state, highVolts, diodeFault } : { state, highVolts, lowVolts, diodeFault };
}
