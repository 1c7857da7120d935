import { KernelBus } from '@opensecc/core/kernel/bus';
import { TopicRegistry } from '@opensecc/core/kernel/topic-registry';
import type { Bus } from '@opensecc/plugin-api';
import { HLC_TOPICS, V2gService, type EvseData, type EvseDataSource, type V2gChargingPort, type V2gConfig } from '@opensecc/core/v2g/index';
import { recordingLogger } from './log.js';

/** A bus validating against the real topic registry (HLC topics registered), as in the daemon. */
export function hlcBus(): { kernelBus: KernelBus; bus: Bus; registry: TopicRegistry } {
  const registry = new TopicRegistry();
  registry.add('v2g', HLC_TOPICS);
  const kernelBus = new KernelBus({
    validate: (topic, value) => registry.validate(topic, value),
    retainPolicy: (topic) => registry.retained(topic),
    onHandlerError: (error) => {
      throw error;
    },
  });
  return { kernelBus, bus: kernelBus.view({ kind: 'kernel', name: 'v2g' }), registry };
}

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

export async function startSecc(options: { evse?: EvseDataSource; port?: V2gChargingPort; config?: Partial<V2gConfig>; sdp?: boolean } = {}) {
  const log = recordingLogger();
  const { kernelBus, bus } = hlcBus();
  const service = new V2gService({
    bus,
    log,
    host: '::1',
    sdp: options.sdp ?? false,
    ...(options.sdp ? { sdpPort: 0 } : {}),
    config: { port: 0, tlsPort: 0, ...options.config },
    ...(options.evse ? { evse: options.evse } : {}),
    ...(options.port ? { port: options.port } : {}),
  });
  await service.start();
  return { service, bus, kernelBus, log };
}
