import { readFileSync } from 'node:fs';
import type { SecureContextOptions } from 'node:tls';

/**
 * ISO 15118-2 [V2G2-604]: TLS 1.2 with TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256 (mandatory) and
 * TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA256. OpenSSL 3 has dropped static ECDH, so the second one is
 * offered only where the linked OpenSSL still knows it (OpenSSL ignores unknown names in a list
 * as long as one matches).
 */
export const ISO15118_2_CIPHERS = 'ECDHE-ECDSA-AES128-SHA256:ECDH-ECDSA-AES128-SHA256';

/** Where the SECC's TLS credentials come from (paths in the config). */
export interface TlsFiles {
  /**
   * The SECC certificate chain (leaf first, then sub-CA 2, sub-CA 1), PEM, e.g. secc-chain.pem from
   * `secc pki generate`. Node sends every certificate of it in the handshake, so the EV needs only
   * the V2G root.
   */
  readonly certFile: string;
  /** The SECC certificate's private key, PEM (secp256r1). */
  readonly keyFile: string;
  /** Trust anchors for verifying a client certificate (ISO 15118-20 mutual TLS); unused for -2. */
  readonly caFile?: string;
  /** Override the cipher list (OpenSSL syntax). */
  readonly ciphers?: string;
}

export class TlsConfigError extends Error {
  constructor(
    readonly file: string,
    readonly field: string,
    reason: string,
  ) {
    super(`v2g.tls.${field} (${file}): ${reason}`);
    this.name = 'TlsConfigError';
  }
}

function readPem(file: string, field: string): Buffer {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (error) {
    throw new TlsConfigError(file, field, `cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (!data.includes('-----BEGIN ')) throw new TlsConfigError(file, field, 'not a PEM file');
  return data;
}

/** Secure-context options for the SECC's TLS server, read from the configured files. */
export function serverTlsOptions(files: TlsFiles): SecureContextOptions {
  const options: SecureContextOptions = {
    cert: readPem(files.certFile, 'certFile'),
    key: readPem(files.keyFile, 'keyFile'),
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.2',
    ciphers: files.ciphers ?? ISO15118_2_CIPHERS,
    ecdhCurve: 'prime256v1',
  };
  if (files.caFile) return { ...options, ca: readPem(files.caFile, 'caFile') };
  return options;
}
