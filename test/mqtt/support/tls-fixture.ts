/**
 * A throw-away CA and a server certificate for 127.0.0.1, made with the openssl CLI, plus a
 * Mosquitto password file, for the external-broker test (TLS + username/password).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const OPENSSL = ['/usr/bin/openssl', '/usr/local/bin/openssl'].find((p) => existsSync(p));
export const MOSQUITTO_PASSWD = ['/usr/bin/mosquitto_passwd', '/usr/sbin/mosquitto_passwd'].find((p) => existsSync(p));

export interface TlsFixture {
  readonly dir: string;
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly passwordFile: string;
  readonly username: string;
  readonly password: string;
}

export function makeTlsFixture(): TlsFixture {
  if (!OPENSSL || !MOSQUITTO_PASSWD) throw new Error('needs openssl and mosquitto_passwd');
  const dir = mkdtempSync(join(tmpdir(), 'secc-mqtt-tls-'));
  const f = (name: string) => join(dir, name);
  const ssl = (...args: string[]) => execFileSync(OPENSSL, args, { stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=OpenSECC test CA', '-keyout', f('ca.key'), '-out', f('ca.pem'));
  ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', f('server.key'), '-out', f('server.csr'));
  execFileSync('sh', ['-c', `printf 'subjectAltName=IP:127.0.0.1\\n' > '${f('san.ext')}'`]);
  ssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', f('san.ext'), '-out', f('server.pem'));
  const username = 'secc';
  const password = 'test-password-not-secret';
  execFileSync(MOSQUITTO_PASSWD, ['-b', '-c', f('passwd'), username, password], { stdio: 'pipe' });
  return { dir, caCert: f('ca.pem'), serverCert: f('server.pem'), serverKey: f('server.key'), passwordFile: f('passwd'), username, password };
}
