/** A charging port (control pilot and contactors) that records what the V2G session asked of it. */
import type { V2gChargingPort, V2gCpState } from '@opensecc/core/v2g/index';

export class FakePort implements V2gChargingPort {
  readonly calls: string[] = [];
  cpState: V2gCpState | undefined = 'C';
  closeResult = true;
  setHighLevelCommunication(enabled: boolean): void {
    this.calls.push(`hlc:${enabled}`);
  }
  async requestPowerDelivery(on: boolean): Promise<boolean> {
    this.calls.push(`power:${on}`);
    return on ? this.closeResult : true;
  }
  onCpStateChange(): () => void {
    return () => {};
  }
  safeStop(fault: { code: string }): void {
    this.calls.push(`safeStop:${fault.code}`);
  }
}
