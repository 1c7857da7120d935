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

/** A root CA and a SECC leaf certificate on secp256r1, made with the openssl CLI (as ISO 15118-2 wants ECDSA P-256). */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'v2g-pki-'));
  const f = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f('ca.key'));
  openssl('req', '-x509', '-new', '-key', f('ca.key'), '-subj', '/CN=V2G Test Root', '-days', '2', '-sha256', '-out', f('ca.pem'));
  openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f('secc.key'));
  openssl('req', '-new', '-key', f('secc.key'), '-subj', '/CN=SECC-TEST', '-out', f('secc.csr'));
  openssl('x509', '-req', '-in', f('secc.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2', '-sha256', '-out', f('secc.pem'));
  return { dir, caFile: f('ca.pem'), certFile: f('secc.pem'), keyFile: f('secc.key'), ca: readFileSync(f('ca.pem')) };
}
