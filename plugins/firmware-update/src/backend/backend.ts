/**
 * The update framework as the plugin sees it. Production uses rauc (`RaucBackend`); where rauc
 * cannot run, `SimulatedAbBackend` models rauc's A/B semantics on files.
 */
export interface SlotInfo {
  /** Bootloader name of the slot (A, B). */
  readonly bootname: string;
  /** rauc's boot status: good (bootable) or bad. */
  readonly bootStatus: 'good' | 'bad' | 'unknown';
  /** Identifier of the bundle last installed into this slot (rauc: the bundle hash), if known. */
  readonly bundleHash?: string;
  readonly bundleVersion?: string;
}

export interface SystemStatus {
  /** Bootname of the running slot. */
  readonly booted: string;
  /** Bootname of the slot the bootloader will start next. */
  readonly primary: string;
  readonly slots: readonly SlotInfo[];
}

export interface BundleInfo {
  readonly hash: string;
  readonly version?: string;
  readonly compatible?: string;
}

export interface InstallOptions {
  readonly signal: AbortSignal;
  /** Progress of the installation, 0..100. */
  readonly onProgress: (percent: number) => void;
}

export interface UpdateBackend {
  readonly name: string;
  /** Install a local bundle path or a URL (casync bundles: rauc fetches it itself). Throws InstallError. */
  install(source: string, options: InstallOptions): Promise<void>;
  status(): Promise<SystemStatus>;
  /** Read a bundle's identity without installing it (USB: recognise an image already installed). */
  bundleInfo(path: string): Promise<BundleInfo>;
  /** Mark the running slot good (confirms a new firmware) or a slot bad. */
  markGood(): Promise<void>;
  markBad(bootname: string): Promise<void>;
}

/** The framework refused or failed an installation; the message is published on result/message. */
export class InstallError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InstallError';
  }
}
