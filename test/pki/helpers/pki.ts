/** One generated test PKI per test file (generation takes about half a second). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { generatePki, readCertificate, readChain, type GeneratePkiOptions, type PkiLayout } from '@opensecc/v2g-pki';

export const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), `pki-${prefix}-`));

export async function freshPki(prefix: string, options?: GeneratePkiOptions): Promise<PkiLayout & { cleanup(): void }> {
  const dir = tempDir(prefix);
  const layout = await generatePki(dir, options);
  return { ...layout, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const der = (file: string) => readCertificate(file);
export const chainOf = (file: string) => readChain(file);

export function openssl(args: string[], input?: string | Buffer): { code: number; out: string } {
  const r = spawnSync('openssl', args, { input, encoding: 'buffer' });
  return { code: r.status ?? -1, out: `${r.stdout?.toString() ?? ''}${r.stderr?.toString() ?? ''}` };
}

export const HAS_OPENSSL = spawnSync('openssl', ['version']).status === 0;
export const NEEDS_OPENSSL = HAS_OPENSSL ? false : 'needs the openssl command line tool';
