import type { KernelBus } from '@opensecc/core/kernel/bus';
import { iec61851Topics } from '@opensecc/core/iec61851/topics';
import { HLC_TOPICS } from '@opensecc/core/v2g/topics';
import { traceTopics } from '@opensecc/core/trace/topics';
import { CAN_TOPICS, canApiFrom, DEFAULT_DATABASE, loadDbc, type CanApi } from '@opensecc/plugin-can';
import { validatingBus } from '#support/bus.js';

/** The kernel's bus with the real registry (HLC, IEC 61851, trace and CAN topics): values are validated as in the daemon. */
export function makeBus(): KernelBus {
  // Handler errors go where the kernel sends them, not to the publisher.
  return validatingBus({ v2g: HLC_TOPICS, iec61851: iec61851Topics, trace: traceTopics, can: CAN_TOPICS }, { rethrow: false }).kernelBus;
}

export function shippedApi(): CanApi {
  return canApiFrom(loadDbc(DEFAULT_DATABASE));
}

export { sleep, waitFor } from '#support/wait.js';
