import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { download, parseDownloadUrl } from '../download/index.js';
import { readJsonFile, writeFileAtomic } from '../atomic-file.js';
import { InstallError, type BundleInfo, type InstallOptions, type SystemStatus, type UpdateBackend } from './backend.js';
import { FileBootloader } from './file-bootloader.js';
import { openSimulatedBundle } from './simulated-bundle.js';

export interface SimulatedBackendOptions {
  readonly slotDir: string;
  /** PEM public key or certificate bundles must be signed with. */
  readonly keyringPem: string;
  readonly compatible: string;
}

interface SlotRecord {
  hash: string;
  version: string;
}

/**
 * An A/B system on files, following rauc's documented semantics: install writes the inactive slot
 * (marked bad while it is written), then makes it primary; the new slot must be marked good once it
 * booted, otherwise the bootloader falls back (see FileBootloader). Used where rauc cannot run.
 */
export class SimulatedAbBackend implements UpdateBackend {
  readonly name = 'simulated';
  readonly bootloader: FileBootloader;

  constructor(private readonly options: SimulatedBackendOptions) {
    this.bootloader = new FileBootloader(join(options.slotDir, 'bootenv'));
  }

  async install(source: string, options: InstallOptions): Promise<void> {
    const bundle = /^[a-z]+:\/\//i.test(source) ? await this.fetch(source, options.signal) : await readBundle(source);
    options.onProgress(10);
    const { payload, manifest } = openSimulatedBundle(bundle, this.options.keyringPem);
    if (manifest.compatible !== this.options.compatible) {
      throw new InstallError(`compatible mismatch: bundle is for '${manifest.compatible}', this system is '${this.options.compatible}'`);
    }
    options.onProgress(40);
    const target = this.inactiveSlot();
    this.bootloader.setState(target, 'bad');
    await writeFile(join(this.options.slotDir, `slot-${target}.img`), payload);
    writeFileAtomic(this.recordPath(target), JSON.stringify({ hash: manifest.sha256, version: manifest.version }));
    options.onProgress(90);
    this.bootloader.setPrimary(target);
    options.onProgress(100);
  }

  async status(): Promise<SystemStatus> {
    const env = this.bootloader.load();
    return {
      booted: env.current,
      primary: this.bootloader.primary(),
      slots: Object.keys(env.slots).map((bootname) => {
        const record = readJsonFile<SlotRecord>(this.recordPath(bootname));
        return { bootname, bootStatus: this.bootloader.state(bootname), bundleHash: record?.hash, bundleVersion: record?.version };
      }),
    };
  }

  async bundleInfo(path: string): Promise<BundleInfo> {
    const { manifest } = openSimulatedBundle(await readBundle(path), this.options.keyringPem);
    return { hash: manifest.sha256, version: manifest.version, compatible: manifest.compatible };
  }

  async markGood(): Promise<void> {
    this.bootloader.setState(this.bootloader.current(), 'good');
  }

  async markBad(bootname: string): Promise<void> {
    this.bootloader.setState(bootname, 'bad');
  }

  private inactiveSlot(): string {
    const env = this.bootloader.load();
    const other = Object.keys(env.slots).find((name) => name !== env.current);
    if (!other) throw new InstallError('no inactive slot to install into');
    return other;
  }

  private recordPath(bootname: string): string {
    return join(this.options.slotDir, `slot-${bootname}.json`);
  }

  /** rauc fetches a URL bundle itself; so does the simulation. */
  private async fetch(url: string, signal: AbortSignal): Promise<Buffer> {
    const dir = await mkdtemp(join(this.options.slotDir, '.fetch-'));
    const dest = join(dir, 'bundle');
    try {
      await download({ url: parseDownloadUrl(url), dest, signal, onProgress: () => {}, onSize: async () => {}, idleTimeoutMs: 30_000 }).catch(
        (error: Error) => {
          throw new InstallError(`cannot fetch bundle: ${error.message}`);
        },
      );
      return await readFile(dest);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

async function readBundle(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new InstallError(`cannot read bundle ${path}: ${(error as Error).message}`);
  }
}
