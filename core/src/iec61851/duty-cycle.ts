/**
 * PWM duty cycle <-> current, IEC 61851-1 Annex A (Tables A.7 for the EVSE, A.8 for the EV).
 * The duty is the share of each 1 kHz period at +12 V, in percent.
 */

export const PWM_FREQUENCY_HZ = 1000;
/** Duty that asks for high-level communication (ISO 15118 / DIN 70121) instead of a current. */
export const HLC_DUTY_PERCENT = 5;
/** "No PWM": steady +12 V, the EVSE offers no energy. */
export const NO_PWM_DUTY_PERCENT = 100;
export const MIN_CURRENT_A = 6;
export const MAX_CURRENT_A = 80;

/**
 * The duty for a current: 6..51 A -> I / 0.6; 51..80 A -> I / 2.5 + 64; above 80 A -> 80 A
 * (96 %). Below 6 A there is no duty that means a current: returns undefined (the caller withholds
 * PWM). Rounded to 0.1 %, the resolution boards typically have.
 */
export function dutyForCurrent(amps: number): number | undefined {
  if (!Number.isFinite(amps) || amps < MIN_CURRENT_A) return undefined;
  const current = Math.min(amps, MAX_CURRENT_A);
  const duty = current <= 51 ? current / 0.6 : current / 2.5 + 64;
  return Math.round(duty * 10) / 10;
}

/** What an EV reads from a duty (Table A.8). */
export type DutyMeaning =
  | { readonly kind: 'current'; readonly amps: number }
  | { readonly kind: 'hlc' }
  | { readonly kind: 'none' };

export function currentFromDuty(duty: number): DutyMeaning {
  if (!Number.isFinite(duty) || duty < 3 || duty > 97) return { kind: 'none' };
  if (duty <= 7) return { kind: 'hlc' };
  if (duty < 8) return { kind: 'none' };
  if (duty < 10) return { kind: 'current', amps: 6 };
  if (duty <= 85) return { kind: 'current', amps: Math.round(duty * 0.6 * 10) / 10 };
  if (duty <= 96) return { kind: 'current', amps: Math.round((duty - 64) * 2.5 * 10) / 10 };
  return { kind: 'current', amps: 80 };
}
