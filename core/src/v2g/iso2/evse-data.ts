import type { Bus } from '@opensecc/plugin-api';
import type { PhysicalValue } from '../topics.js';
import { ISO2, type MeterInfo, type SalesTariff, type SaSchedule } from './topics.js';

/** What ISO 15118-2 needs from the customer's side beyond DIN's EvseData (read once per message). */
export interface Iso2EvseData {
  readonly nominalVoltage: PhysicalValue | undefined;
  readonly acMaxCurrent: PhysicalValue | undefined;
  readonly rcd: boolean;
  readonly meterInfo: MeterInfo | undefined;
  readonly schedules: readonly SaSchedule[] | undefined;
  readonly salesTariff: SalesTariff | undefined;
  readonly renegotiate: boolean;
}

export interface Iso2EvseDataSource {
  read(): Iso2EvseData;
  /** The EV started the renegotiation (or a new session began): the request is handled. */
  clearRenegotiation?(): void;
}

/**
 * From the bus's retained values; absent topics are undefined (the SECC falls back to its config).
 * ci/hlc/evse/renegotiate is an event (not retained, so that a stale MQTT retained message cannot
 * trigger it again): a `true` is remembered until the EV renegotiates or a new session starts.
 */
export class BusIso2EvseData implements Iso2EvseDataSource {
  private renegotiationRequested = false;
  private readonly unsubscribe: () => void;

  constructor(private readonly bus: Pick<Bus, 'get' | 'subscribe'>) {
    this.unsubscribe = bus.subscribe<boolean>(ISO2.evse.renegotiate, (m) => {
      if (m.value === true) this.renegotiationRequested = true;
    });
  }

  clearRenegotiation(): void {
    this.renegotiationRequested = false;
  }

  close(): void {
    this.unsubscribe();
  }

  read(): Iso2EvseData {
    const get = <T>(topic: string) => this.bus.get<T>(topic);
    return {
      nominalVoltage: get<PhysicalValue>(ISO2.evse.nominalVoltage),
      acMaxCurrent: get<PhysicalValue>(ISO2.evse.acMaxCurrent),
      rcd: get<boolean>(ISO2.evse.rcd) ?? false,
      meterInfo: get<MeterInfo>(ISO2.evse.meterInfo),
      schedules: get<SaSchedule[]>(ISO2.evse.saSchedules),
      salesTariff: get<SalesTariff>(ISO2.evse.salesTariff),
      renegotiate: this.renegotiationRequested,
    };
  }
}

/** Nothing published: everything from the config. */
export const NO_ISO2_EVSE_DATA: Iso2EvseDataSource = {
  read: () => ({ nominalVoltage: undefined, acMaxCurrent: undefined, rcd: false, meterInfo: undefined, schedules: undefined, salesTariff: undefined, renegotiate: false }),
};
