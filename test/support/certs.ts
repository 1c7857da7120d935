/** A throwaway PKI for the TLS tests, made with the openssl CLI. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  readonly dir: string;
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly ca: Buffer;
}

/**
 * A root CA and a SECC leaf certificate on secp256r1 (ISO 15118-2 and DIN 70121 TLS use ECDSA
 * P-256), in a new temporary directory named after `prefix`.
 */
export function makeTestPki(names: { prefix?: string; rootCn?: string; seccCn?: string } = {}): TestPki {
  const dir = mkdtempSync(join(tmpdir(), names.prefix ?? 'v2g-pki-'));
  const f = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f('ca.key'));
  openssl('req', '-x509', '-new', '-key', f('ca.key'), '-subj', `/CN=${names.rootCn ?? 'V2G Test Root'}`, '-days', '2', '-sha256', '-out', f('ca.pem'));
  openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f('secc.key'));
  openssl('req', '-new', '-key', f('secc.key'), '-subj', `/CN=${names.seccCn ?? 'SECC-TEST'}`, '-out', f('secc.csr'));
  openssl('x509', '-req', '-in', f('secc.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2', '-sha256', '-out', f('secc.pem'));
  return { dir, caFile: f('ca.pem'), certFile: f('secc.pem'), keyFile: f('secc.key'), ca: readFileSync(f('ca.pem')) };
}

/** The names the ISO 15118-2 tests use (the SECC certificate's CN is the default EVSEID). */
export const ISO2_PKI = { prefix: 'iso2-pki-', rootCn: 'ISO2 Test V2G Root', seccCn: 'ZZ00000' };
