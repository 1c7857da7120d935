import { validatingBus, type ValidatingBus } from '#support/bus.js';
import { recordingLogger } from '#support/log.js';
import { HLC_TOPICS, V2gService, type EvseDataSource, type V2gChargingPort, type V2gConfig } from '@opensecc/core/v2g/index';

/** A bus validating against the real topic registry (HLC topics registered), as in the daemon. */
export function hlcBus(): ValidatingBus {
  return validatingBus({ v2g: HLC_TOPICS });
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
