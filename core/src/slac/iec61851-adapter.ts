/**
 * Couples SLAC to the IEC 61851 controller (core/src/iec61851): the one place where the two meet.
 * Typed structurally, so SLAC does not depend on the controller's other members.
 */
import type { CpState, SlacControlPilot } from './control-pilot.js';

/** What SLAC needs of the IEC 61851 controller (Iec61851Controller has these members). */
export interface Iec61851ForSlac {
  readonly cpState: CpState | undefined;
  onCpStateChange(listener: (state: CpState, previous: CpState | undefined) => void): () => void;
  /** On: 5 % PWM (digital communication). Off: nominal PWM for basic charging. */
  setHighLevelCommunication(enabled: boolean): void;
}

export function controlPilotFromIec61851(controller: Iec61851ForSlac): SlacControlPilot {
  return {
    onStateChange: (callback) => controller.onCpStateChange((state) => callback(state)),
    // An invalid reading counts as "no vehicle" until the controller reports a real state.
    state: () => controller.cpState ?? 'A',
    requestFivePercent: () => controller.setHighLevelCommunication(true),
    // ISO 15118-3 V2G3-M06-05: without a match, leave 5 % for the nominal duty (the controller owns the E/F step).
    slacFailed: () => controller.setHighLevelCommunication(false),
  };
}
