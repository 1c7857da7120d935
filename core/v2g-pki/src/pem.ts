/** PEM/DER helpers and key loading (node:crypto only). */
import { createPrivateKey, createPublicKey, KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';

export class PkiError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PkiError';
  }
}

/** Wraps DER bytes as PEM with 64-character lines. */
export function toPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** All PEM blocks of `pem` (optionally only those with `label`), in file order, as DER. */
export function fromPem(pem: string, label?: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const m of pem.matchAll(PEM_BLOCK)) {
    if (label !== undefined && m[1] !== label) continue;
    out.push(new Uint8Array(Buffer.from(m[2]!.replace(/\s+/g, ''), 'base64')));
  }
  return out;
}

function looksLikePem(s: string): boolean {
  return s.includes('-----BEGIN ');
}

/**
 * One certificate as DER from DER bytes, PEM text, or the path of a PEM/DER file
 * (the first certificate when the PEM holds several). Throws PkiError when there is none.
 */
export function readCertificate(pemOrDer: string | Uint8Array): Uint8Array {
  let der: Uint8Array | undefined;
  let what = 'input';
  if (typeof pemOrDer !== 'string') der = pemOrDer;
  else if (looksLikePem(pemOrDer)) der = fromPem(pemOrDer, 'CERTIFICATE')[0];
  else {
    what = pemOrDer;
    const bytes = readFileSync(pemOrDer);
    const text = bytes.toString('latin1');
    der = looksLikePem(text) ? fromPem(text, 'CERTIFICATE')[0] : new Uint8Array(bytes);
  }
  if (!der || der.length === 0) throw new PkiError(`${what}: no certificate found`);
  try {
    new X509Certificate(der);
  } catch (e) {
    throw new PkiError(`${what}: not an X.509 certificate (${(e as Error).message})`);
  }
  return der;
}

/** Every certificate of a PEM file (or PEM text), in file order: leaf first for chain files. */
export function readChain(pemFileOrText: string): Uint8Array[] {
  const text = looksLikePem(pemFileOrText) ? pemFileOrText : readFileSync(pemFileOrText, 'latin1');
  const certs = fromPem(text, 'CERTIFICATE');
  if (certs.length === 0) throw new PkiError(`${looksLikePem(pemFileOrText) ? 'PEM text' : pemFileOrText}: no certificate found`);
  return certs;
}

/** A private key from a PEM file (PKCS#8 or SEC1) or PEM text. */
export function loadKey(pemFileOrText: string): KeyObject {
  const text = looksLikePem(pemFileOrText) ? pemFileOrText : readFileSync(pemFileOrText, 'latin1');
  try {
    return createPrivateKey(text);
  } catch (e) {
    throw new PkiError(`${looksLikePem(pemFileOrText) ? 'PEM text' : pemFileOrText}: not a private key (${(e as Error).message})`);
  }
}

/** The subject public key of a certificate. */
export function publicKeyOf(certDer: Uint8Array): KeyObject {
  try {
    return new X509Certificate(certDer).publicKey;
  } catch (e) {
    throw new PkiError(`not an X.509 certificate (${(e as Error).message})`);
  }
}

/** A public key from a KeyObject, CryptoKey, certificate DER, SPKI DER or raw uncompressed P-256 point. */
export function toPublicKey(key: KeyObject | CryptoKeyLike | Uint8Array): KeyObject {
  if (key instanceof Uint8Array) {
    if (key.length === 65 && key[0] === 0x04) return rawP256PublicKey(key);
    try {
      return publicKeyOf(key);
    } catch {
      return createPublicKey({ key: Buffer.from(key), format: 'der', type: 'spki' });
    }
  }
  const k = toKeyObject(key);
  return k.type === 'private' ? createPublicKey(k) : k;
}

/** The WebCrypto key type, without depending on DOM typings. */
export type CryptoKeyLike = import('node:crypto').webcrypto.CryptoKey;

export function toKeyObject(key: KeyObject | CryptoKeyLike): KeyObject {
  return key instanceof KeyObject ? key : KeyObject.from(key);
}

/** An uncompressed P-256 point (04||X||Y) as a public KeyObject. */
export function rawP256PublicKey(point: Uint8Array): KeyObject {
  if (point.length !== 65 || point[0] !== 0x04) throw new PkiError(`expected an uncompressed P-256 point (65 bytes starting 04), got ${point.length} bytes`);
  return createPublicKey({
    key: { kty: 'EC', crv: 'P-256', x: Buffer.from(point.subarray(1, 33)).toString('base64url'), y: Buffer.from(point.subarray(33)).toString('base64url') },
    format: 'jwk',
  });
}

/** The uncompressed point (04||X||Y) of a P-256 public key. */
export function p256Point(key: KeyObject): Uint8Array {
  const jwk = (key.type === 'public' ? key : createPublicKey(key)).export({ format: 'jwk' });
  if (jwk.crv !== 'P-256' || !jwk.x || !jwk.y) throw new PkiError(`expected a P-256 key, got ${jwk.kty ?? '?'} ${jwk.crv ?? ''}`);
  return new Uint8Array(Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]));
}
