/** The EVSE side a V2G session reads: power-electronics data ready to charge, or set by hand. */
import type { EvseData, EvseDataSource } from '@opensecc/core/v2g/index';

export const READY_EVSE: EvseData = {
  presentVoltage: { value: 0, multiplier: 0, unit: 'V' },
  presentCurrent: { value: 0, multiplier: 0, unit: 'A' },
  maxVoltage: { value: 500, multiplier: 0, unit: 'V' },
  maxCurrent: { value: 200, multiplier: 0, unit: 'A' },
  maxPower: { value: 100, multiplier: 3, unit: 'W' },
  minVoltage: { value: 150, multiplier: 0, unit: 'V' },
  minCurrent: { value: 0, multiplier: 0, unit: 'A' },
  currentRegulationTolerance: undefined,
  peakCurrentRipple: { value: 5, multiplier: 0, unit: 'A' },
  energyToBeDelivered: undefined,
  isolationStatus: 'Valid',
  statusCode: 'EVSE_Ready',
  processing: 'Finished',
  authorization: 'Accepted',
  stopCharging: false,
  errorShutdown: false,
};

/** EVSE data a test sets by hand. */
export class ManualEvse implements EvseDataSource {
  data: EvseData = { ...READY_EVSE };
  read(): EvseData {
    return this.data;
  }
  set(change: Partial<EvseData>): void {
    this.data = { ...this.data, ...change };
  }
}
