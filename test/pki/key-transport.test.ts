/**
 * Contract private key transport (CertificateInstallationRes): ECDH P-256 + ConcatKDF (SHA-256,
 * AlgorithmID 01, PartyUInfo 'U', PartyVInfo 'V') + AES-128-CBC, IV first.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createECDH, createHash, createPrivateKey, sign, verify } from 'node:crypto';
import { encryptContractKey, decryptContractKey, concatKdf, loadKey, publicKeyOf, PkiError } from '@opensecc/v2g-pki';
import { freshPki, der } from './helpers/pki.js';

const pki = await freshPki('keys');
after(() => pki.cleanup());

test('round trip: the EV gets back the contract private key with its OEM provisioning key', () => {
  const contractKey = loadKey(pki.contract.key);
  const enc = encryptContractKey(contractKey, publicKeyOf(der(pki.oemProvisioning.cert)));
  assert.match(enc.encryptedPrivateKey, /^[0-9a-f]{96}$/, '48 bytes: IV 16 + ciphertext 32');
  assert.match(enc.dhPublicKey, /^04[0-9a-f]{128}$/, 'uncompressed point, 65 bytes');
  const back = decryptContractKey(enc, loadKey(pki.oemProvisioning.key));
  assert.equal(back.export({ format: 'jwk' }).d, contractKey.export({ format: 'jwk' }).d);
  // The recovered key signs what the contract certificate verifies.
  const s = sign('sha256', Buffer.from('x'), back);
  assert.ok(verify('sha256', Buffer.from('x'), publicKeyOf(der(pki.contract.cert)), s));
  // The certificate DER works as the receiver too (CertificateUpdate: the old contract certificate).
  const update = encryptContractKey(contractKey, der(pki.contract.cert));
  assert.equal(decryptContractKey(update, contractKey).export({ format: 'jwk' }).d, contractKey.export({ format: 'jwk' }).d);
});

test('each encryption uses a fresh ephemeral key and IV', () => {
  const receiver = publicKeyOf(der(pki.oemProvisioning.cert));
  const a = encryptContractKey(loadKey(pki.contract.key), receiver);
  const b = encryptContractKey(loadKey(pki.contract.key), receiver);
  assert.notEqual(a.dhPublicKey, b.dhPublicKey);
  assert.notEqual(a.encryptedPrivateKey.slice(0, 32), b.encryptedPrivateKey.slice(0, 32));
});

test('known answer: fixed keys and IV, derived by hand from the spec formula', () => {
  // receiver d = 1, sender ephemeral d = 2: Z = x(2·G·1) = x(2G)
  const scalar = (n: number) => Buffer.concat([Buffer.alloc(31), Buffer.from([n])]);
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(scalar(2));
  const receiverPoint = createECDH('prime256v1');
  receiverPoint.setPrivateKey(scalar(1));
  const z = ecdh.computeSecret(receiverPoint.getPublicKey());
  const expectedKey = createHash('sha256').update(Buffer.from([0, 0, 0, 1])).update(z).update(Buffer.from([0x01, 0x55, 0x56])).digest().subarray(0, 16);
  assert.deepEqual(concatKdf(z, 16), expectedKey);
  const contractScalar = Buffer.from('11'.repeat(32), 'hex');
  const iv = Buffer.from('22'.repeat(16), 'hex');
  const c = createCipheriv('aes-128-cbc', expectedKey, iv).setAutoPadding(false);
  const ciphertext = Buffer.concat([c.update(contractScalar), c.final()]);
  const receiver = createPrivateKey({ key: { kty: 'EC', crv: 'P-256', d: scalar(1).toString('base64url'), x: receiverPoint.getPublicKey().subarray(1, 33).toString('base64url'), y: receiverPoint.getPublicKey().subarray(33).toString('base64url') }, format: 'jwk' });
  const back = decryptContractKey({ encryptedPrivateKey: Buffer.concat([iv, ciphertext]).toString('hex'), dhPublicKey: ecdh.getPublicKey().toString('hex') }, receiver);
  assert.equal(back.export({ format: 'jwk' }).d, contractScalar.toString('base64url'));
});

test('bad input → PkiError with a reason', () => {
  const oem = loadKey(pki.oemProvisioning.key);
  const good = encryptContractKey(loadKey(pki.contract.key), publicKeyOf(der(pki.oemProvisioning.cert)));
  assert.throws(() => decryptContractKey({ ...good, encryptedPrivateKey: good.encryptedPrivateKey.slice(2) }, oem), (e: unknown) => e instanceof PkiError && /47 bytes, expected 48/.test(e.message));
  assert.throws(() => decryptContractKey({ ...good, dhPublicKey: '02' + good.dhPublicKey.slice(2, 66) }, oem), (e: unknown) => e instanceof PkiError && /uncompressed P-256 point/.test(e.message));
});
