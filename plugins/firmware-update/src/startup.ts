import type { Logger } from '@opensecc/plugin-api';
import type { SystemStatus, UpdateBackend } from './backend/backend.js';
import type { Reporter } from './reporter.js';

/**
 * Bring the persisted state in line with reality when the plugin starts:
 * - an update cut by a restart or power loss (downloading, download-succeeded, installing) is
 *   reported failed, never left running;
 * - an installed update waiting for its reboot is confirmed when the new slot is running (marked
 *   good), still pending when only the daemon restarted, and a rollback when the system rebooted
 *   but the bootloader went back to the previous slot;
 * - after a reboot, finished operations no longer count: idle and an empty result (seed 7.5).
 */
export async function reconcileOnStart(options: {
  reporter: Reporter;
  backend: UpdateBackend;
  bootId: string;
  markGood: boolean;
  log: Logger;
}): Promise<void> {
  const { reporter, backend, bootId, log } = options;
  const saved = reporter.current;
  const rebooted = saved.bootId !== bootId;
  let status: SystemStatus | undefined;
  try {
    status = await backend.status();
  } catch (error) {
    log.warn({ err: error }, `cannot read the update framework's status: ${(error as Error).message}`);
  }

  if (saved.actual === 'downloading' || saved.actual === 'download-succeeded' || saved.actual === 'installing') {
    const phase = saved.actual;
    const what = rebooted ? 'the system restarted (power loss or reboot)' : 'the firmware update service restarted';
    reporter.update({ actual: phase === 'downloading' ? 'download-failed' : 'install-failed', progress: 0, pendingBoot: undefined });
    reporter.update({ resultState: 'failed', resultMessage: `interrupted: ${what} while the update was in state '${phase}'` });
    log.warn(`firmware update was interrupted in state '${phase}'; reported as failed`);
  } else if (saved.pendingBoot && status) {
    const { fromSlot, targetSlot } = saved.pendingBoot;
    if (status.booted === targetSlot && status.booted !== fromSlot) {
      if (options.markGood) await markGood(backend, log);
      const version = status.slots.find((s) => s.bootname === targetSlot)?.bundleVersion;
      reporter.update({ actual: 'idle', progress: 0, resultState: 'succeeded', resultMessage: '', pendingBoot: undefined });
      log.info(`new firmware${version ? ` ${version}` : ''} is running in slot ${targetSlot}`);
    } else if (!rebooted) {
      // Installed, reboot still to come (only the daemon restarted): keep reporting install-succeeded.
      reporter.update({ actual: 'install-succeeded', progress: 100, resultState: 'succeeded', resultMessage: '' });
    } else {
      // The system rebooted but runs the old slot: the bootloader fell back because the new slot
      // was not marked good in time (rauc's rollback). Make sure it is not tried again.
      const message = `rollback: the new firmware in slot ${targetSlot} did not boot successfully (not marked good); the system went back to slot ${status.booted}`;
      try {
        await backend.markBad(targetSlot);
      } catch (error) {
        log.warn({ err: error }, `cannot mark slot ${targetSlot} bad: ${(error as Error).message}`);
      }
      reporter.update({ actual: 'idle', progress: 0, resultState: 'failed', resultMessage: message, pendingBoot: undefined });
      log.warn(message);
    }
  } else if (rebooted) {
    reporter.update({ actual: 'idle', progress: 0, resultState: '', resultMessage: '' });
  }

  if (options.markGood && status && !(saved.pendingBoot && status.booted === saved.pendingBoot.targetSlot)) {
    // The charging software is up: that is what confirms the running slot (rauc's mark-good).
    await markGood(backend, log);
  }
  reporter.update({ bootId });
  reporter.publishAll();
}

async function markGood(backend: UpdateBackend, log: Logger): Promise<void> {
  try {
    await backend.markGood();
  } catch (error) {
    log.warn({ err: error }, `cannot mark the booted slot good: ${(error as Error).message}`);
  }
}
