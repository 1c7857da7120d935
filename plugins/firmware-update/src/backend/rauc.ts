import { spawn } from 'node:child_process';
import { InstallError, type BundleInfo, type InstallOptions, type SlotInfo, type SystemStatus, type UpdateBackend } from './backend.js';

export interface RaucBackendOptions {
  /** The rauc executable. */
  readonly path: string;
  /** Arguments before the command, e.g. ['--conf', '/etc/rauc/system.conf']. */
  readonly args: readonly string[];
  /** Extra environment (DBUS_SYSTEM_BUS_ADDRESS when rauc's service is on another bus). */
  readonly env: Readonly<Record<string, string>>;
}

interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * rauc through its command line (which talks to the rauc service over D-Bus): `install`,
 * `status --output-format=json`, `info`, `status mark-good|mark-bad`.
 */
export class RaucBackend implements UpdateBackend {
  readonly name = 'rauc';

  constructor(private readonly options: RaucBackendOptions) {}

  async install(source: string, options: InstallOptions): Promise<void> {
    let lastError = '';
    const result = await this.run(['install', source], options.signal, (line) => {
      // rauc prints "NN% <step>" lines while installing and "LastError: …" when it fails.
      const progress = /^\s*(\d{1,3})%/.exec(line);
      if (progress) options.onProgress(Math.min(100, Number(progress[1])));
      const error = /LastError:\s*(.*)$/.exec(line);
      if (error?.[1]) lastError = error[1].trim();
    });
    if (result.code !== 0) {
      const reason = lastError || lastLine(result.stderr) || lastLine(result.stdout) || `exit code ${result.code}`;
      throw new InstallError(`rauc install failed: ${reason}`);
    }
  }

  async status(): Promise<SystemStatus> {
    return parseRaucStatus(await this.statusJson());
  }

  async bundleInfo(path: string): Promise<BundleInfo> {
    const result = await this.run(['info', '--output-format=json', path]);
    if (result.code !== 0) throw new InstallError(`rauc info failed: ${lastLine(result.stderr) || `exit code ${result.code}`}`);
    return parseRaucInfo(result.stdout);
  }

  async markGood(): Promise<void> {
    await this.mark(['status', 'mark-good', 'booted']);
  }

  async markBad(bootname: string): Promise<void> {
    const slotName = slotNameOf(JSON.parse(await this.statusJson()), bootname);
    if (!slotName) throw new Error(`rauc: no slot with bootname '${bootname}'`);
    await this.mark(['status', 'mark-bad', slotName]);
  }

  private async statusJson(): Promise<string> {
    const result = await this.run(['status', '--detailed', '--output-format=json']);
    if (result.code !== 0) throw new Error(`rauc status failed: ${lastLine(result.stderr) || `exit code ${result.code}`}`);
    return result.stdout;
  }

  private async mark(args: string[]): Promise<void> {
    const result = await this.run(args);
    if (result.code !== 0) throw new Error(`rauc ${args.join(' ')} failed: ${lastLine(result.stderr) || `exit code ${result.code}`}`);
  }

  private run(args: string[], signal?: AbortSignal, onLine?: (line: string) => void): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.options.path, [...this.options.args, ...args], {
        env: { ...process.env, ...this.options.env },
        stdio: ['ignore', 'pipe', 'pipe'],
        signal,
      });
      let stdout = '';
      let stderr = '';
      let pending = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
        if (!onLine) return;
        pending += chunk;
        const lines = pending.split(/\r?\n|\r/);
        pending = lines.pop() ?? '';
        for (const line of lines) onLine(line);
      });
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      child.on('error', (error) => reject(new InstallError(`cannot run ${this.options.path}: ${error.message}`, { cause: error })));
      child.on('close', (code) => {
        if (onLine && pending) onLine(pending);
        resolve({ code, stdout, stderr });
      });
    });
  }
}

function lastLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.at(-1) ?? '';
}

type RaucSlotJson = {
  bootname?: string;
  boot_status?: string;
  slot_status?: { bundle?: { version?: string | null }; checksum?: { sha256?: string } };
};

function slotEntries(raw: unknown): Array<[string, RaucSlotJson]> {
  const slots = (raw as { slots?: unknown }).slots;
  if (!Array.isArray(slots)) return [];
  return slots.flatMap((entry) => Object.entries(entry as Record<string, RaucSlotJson>));
}

function slotNameOf(raw: unknown, bootname: string): string | undefined {
  return slotEntries(raw).find(([, slot]) => slot.bootname === bootname)?.[0];
}

/** `rauc status --detailed --output-format=json` → SystemStatus (boot_primary is a slot name there). */
export function parseRaucStatus(json: string): SystemStatus {
  let raw: { booted?: string; boot_primary?: string | null };
  try {
    raw = JSON.parse(json) as typeof raw;
  } catch (error) {
    throw new Error(`rauc status printed no valid JSON: ${(error as Error).message}`);
  }
  const entries = slotEntries(raw).filter(([, slot]) => slot.bootname);
  const slots: SlotInfo[] = entries.map(([, slot]) => ({
    bootname: slot.bootname!,
    bootStatus: slot.boot_status === 'good' || slot.boot_status === 'bad' ? slot.boot_status : 'unknown',
    bundleHash: slot.slot_status?.checksum?.sha256,
    bundleVersion: slot.slot_status?.bundle?.version ?? undefined,
  }));
  const primaryEntry = entries.find(([name]) => name === raw.boot_primary);
  return {
    booted: raw.booted ?? '',
    primary: primaryEntry?.[1].bootname ?? '',
    slots,
  };
}

/** `rauc info --output-format=json` → BundleInfo; the hash is the image checksum(s), as slot status records them. */
export function parseRaucInfo(json: string): BundleInfo {
  let raw: { compatible?: string; version?: string; images?: Array<Record<string, { checksum?: string }>> };
  try {
    raw = JSON.parse(json) as typeof raw;
  } catch (error) {
    throw new InstallError(`rauc info printed no valid JSON: ${(error as Error).message}`);
  }
  const checksums = (raw.images ?? []).flatMap((image) => Object.values(image).map((i) => i.checksum ?? '')).filter(Boolean);
  return { hash: checksums.sort().join(','), version: raw.version ?? undefined, compatible: raw.compatible ?? undefined };
}
