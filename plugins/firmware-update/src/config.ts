import type { JSONSchema } from '@opensecc/plugin-api';

export interface FirmwareUpdateConfig {
  /** Where full-file updates are downloaded to; files are removed after installation. */
  cacheDir: string;
  /** Space that must stay free on the cache's file system after the download, in MiB. */
  minFreeSpaceMiB: number;
  /** Roots under which removable media are mounted (seed 7.2). */
  usbMountRoots: string[];
  /** How often the USB roots are scanned, in ms; 0 disables USB updates. */
  usbPollMs: number;
  /**
   * Also treat every plain sub-directory of a root as a medium, not only mount points found in
   * /proc/self/mountinfo (for systems whose automounter uses bind mounts or symlinks).
   */
  usbSubdirectoriesAsMedia: boolean;
  backend: 'rauc' | 'simulated';
  rauc: {
    /** The rauc executable. */
    path: string;
    /** Arguments put before the rauc command (e.g. ["--conf", "/etc/rauc/system.conf"]). */
    args: string[];
    /** Extra environment for rauc (e.g. DBUS_SYSTEM_BUS_ADDRESS for a non-default bus). */
    env: Record<string, string>;
  };
  simulated: {
    /** Directory holding the simulated slot images and bootloader environment. */
    slotDir: string;
    /** PEM public key (or certificate) that simulated bundles must be signed with. */
    keyring: string;
    compatible: string;
  };
  /**
   * Mark the booted slot good when the plugin starts: the charging software running is the health
   * signal that confirms a new firmware. 'never' leaves it to an external health check.
   */
  markGood: 'on-start' | 'never';
  /** Where the kernel's boot id is read from (a change means the system rebooted). */
  bootIdFile: string;
  /** Idle time after which a download connection is given up, in seconds. */
  downloadIdleTimeoutSec: number;
  /** PEM files with CA certificates trusted for HTTPS/FTPS downloads besides the built-in roots. */
  tlsCaFiles: string[];
}

export const CONFIG_SCHEMA: JSONSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    cacheDir: { type: 'string', minLength: 1, default: '/var/cache/updated' },
    minFreeSpaceMiB: { type: 'number', minimum: 0, default: 16 },
    usbMountRoots: { type: 'array', items: { type: 'string', minLength: 1 }, default: ['/media', '/run/media'] },
    usbPollMs: { type: 'integer', minimum: 0, default: 2000 },
    usbSubdirectoriesAsMedia: { type: 'boolean', default: false },
    backend: { enum: ['rauc', 'simulated'], default: 'rauc' },
    rauc: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        path: { type: 'string', minLength: 1, default: 'rauc' },
        args: { type: 'array', items: { type: 'string' }, default: [] },
        env: { type: 'object', additionalProperties: { type: 'string' }, default: {} },
      },
    },
    simulated: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        slotDir: { type: 'string', minLength: 1, default: '/var/lib/opensecc/simulated-slots' },
        keyring: { type: 'string', default: '' },
        compatible: { type: 'string', minLength: 1, default: 'opensecc-simulated' },
      },
    },
    markGood: { enum: ['on-start', 'never'], default: 'on-start' },
    bootIdFile: { type: 'string', minLength: 1, default: '/proc/sys/kernel/random/boot_id' },
    downloadIdleTimeoutSec: { type: 'number', exclusiveMinimum: 0, default: 60 },
    tlsCaFiles: { type: 'array', items: { type: 'string', minLength: 1 }, default: [] },
  },
};

/** Fill defaults for fields the host did not apply (the host applies schema defaults; tests may not). */
export function withDefaults(input: Partial<FirmwareUpdateConfig> & Record<string, unknown>): FirmwareUpdateConfig {
  return {
    cacheDir: input.cacheDir ?? '/var/cache/updated',
    minFreeSpaceMiB: input.minFreeSpaceMiB ?? 16,
    usbMountRoots: input.usbMountRoots ?? ['/media', '/run/media'],
    usbPollMs: input.usbPollMs ?? 2000,
    usbSubdirectoriesAsMedia: input.usbSubdirectoriesAsMedia ?? false,
    backend: input.backend ?? 'rauc',
    rauc: { path: 'rauc', args: [], env: {}, ...input.rauc },
    simulated: {
      slotDir: '/var/lib/opensecc/simulated-slots',
      keyring: '',
      compatible: 'opensecc-simulated',
      ...input.simulated,
    },
    markGood: input.markGood ?? 'on-start',
    bootIdFile: input.bootIdFile ?? '/proc/sys/kernel/random/boot_id',
    downloadIdleTimeoutSec: input.downloadIdleTimeoutSec ?? 60,
    tlsCaFiles: input.tlsCaFiles ?? [],
  };
}
