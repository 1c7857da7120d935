/**
 * Contract private key transport for CertificateInstallationRes/CertificateUpdateRes
 * (ISO 15118-2, 7.9.2.5 / [V2G2-818..]): the sender (CPS/MO backend) makes an ephemeral
 * P-256 key pair, does ECDH with the receiver's public key (the EV's OEM provisioning
 * certificate, or its old contract certificate for an update), derives a 128-bit key with
 * the NIST SP 800-56A concatenation KDF (SHA-256; OtherInfo = AlgorithmID 0x01 ||
 * PartyUInfo 'U' (0x55) || PartyVInfo 'V' (0x56)), and encrypts the 32-byte private scalar
 * with AES-128-CBC, a random 16-byte IV and no padding (32 bytes are two whole blocks).
 * ContractSignatureEncryptedPrivateKey = IV || ciphertext (48 bytes); DHpublickey = the
 * ephemeral public key as an uncompressed point (65 bytes).
 */
import { createCipheriv, createDecipheriv, createECDH, createHash, createPrivateKey, diffieHellman, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { PkiError, p256Point, rawP256PublicKey, toKeyObject, toPublicKey, type CryptoKeyLike } from './pem.js';

export interface EncryptedContractKey {
  /** IV (16) || AES-128-CBC ciphertext of the 32-byte private scalar: 48 bytes, lowercase hex. */
  readonly encryptedPrivateKey: string;
  /** The sender's ephemeral public key, uncompressed point (65 bytes), lowercase hex. */
  readonly dhPublicKey: string;
}

const OTHER_INFO = Buffer.from([0x01, 0x55, 0x56]);

/** NIST SP 800-56A concatenation KDF with SHA-256, `bytes` ≤ 32 (one round is enough here). */
export function concatKdf(sharedSecret: Uint8Array, bytes: number, otherInfo: Uint8Array = OTHER_INFO): Buffer {
  const out: Buffer[] = [];
  for (let counter = 1; out.length * 32 < bytes; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    out.push(createHash('sha256').update(c).update(sharedSecret).update(otherInfo).digest());
  }
  return Buffer.concat(out).subarray(0, bytes);
}

function p256Scalar(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  if (key.type !== 'private' || jwk.crv !== 'P-256' || !jwk.d) throw new PkiError('expected a P-256 private key');
  return Buffer.from(jwk.d, 'base64url');
}

function requireP256(key: KeyObject, what: string): void {
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new PkiError(`${what} is not a P-256 key`);
}

/** Encrypts the contract private key for the receiver (OEM provisioning or old contract key). */
export function encryptContractKey(contractPrivateKey: KeyObject | CryptoKeyLike, receiverPublicKey: KeyObject | CryptoKeyLike | Uint8Array): EncryptedContractKey {
  const contract = toKeyObject(contractPrivateKey);
  const receiver = toPublicKey(receiverPublicKey);
  requireP256(contract, 'contract private key');
  requireP256(receiver, 'receiver public key');
  const ephemeral = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const shared = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: receiver });
  const key = concatKdf(shared, 16);
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-128-cbc', key, iv).setAutoPadding(false);
  const ciphertext = Buffer.concat([cipher.update(p256Scalar(contract)), cipher.final()]);
  return {
    encryptedPrivateKey: Buffer.concat([iv, ciphertext]).toString('hex'),
    dhPublicKey: Buffer.from(p256Point(ephemeral.publicKey)).toString('hex'),
  };
}

/** The inverse: the EV decrypts with its OEM provisioning (or old contract) private key. Throws PkiError on bad input. */
export function decryptContractKey(encrypted: EncryptedContractKey, receiverPrivateKey: KeyObject | CryptoKeyLike): KeyObject {
  const receiver = toKeyObject(receiverPrivateKey);
  requireP256(receiver, 'receiver private key');
  const data = Buffer.from(encrypted.encryptedPrivateKey, 'hex');
  if (data.length !== 48) throw new PkiError(`encryptedPrivateKey is ${data.length} bytes, expected 48 (IV 16 + ciphertext 32)`);
  const point = Buffer.from(encrypted.dhPublicKey, 'hex');
  const senderKey = rawP256PublicKey(point);
  const shared = diffieHellman({ privateKey: receiver, publicKey: senderKey });
  const key = concatKdf(shared, 16);
  const decipher = createDecipheriv('aes-128-cbc', key, data.subarray(0, 16)).setAutoPadding(false);
  const scalar = Buffer.concat([decipher.update(data.subarray(16)), decipher.final()]);
  return privateKeyFromScalar(scalar);
}

/** A P-256 private KeyObject from its 32-byte scalar. */
export function privateKeyFromScalar(scalar: Uint8Array): KeyObject {
  if (scalar.length !== 32) throw new PkiError(`private scalar is ${scalar.length} bytes, expected 32`);
  const ecdh = createECDH('prime256v1');
  try {
    ecdh.setPrivateKey(Buffer.from(scalar));
  } catch (e) {
    throw new PkiError(`decrypted value is not a valid P-256 private key (${(e as Error).message}); wrong receiver key?`);
  }
  const pub = ecdh.getPublicKey();
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');
  return createPrivateKey({ key: { kty: 'EC', crv: 'P-256', d: b64(scalar), x: b64(pub.subarray(1, 33)), y: b64(pub.subarray(33)) }, format: 'jwk' });
}
