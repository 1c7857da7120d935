/**
 * What the V2G layer needs from the control pilot and the contactors. The IEC 61851 controller
 * (core/src/iec61851/controller.ts, `Iec61851Controller`) has exactly these members, so it is
 * passed as is; tests and the in-process simulator may pass something smaller.
 */
export type V2gCpState = 'A' | 'B' | 'C' | 'D' | 'E' | 'F';

export interface V2gChargingPort {
  /** 5 % PWM (digital communication) on/off. */
  setHighLevelCommunication(enabled: boolean): void;
  /** PowerDelivery start/stop: close/open the contactors; resolves true when the feedback confirms it. */
  requestPowerDelivery(on: boolean): Promise<boolean>;
  /** CP state changes (unplug → A, faults → E/F). Returns the unsubscribe. */
  onCpStateChange(listener: (state: V2gCpState, previous: V2gCpState | undefined) => void): () => void;
  readonly cpState: V2gCpState | undefined;
  /** The one safe-stop path for faults the V2G layer detects (e.g. an emergency shutdown). */
  safeStop(fault: { code: string; message: string }): void;
}
