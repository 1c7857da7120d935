import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A root CA and a SECC certificate on secp256r1 (ISO 15118-2 uses ECDSA P-256), made with the openssl CLI. */
export function makeSeccPki(): { certFile: string; keyFile: string; ca: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'iso2-pki-'));
  const f = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f('ca.key'));
  openssl('req', '-x509', '-new', '-key', f('ca.key'), '-subj', '/CN=ISO2 Test V2G Root', '-days', '2', '-sha256', '-out', f('ca.pem'));
  openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f('secc.key'));
  openssl('req', '-new', '-key', f('secc.key'), '-subj', '/CN=ZZ00000', '-out', f('secc.csr'));
  openssl('x509', '-req', '-in', f('secc.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2', '-sha256', '-out', f('secc.pem'));
  return { certFile: f('secc.pem'), keyFile: f('secc.key'), ca: readFileSync(f('ca.pem')) };
}
