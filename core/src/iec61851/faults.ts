import type { BoardFault } from '../hal/board-adapter.js';

/**
 * How a fault leaves the CP: 'F' drives -12 V (EVSE not available), for faults of the charger or
 * the line; 'no_pwm' drives steady +12 V, for conditions where the EV must not charge but the
 * EVSE has to keep seeing whether the EV is still there (e.g. it must be unplugged).
 */
export type SafeCp = 'F' | 'no_pwm';

/**
 * When a fault stops being active:
 * - 'board': when the board reports the safety input inactive again;
 * - 'retry': not observable while in the safe state; retried after the recovery delay;
 * - 'condition': when the measured condition is gone (see `conditionCleared` in the controller);
 * - 'manual': latched until cleared through the API (a service action), e.g. a welded contactor;
 * - 'unplug': when the EV is unplugged (CP A) or cleared through the API.
 */
export type FaultClearing = 'board' | 'retry' | 'condition' | 'manual' | 'unplug';

export interface FaultSpec {
  readonly message: string;
  readonly cp: SafeCp;
  readonly clearing: FaultClearing;
}

const boardFault = (message: string): FaultSpec => ({ message, cp: 'F', clearing: 'board' });

export const FAULTS = {
  contactor_welded: { message: 'contactor did not open (welded contacts?)', cp: 'F', clearing: 'manual' },
  contactor_failed_to_close: { message: 'contactor did not close within its feedback timeout', cp: 'F', clearing: 'retry' },
  contactor_dropped: { message: 'contactor opened without being commanded', cp: 'F', clearing: 'retry' },
  cp_short: { message: 'control pilot shorted to PE (state E)', cp: 'F', clearing: 'condition' },
  cp_invalid: { message: 'control pilot level is in no valid state band', cp: 'F', clearing: 'condition' },
  diode_fault: { message: "EV's control pilot diode missing (negative PWM level not at -12 V)", cp: 'F', clearing: 'retry' },
  pp_open: { message: 'no cable detected on the proximity pilot while an EV is connected', cp: 'no_pwm', clearing: 'condition' },
  pp_invalid: { message: 'proximity pilot resistance codes no cable rating', cp: 'no_pwm', clearing: 'condition' },
  plug_lock_failed: { message: 'plug lock did not reach its position', cp: 'no_pwm', clearing: 'retry' },
  // The EV would ask again on every new offer: no retry until it is unplugged.
  ventilation_unavailable: { message: 'EV requests ventilation (state D), which this EVSE does not provide', cp: 'no_pwm', clearing: 'unplug' },
  overcurrent: boardFault('overcurrent detected by the board'),
  rcd_trip: boardFault('residual current device tripped'),
  emergency_stop: boardFault('emergency stop pressed'),
  overtemperature: boardFault('board overtemperature'),
  internal: boardFault('internal board error'),
} as const satisfies Record<string, FaultSpec> & Record<BoardFault, FaultSpec>;

export type FaultCode = keyof typeof FAULTS;

export function isKnownFault(code: string): code is FaultCode {
  return Object.hasOwn(FAULTS, code);
}

/** A fault raised from outside (the HLC layer, a plugin through the API): e.g. a failed V2G session. */
export interface ExternalFault {
  readonly code: string;
  readonly message: string;
  /** Default 'no_pwm'. */
  readonly cp?: SafeCp;
  /** Default 'unplug'. */
  readonly clearing?: Extract<FaultClearing, 'manual' | 'unplug'>;
}

/** One entry of `ci/error/active` and `ci/error/event`. */
export interface ActiveError {
  readonly code: string;
  readonly message: string;
  /** ISO 8601 UTC. */
  readonly since: string;
}
