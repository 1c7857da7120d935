import type { Bus, Logger } from '@opensecc/plugin-api';
import { HLC, type AuthorizationValue, type IsolationStatus, type PhysicalValue } from './topics.js';

/** What the customer's power electronics controller has told the stack, read once per message. */
export interface EvseData {
  readonly presentVoltage: PhysicalValue;
  readonly presentCurrent: PhysicalValue;
  readonly maxVoltage: PhysicalValue | undefined;
  readonly maxCurrent: PhysicalValue | undefined;
  readonly maxPower: PhysicalValue | undefined;
  readonly minVoltage: PhysicalValue;
  readonly minCurrent: PhysicalValue;
  readonly currentRegulationTolerance: PhysicalValue | undefined;
  readonly peakCurrentRipple: PhysicalValue;
  readonly energyToBeDelivered: PhysicalValue | undefined;
  readonly isolationStatus: IsolationStatus;
  readonly statusCode: string;
  readonly processing: 'Ongoing' | 'Finished';
  readonly authorization: AuthorizationValue;
  readonly stopCharging: boolean;
  readonly errorShutdown: boolean;
}

export interface EvseDataSource {
  read(): EvseData;
}

const ZERO_V: PhysicalValue = { value: 0, multiplier: 0, unit: 'V' };
const ZERO_A: PhysicalValue = { value: 0, multiplier: 0, unit: 'A' };

/** EVSE data from the bus's retained values (what the customer published), with the documented defaults. */
export class BusEvseData implements EvseDataSource {
  constructor(
    private readonly bus: Pick<Bus, 'get'>,
    private readonly options: { autoAuthorize?: boolean } = {},
  ) {}

  read(): EvseData {
    const get = <T>(topic: string) => this.bus.get<T>(topic);
    const authorization = get<AuthorizationValue>(HLC.evse.authorization) ?? 'Ongoing';
    return {
      presentVoltage: get<PhysicalValue>(HLC.evse.presentVoltage) ?? ZERO_V,
      presentCurrent: get<PhysicalValue>(HLC.evse.presentCurrent) ?? ZERO_A,
      maxVoltage: get<PhysicalValue>(HLC.evse.maxVoltage),
      maxCurrent: get<PhysicalValue>(HLC.evse.maxCurrent),
      maxPower: get<PhysicalValue>(HLC.evse.maxPower),
      minVoltage: get<PhysicalValue>(HLC.evse.minVoltage) ?? ZERO_V,
      minCurrent: get<PhysicalValue>(HLC.evse.minCurrent) ?? ZERO_A,
      currentRegulationTolerance: get<PhysicalValue>(HLC.evse.currentRegulationTolerance),
      peakCurrentRipple: get<PhysicalValue>(HLC.evse.peakCurrentRipple) ?? ZERO_A,
      energyToBeDelivered: get<PhysicalValue>(HLC.evse.energyToBeDelivered),
      isolationStatus: get<IsolationStatus>(HLC.evse.isolationStatus) ?? 'Invalid',
      statusCode: get<string>(HLC.evse.statusCode) ?? 'EVSE_Ready',
      processing: get<'Ongoing' | 'Finished'>(HLC.evse.processing) ?? 'Finished',
      authorization: this.options.autoAuthorize && authorization === 'Ongoing' ? 'Accepted' : authorization,
      stopCharging: get<boolean>(HLC.evse.stopCharging) ?? false,
      errorShutdown: get<boolean>(HLC.evse.errorShutdown) ?? false,
    };
  }
}

/**
 * Publishes the session's and the EV's topics, each only when its value changed, so the
 * CurrentDemand loop costs the bus (and MQTT) nothing while the values stand still.
 * A value the registry rejects is logged, never thrown into the V2G path.
 */
export class HlcReporter {
  private readonly last = new Map<string, unknown>();

  constructor(
    private readonly bus: Pick<Bus, 'publish'>,
    private readonly log: Logger,
  ) {}

  set(topic: string, value: unknown): void {
    const previous = this.last.get(topic);
    if (previous !== undefined && sameValue(previous, value)) return;
    this.last.set(topic, value);
    try {
      this.bus.publish(topic, value);
    } catch (error) {
      this.log.error({ err: error, topic }, 'publish failed');
    }
  }

  /** Publish even when unchanged (a reset the customer must see). */
  force(topic: string, value: unknown): void {
    this.last.delete(topic);
    this.set(topic, value);
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const pa = a as Record<string, unknown>;
  const pb = b as Record<string, unknown>;
  // Physical values and other flat objects: compare own keys shallowly.
  const keys = Object.keys(pa);
  if (keys.length !== Object.keys(pb).length) return false;
  return keys.every((k) => pa[k] === pb[k]);
}
