import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { definePlugin, type PluginManifest } from '@opensecc/plugin-api';
import type { UpdateBackend } from './backend/backend.js';
import { RaucBackend } from './backend/rauc.js';
import { SimulatedAbBackend } from './backend/simulated.js';
import { CONFIG_SCHEMA, withDefaults, type FirmwareUpdateConfig } from './config.js';
import { loadState, Reporter } from './reporter.js';
import { reconcileOnStart } from './startup.js';
import { FIRMWARE_TOPICS, T } from './topics.js';
import { normalizeIntervalSeconds, normalizeMaxTrials } from './trials.js';
import { UpdateRunner } from './update-runner.js';
import { UsbUpdate } from './usb-update.js';
import { UsbWatcher } from './usb-watcher.js';

export { FIRMWARE_TOPICS, T, UPDATE_STATES, type UpdateState } from './topics.js';
export type { FirmwareUpdateConfig } from './config.js';
export type { UpdateBackend, SystemStatus, SlotInfo, BundleInfo } from './backend/backend.js';
export { InstallError } from './backend/backend.js';
export { RaucBackend } from './backend/rauc.js';
export { SimulatedAbBackend } from './backend/simulated.js';
export { FileBootloader, customBackendScript } from './backend/file-bootloader.js';
export { createSimulatedBundle } from './backend/simulated-bundle.js';
export { normalizeIntervalSeconds, normalizeMaxTrials, isCasyncUrl } from './trials.js';

export const manifest: PluginManifest = {
  name: 'firmware-update',
  version: '0.1.0',
  description: 'Firmware update over MQTT (HTTP/FTP, casync), USB media and A/B rollback, as Charge Control M section 7',
  provides: ['firmware-update'],
  requires: ['bus'],
  configSchema: CONFIG_SCHEMA,
  bus: {
    read: ['firmware/update/target/#'],
    write: ['firmware/update/state/#', 'firmware/update/result/#', 'ci/firmware/#'],
  },
  topics: FIRMWARE_TOPICS,
};

/** What other in-process plugins (and tests) get through `use('firmware-update')`. */
export interface FirmwareUpdateApi {
  readonly backend: UpdateBackend;
  /** Resolves when no update is running. */
  idle(): Promise<void>;
  /** Scan the USB roots now instead of waiting for the next poll. */
  scanUsb(): Promise<void>;
}

function createBackend(config: FirmwareUpdateConfig): UpdateBackend {
  if (config.backend === 'rauc') return new RaucBackend(config.rauc);
  const keyringPem = config.simulated.keyring ? readConfigFile(config.simulated.keyring, 'simulated.keyring') : '';
  return new SimulatedAbBackend({ slotDir: config.simulated.slotDir, keyringPem, compatible: config.simulated.compatible });
}

/** Read a file named in the config; the error says which setting named it. */
function readConfigFile(path: string, setting: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`firmware-update config ${setting}: cannot read '${path}': ${(error as Error).message}`);
  }
}

function readBootId(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

export default definePlugin<Partial<FirmwareUpdateConfig> & Record<string, unknown>, FirmwareUpdateApi>({
  manifest,
  async start(ctx) {
    const config = withDefaults(ctx.config);
    const log = ctx.log.child({ plugin: 'firmware-update' });
    const stop = new AbortController();
    const signal = AbortSignal.any([ctx.signal, stop.signal]);
    const backend = createBackend(config);
    if (backend instanceof SimulatedAbBackend) {
      await mkdir(config.simulated.slotDir, { recursive: true });
      backend.bootloader.init();
    }
    await mkdir(ctx.dataDir, { recursive: true });
    const bootId = readBootId(config.bootIdFile);
    const reporter = new Reporter(ctx.bus, ctx.dataDir, loadState(ctx.dataDir, bootId, log));
    const publishSlots = async () => {
      const now = await backend.status().catch(() => undefined);
      if (now && !signal.aborted) {
        ctx.bus.publish(T.slotBooted, now.booted);
        ctx.bus.publish(T.slotPrimary, now.primary);
      }
    };
    const runner = new UpdateRunner({
      onSettled: publishSlots,
      backend,
      reporter,
      log,
      signal,
      cacheDir: config.cacheDir,
      minFreeSpaceMiB: config.minFreeSpaceMiB,
      idleTimeoutMs: config.downloadIdleTimeoutSec * 1000,
      extraCa: config.tlsCaFiles.map((file) => readConfigFile(file, 'tlsCaFiles')),
    });
    await runner.cleanCache();
    await reconcileOnStart({ reporter, backend, bootId, markGood: config.markGood === 'on-start', log });
    await publishSlots();

    const unsubscribe = ctx.bus.subscribe<unknown>(T.targetUrl, (message) => {
      if (typeof message.value !== 'string' || message.value.trim() === '') return;
      // Seed 7.5: the URL is set last; the other target topics are latched now.
      const request = {
        url: message.value.trim(),
        maxTrials: normalizeMaxTrials(ctx.bus.get(T.targetMaxTrials)),
        intervalSeconds: normalizeIntervalSeconds(ctx.bus.get(T.targetInterval)),
      };
      if (!runner.startFromUrl(request)) {
        log.warn('a firmware update is already running; the new URL is ignored');
      }
    });

    const usb = new UsbUpdate({ bus: ctx.bus, log, backend, runner, signal });
    usb.init();
    const watcher = new UsbWatcher({
      roots: config.usbMountRoots,
      pollMs: config.usbPollMs,
      subdirectoriesAsMedia: config.usbSubdirectoriesAsMedia,
      signal,
      onInserted: (medium) => void usb.inserted(medium).catch((error: unknown) => log.error({ err: error, medium }, 'USB update failed')),
      onRemoved: (medium) => usb.removed(medium),
    });
    if (config.usbPollMs > 0) watcher.start();

    return {
      api: { backend, idle: () => runner.idle(), scanUsb: () => watcher.scan() },
      async stop() {
        unsubscribe();
        watcher.stop();
        stop.abort();
        await runner.idle();
      },
    };
  },
});
