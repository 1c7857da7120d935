import type { Bus, Logger } from '@opensecc/plugin-api';
import type { UpdateBackend } from './backend/backend.js';
import { T, type UsbIndicator, type UsbStatus } from './topics.js';
import type { UpdateRunner } from './update-runner.js';
import { imagesOnMedium } from './usb-watcher.js';

/**
 * The USB procedure of seed 7.2 with LED1 as `ci/firmware/usb/indicator`: on when a medium is
 * plugged, blinking while the update runs, off when no compatible image is found, the image is
 * already installed (the new firmware seeing the medium again after the reboot), or the update is
 * over. Exactly one `*.image` in the medium's root is required. No reboot is triggered.
 */
export class UsbUpdate {
  private readonly media = new Set<string>();

  constructor(
    private readonly deps: { bus: Bus; log: Logger; backend: UpdateBackend; runner: UpdateRunner; signal: AbortSignal },
  ) {}

  init(): void {
    this.show('off', 'no-medium', '');
  }

  removed(medium: string): void {
    this.media.delete(medium);
    if (this.media.size === 0) this.show('off', 'no-medium', '');
  }

  /** Handle a newly plugged medium; resolves when its update (if any) is over. */
  async inserted(medium: string): Promise<void> {
    const { log, backend, runner, signal } = this.deps;
    this.media.add(medium);
    this.show('on', 'medium-detected', '');
    const images = await imagesOnMedium(medium);
    if (images.length === 0) return this.show('off', 'no-image', '');
    if (images.length > 1) {
      log.warn({ medium, images }, 'more than one *.image file on the USB medium; none is installed');
      return this.show('off', 'multiple-images', '');
    }
    const image = images[0]!;
    try {
      const info = await backend.bundleInfo(image);
      const status = await backend.status();
      const installed = status.slots.filter((s) => s.bootname === status.booted || s.bootname === status.primary);
      if (info.hash && installed.some((s) => s.bundleHash === info.hash)) {
        log.info({ image }, 'firmware on the USB medium is already installed');
        return this.show('off', 'already-installed', image);
      }
    } catch (error) {
      log.warn({ err: error, image }, `USB image not usable: ${(error as Error).message}`);
      return this.show('off', 'failed', image);
    }
    if (runner.busy) {
      log.warn({ image }, 'another firmware update is running; the USB image is not installed');
      return this.show('off', 'failed', image);
    }
    this.show('blinking', 'updating', image);
    const ok = await runner.installFile(image);
    if (signal.aborted) return;
    this.show('off', ok ? 'succeeded' : 'failed', image);
  }

  private show(indicator: UsbIndicator, status: UsbStatus, image: string): void {
    this.deps.bus.publish(T.usbImage, image);
    this.deps.bus.publish(T.usbStatus, status);
    this.deps.bus.publish(T.usbIndicator, indicator);
  }
}
