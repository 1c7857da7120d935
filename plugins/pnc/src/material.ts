/**
 * Reads the trust stores, the SECC's chain and its private key from disk. Nothing here throws on a
 * missing or bad file: each problem is collected (naming the file) so that the plugin keeps running,
 * reports it and picks the fix up when the file changes.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { crlSignedBy, fromPem, loadKey, parseCertificate, parseCrl, readCrls, type ParsedCert, type ParsedCrl } from '@opensecc/v2g-pki';
import type { PncPaths } from './config.js';

export type StoreName = 'v2g' | 'mo' | 'oem';

export interface LoadedCertificate {
  /** e.g. 'v2g-root', 'mo-root', 'oem-sub-ca', 'secc-leaf', 'secc-sub-ca'. */
  readonly role: string;
  readonly file: string;
  readonly cert: ParsedCert;
}

export interface LoadedCrl {
  readonly file: string;
  readonly crl: ParsedCrl;
  /**
   * 'verified': signed by a CA certificate the plugin holds; 'unverified': its issuer (typically a
   * sub-CA 2 that arrives with the EV's chain) is checked each time the CRL is used.
   */
  readonly signature: 'verified' | 'unverified';
}

export interface PncMaterial {
  /** Self-signed CA certificates per store (trust anchors). */
  readonly roots: Readonly<Record<StoreName, readonly LoadedCertificate[]>>;
  /** CA certificates in a store that are not self-signed (sub-CAs a chain may leave out, e.g. the OEM's). */
  readonly intermediates: Readonly<Record<StoreName, readonly LoadedCertificate[]>>;
  /** The SECC's chain, leaf first. */
  readonly seccChain: readonly LoadedCertificate[];
  readonly seccKey: KeyObject | undefined;
  /** Revocation lists (a CRL whose signature fails with a CA certificate held here is left out, as a problem). */
  readonly crls: readonly LoadedCrl[];
  /** What could not be used, each naming its file. */
  readonly problems: readonly string[];
  /** Every file and directory read, for the watcher. */
  readonly watched: readonly string[];
}

/** A private key file must not be readable or writable by group or others. */
export class KeyPermissionError extends Error {
  constructor(
    readonly file: string,
    readonly mode: number,
  ) {
    super(`private key ${file} has mode 0${(mode & 0o777).toString(8)}: refused, it must be 0600 or stricter (chmod 600 ${file})`);
    this.name = 'KeyPermissionError';
  }
}

/** Loads a PEM private key after checking its mode (owner-only). */
export function loadPrivateKey(file: string): KeyObject {
  const mode = statSync(file).mode;
  if ((mode & 0o077) !== 0) throw new KeyPermissionError(file, mode);
  return loadKey(readFileSync(file, 'utf8'));
}

const describeError = (error: unknown) => ((error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : (error as Error).message);

/** PEM files of a path: the file itself, or the `*.pem` (not `*.key.pem`) of a directory. */
function pemFiles(path: string, problems: string[]): string[] {
  try {
    if (!statSync(path).isDirectory()) return [path];
    return readdirSync(path)
      .filter((name) => /\.(pem|crt|cer)$/i.test(name) && !/\.(key|crl)\.pem$/i.test(name))
      .sort()
      .map((name) => join(path, name));
  } catch (error) {
    problems.push(`${path}: ${describeError(error)}`);
    return [];
  }
}

function certificatesOf(file: string, problems: string[]): ParsedCert[] {
  let text: string;
  try {
    text = readFileSync(file, 'latin1');
  } catch (error) {
    problems.push(`${file}: ${describeError(error)}`);
    return [];
  }
  const ders = text.includes('-----BEGIN ') ? fromPem(text, 'CERTIFICATE') : [new Uint8Array(Buffer.from(text, 'latin1'))];
  if (ders.length === 0) problems.push(`${file}: no certificate in it`);
  const out: ParsedCert[] = [];
  for (const [i, der] of ders.entries()) {
    try {
      out.push(parseCertificate(der));
    } catch (error) {
      problems.push(`${file}: certificate ${i + 1} is not readable (${(error as Error).message})`);
    }
  }
  return out;
}

export function loadMaterial(paths: PncPaths): PncMaterial {
  const problems: string[] = [];
  const roots: Record<StoreName, LoadedCertificate[]> = { v2g: [], mo: [], oem: [] };
  const intermediates: Record<StoreName, LoadedCertificate[]> = { v2g: [], mo: [], oem: [] };
  for (const store of ['v2g', 'mo', 'oem'] as const) {
    for (const path of paths[store]) {
      for (const file of pemFiles(path, problems)) {
        for (const cert of certificatesOf(file, problems)) {
          if (!cert.isCa) problems.push(`${file}: ${cert.subject} is not a CA certificate: ignored in the ${store} trust store`);
          else if (cert.selfSigned) roots[store].push({ role: `${store}-root`, file, cert });
          else intermediates[store].push({ role: `${store}-sub-ca`, file, cert });
        }
      }
    }
  }
  const seccChain = certificatesOf(paths.seccCertFile, problems).map((cert, i) => ({ role: i === 0 ? 'secc-leaf' : 'secc-sub-ca', file: paths.seccCertFile, cert }));
  let seccKey: KeyObject | undefined;
  try {
    seccKey = loadPrivateKey(paths.seccKeyFile);
  } catch (error) {
    problems.push(error instanceof KeyPermissionError ? error.message : `private key ${paths.seccKeyFile}: ${describeError(error)}`);
  }
  const leaf = seccChain[0];
  if (seccKey && leaf && !sameKeyPair(seccKey, leaf.cert.publicKey)) {
    problems.push(`private key ${paths.seccKeyFile} does not belong to the SECC certificate ${leaf.cert.subject} (${paths.seccCertFile})`);
    seccKey = undefined;
  }
  const knownCas = [...(['v2g', 'mo', 'oem'] as const).flatMap((s) => [...roots[s], ...intermediates[s]]), ...seccChain.slice(1)].map((c) => c.cert);
  const crls = loadCrls([...paths.v2g, ...paths.mo, ...paths.oem], paths.crls, knownCas, problems);
  return { roots, intermediates, seccChain, seccKey, crls, problems, watched: [...paths.v2g, ...paths.mo, ...paths.oem, ...paths.crls, paths.seccCertFile, paths.seccKeyFile] };
}

const CRL_FILE = /\.crl(\.pem|\.der)?$/i;

/** CRL files of the given paths: a directory's `*.crl` / `*.crl.pem` / `*.crl.der`, or a file given as such. */
function crlFiles(storePaths: readonly string[], crlPaths: readonly string[], problems: string[]): string[] {
  const files = new Set<string>();
  for (const path of [...storePaths, ...crlPaths]) {
    try {
      if (statSync(path).isDirectory()) {
        for (const name of readdirSync(path).sort()) if (CRL_FILE.test(name)) files.add(join(path, name));
      } else if (CRL_FILE.test(path)) files.add(path);
    } catch (error) {
      // A missing trust store path is reported by the certificate loading already.
      if (crlPaths.includes(path)) problems.push(`${path}: ${describeError(error)}`);
    }
  }
  return [...files];
}

function loadCrls(storePaths: readonly string[], crlPaths: readonly string[], knownCas: readonly ParsedCert[], problems: string[]): LoadedCrl[] {
  const out: LoadedCrl[] = [];
  for (const file of crlFiles(storePaths, crlPaths, problems)) {
    let ders: Uint8Array[];
    try {
      ders = readCrls(file);
    } catch (error) {
      problems.push(`CRL ${file}: ${describeError(error)}`);
      continue;
    }
    for (const [i, der] of ders.entries()) {
      let crl: ParsedCrl;
      try {
        crl = parseCrl(der);
      } catch (error) {
        problems.push(`CRL ${file}${ders.length > 1 ? ` (${i + 1})` : ''}: ${(error as Error).message}`);
        continue;
      }
      const issuers = knownCas.filter((c) => c.subject === crl.issuer);
      if (issuers.length === 0) {
        out.push({ file, crl, signature: 'unverified' });
        continue;
      }
      const checks = issuers.map((c) => crlSignedBy(crl, c.der));
      if (checks.some((c) => c.ok)) out.push({ file, crl, signature: 'verified' });
      else problems.push(`CRL ${file}: ignored, ${checks.map((c) => (c.ok ? '' : c.reason)).join('; ')}`);
    }
  }
  return out;
}

function sameKeyPair(privateKey: KeyObject, publicKey: KeyObject): boolean {
  try {
    const derived = (privateKey.asymmetricKeyType === 'ec' ? privateKey : undefined)?.export({ format: 'jwk' }) as { x?: string; y?: string } | undefined;
    const expected = publicKey.export({ format: 'jwk' }) as { x?: string; y?: string };
    return derived !== undefined && derived.x === expected.x && derived.y === expected.y;
  } catch {
    return false;
  }
}
