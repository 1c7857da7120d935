import { statfs } from 'node:fs/promises';

export const MiB = 1024 * 1024;

export class InsufficientSpaceError extends Error {
  constructor(
    readonly dir: string,
    readonly needed: number,
    readonly available: number,
  ) {
    super(
      `not enough space in ${dir}: ${formatMiB(needed)} needed (including the reserve), ${formatMiB(available)} available`,
    );
    this.name = 'InsufficientSpaceError';
  }
}

/** Bytes an unprivileged writer may still use on the file system holding `dir`. */
export async function availableBytes(dir: string): Promise<number> {
  const stats = await statfs(dir);
  return Number(stats.bavail) * Number(stats.bsize);
}

/** Throw when `bytes` more would leave less than `reserveBytes` free in `dir`. */
export async function ensureSpace(dir: string, bytes: number, reserveBytes: number): Promise<void> {
  const available = await availableBytes(dir);
  if (bytes + reserveBytes > available) throw new InsufficientSpaceError(dir, bytes + reserveBytes, available);
}

function formatMiB(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`;
}
