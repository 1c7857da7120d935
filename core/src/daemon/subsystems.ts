import type { Kernel } from '../kernel/kernel.js';
import type { CliIO } from '../cli/command.js';
import type { DaemonOptions } from './daemon.js';

/** Register the timing-critical subsystems (board, IEC 61851, SLAC, V2G) the options ask for. */
export function registerSubsystems(_kernel: Kernel, _options: DaemonOptions, _io: CliIO): void {
  // Wired as the subsystems land.
}
