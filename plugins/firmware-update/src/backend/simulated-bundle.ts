import { createHash, createPublicKey, sign, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { InstallError } from './backend.js';

/**
 * The simulated backend's bundle: payload, then a JSON trailer {compatible, version, sha256,
 * signature}, its length (uint32 BE) and the magic. The signature (RSA/ECDSA over the payload's
 * SHA-256) plays the part of rauc's CMS signature: a bundle that fails it is never installed.
 */
const MAGIC = Buffer.from('OSIMBNDL');

export interface SimulatedBundleManifest {
  readonly compatible: string;
  readonly version: string;
  readonly sha256: string;
}

export function createSimulatedBundle(payload: Buffer, manifest: { compatible: string; version: string }, privateKeyPem: string): Buffer {
  const sha256 = createHash('sha256').update(payload).digest('hex');
  const signature = sign('sha256', Buffer.from(sha256), privateKeyPem).toString('base64');
  const trailer = Buffer.from(JSON.stringify({ ...manifest, sha256, signature }));
  const length = Buffer.alloc(4);
  length.writeUInt32BE(trailer.length);
  return Buffer.concat([payload, trailer, length, MAGIC]);
}

/** Parse and verify a simulated bundle; throws InstallError naming what failed. */
export function openSimulatedBundle(bundle: Buffer, keyringPem: string): { payload: Buffer; manifest: SimulatedBundleManifest } {
  if (bundle.length < 12 || !bundle.subarray(bundle.length - MAGIC.length).equals(MAGIC)) {
    throw new InstallError('not a bundle: magic missing at the end of the file');
  }
  const trailerLength = bundle.readUInt32BE(bundle.length - MAGIC.length - 4);
  const trailerStart = bundle.length - MAGIC.length - 4 - trailerLength;
  if (trailerStart < 0) throw new InstallError('not a bundle: manifest length exceeds the file');
  let trailer: SimulatedBundleManifest & { signature?: string };
  try {
    trailer = JSON.parse(bundle.subarray(trailerStart, trailerStart + trailerLength).toString('utf8')) as typeof trailer;
  } catch {
    throw new InstallError('not a bundle: manifest is not valid JSON');
  }
  const payload = bundle.subarray(0, trailerStart);
  const sha256 = createHash('sha256').update(payload).digest('hex');
  if (!keyringPem) throw new InstallError('signature verification failed: no keyring configured');
  const valid =
    typeof trailer.signature === 'string' &&
    trailer.sha256 === sha256 &&
    verify('sha256', Buffer.from(sha256), publicKeyOf(keyringPem), Buffer.from(trailer.signature, 'base64'));
  if (!valid) throw new InstallError('signature verification failed: bundle content does not match its signature');
  return { payload, manifest: { compatible: trailer.compatible, version: trailer.version, sha256 } };
}

function publicKeyOf(pem: string): KeyObject {
  return pem.includes('CERTIFICATE') ? new X509Certificate(pem).publicKey : createPublicKey(pem);
}
