/**
 * issueCertificate (one certificate of an ISO 15118-2 profile from an existing CA) and certificate
 * revocation lists (createCrl, revoke, parseCrl, crlSignedBy, validateChain's `crls`), checked
 * with our own parser and, where available, the openssl CLI as an independent reader.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createCrl,
  crlSignedBy,
  generateKeyPair,
  issueCertificate,
  parseCertificate,
  parseCrl,
  PkiError,
  readCrls,
  revoke,
  validateChain,
  type ChainResult,
} from '@opensecc/v2g-pki';
import { chainOf, der, freshPki, NEEDS_OPENSSL, openssl, tempDir } from './helpers/pki.js';

const DAY = 86_400_000;
const pki = await freshPki('issue');
const other = await freshPki('issue-other');
after(() => {
  pki.cleanup();
  other.cleanup();
});

const moRoot = der(pki.moRoot.cert);
const [, moSub2, moSub1] = chainOf(pki.contractChain);

function failed(r: ChainResult, code: string, reason: RegExp) {
  assert.equal(r.ok, false, 'expected a failure');
  if (r.ok) return;
  assert.equal(r.code, code, r.reason);
  assert.match(r.reason, reason);
}

test('issueCertificate: a contract certificate for a new key from MO sub-CA 2 has the contract profile and chains to the MO root', async () => {
  const { publicKey } = await generateKeyPair();
  const notBefore = new Date(Date.now() - DAY);
  const notAfter = new Date(Date.now() + 30 * DAY);
  const cert = await issueCertificate({ role: 'contract', issuerCert: pki.moSub2.cert, issuerKey: pki.moSub2.key, publicKey, emaid: 'DEABCC87654321', notBefore, notAfter, serialNumber: '1234abcd' });
  const parsed = parseCertificate(cert.der);
  assert.equal(parsed.commonName, 'DEABCC87654321');
  assert.equal(parsed.domainComponent, 'MO');
  assert.equal(parsed.serialNumber, '1234abcd');
  assert.equal(parsed.isCa, false);
  assert.deepEqual([...parsed.keyUsage].sort(), ['digitalSignature', 'keyAgreement', 'nonRepudiation']);
  assert.equal(parsed.authorityKeyIdentifier, parseCertificate(moSub2!).subjectKeyIdentifier);
  assert.equal(parsed.issuer, parseCertificate(moSub2!).subject);
  assert.equal(parsed.notBefore.getTime(), Math.floor(notBefore.getTime() / 1000) * 1000);
  assert.equal(parsed.notAfter.getTime(), Math.floor(notAfter.getTime() / 1000) * 1000);
  assert.equal(parsed.publicKey.export({ format: 'jwk' }).x, publicKey.export({ format: 'jwk' }).x);
  const chain = validateChain({ leaf: cert.der, subCertificates: [moSub2!, moSub1!], trustAnchors: [moRoot], expectedLeafRole: 'contract' });
  assert.equal(chain.ok, true, chain.ok ? '' : chain.reason);
  assert.match(cert.pem, /^-----BEGIN CERTIFICATE-----\n/);
});

test('issueCertificate: two issuances for two keys give two certificates with different serial numbers', async () => {
  const a = await issueCertificate({ role: 'contract', issuerCert: pki.moSub2.cert, issuerKey: pki.moSub2.key, publicKey: (await generateKeyPair()).publicKey, emaid: 'DEABCC00000002' });
  const b = await issueCertificate({ role: 'contract', issuerCert: pki.moSub2.cert, issuerKey: pki.moSub2.key, publicKey: (await generateKeyPair()).publicKey, emaid: 'DEABCC00000002' });
  assert.notEqual(a.serialNumber, b.serialNumber);
  assert.notDeepEqual(a.der, b.der);
  // Default validity: the leaf profile's year, starting an hour ago.
  const days = (a.notAfter.getTime() - a.notBefore.getTime()) / DAY;
  assert.equal(Math.round(days), 365);
});

test('issueCertificate: short role names (secc, oem, cps), CA roles and roots follow their profiles', async () => {
  const secc = await issueCertificate({ role: 'secc', issuerCert: pki.cpoSub2.cert, issuerKey: pki.cpoSub2.key, publicKey: (await generateKeyPair()).publicKey, commonName: 'DE*ABC*E0000002*1' });
  assert.equal(parseCertificate(secc.der).domainComponent, 'CPO');
  assert.equal(validateChain({ leaf: secc.der, subCertificates: chainOf(pki.seccChain).slice(1), trustAnchors: [der(pki.v2gRoot.cert)], expectedLeafRole: 'secc' }).ok, true);
  const rootKeys = await generateKeyPair();
  const root = await issueCertificate({ role: 'moRoot', issuerKey: rootKeys.privateKey, publicKey: rootKeys.publicKey });
  const parsedRoot = parseCertificate(root.der);
  assert.equal(parsedRoot.selfSigned, true);
  assert.equal(parsedRoot.pathLen, 2);
  assert.equal(parsedRoot.commonName, 'MORootCA');
  const subKeys = await generateKeyPair();
  const sub = await issueCertificate({ role: 'moSub1', issuerCert: root.der, issuerKey: rootKeys.privateKey, publicKey: subKeys.publicKey });
  assert.equal(parseCertificate(sub.der).pathLen, 1);
  assert.deepEqual([...parseCertificate(sub.der).keyUsage].sort(), ['cRLSign', 'keyCertSign']);
});

test('issueCertificate: bad input is a PkiError naming the problem', async () => {
  const { publicKey } = await generateKeyPair();
  const base = { role: 'contract' as const, issuerCert: pki.moSub2.cert, issuerKey: pki.moSub2.key, publicKey };
  await assert.rejects(issueCertificate({ ...base, emaid: 'not-an-emaid' }), (e: Error) => e instanceof PkiError && /not a well-formed EMAID/.test(e.message));
  await assert.rejects(issueCertificate({ ...base }), (e: Error) => e instanceof PkiError && /needs its EMAID/.test(e.message));
  await assert.rejects(issueCertificate({ ...base, emaid: 'DEABCC00000003', issuerKey: pki.cpoSub2.key }), (e: Error) => e instanceof PkiError && /issuerKey is not the key of "CN=MOSubCA2/.test(e.message));
  await assert.rejects(issueCertificate({ ...base, emaid: 'DEABCC00000003', issuerCert: pki.contract.cert, issuerKey: pki.contract.key }), (e: Error) => e instanceof PkiError && /is not a CA certificate/.test(e.message));
  await assert.rejects(issueCertificate({ role: 'secc', issuerCert: pki.cpoSub2.cert, issuerKey: pki.cpoSub2.key, publicKey }), (e: Error) => e instanceof PkiError && /needs its commonName \(EVSEID\)/.test(e.message));
  await assert.rejects(issueCertificate({ ...base, role: 'nope' as never }), (e: Error) => e instanceof PkiError && /unknown role "nope"/.test(e.message));
  await assert.rejects(issueCertificate({ ...base, emaid: 'DEABCC00000003', serialNumber: 'xyz' }), (e: Error) => e instanceof PkiError && /serialNumber/.test(e.message));
  await assert.rejects(issueCertificate({ ...base, emaid: 'DEABCC00000003', notBefore: new Date(), notAfter: new Date(Date.now() - DAY) }), (e: Error) => e instanceof PkiError && /notAfter/.test(e.message));
});

test('issueCertificate: openssl verifies the issued contract certificate against the MO chain', { skip: NEEDS_OPENSSL }, async () => {
  const dir = tempDir('issue-openssl');
  const cert = await issueCertificate({ role: 'contract', issuerCert: pki.moSub2.cert, issuerKey: pki.moSub2.key, publicKey: (await generateKeyPair()).publicKey, emaid: 'DEABCC00000004' });
  writeFileSync(join(dir, 'contract.pem'), cert.pem);
  const r = openssl(['verify', '-CAfile', pki.moRoot.cert, '-untrusted', pki.moSub1.cert, '-untrusted', pki.moSub2.cert, join(dir, 'contract.pem')]);
  assert.equal(r.code, 0, r.out);
});

test('generatePki writes an empty CRL per sub-CA 2, signed by it (crlSignedBy, and openssl agrees)', () => {
  for (const [role, file] of Object.entries(pki.crls)) {
    const crl = parseCrl(readCrls(file)[0]!);
    const issuer = der(pki[role as keyof typeof pki.crls].cert);
    assert.equal(crl.issuer, parseCertificate(issuer).subject, role);
    assert.deepEqual(crl.revoked, []);
    assert.equal(crl.crlNumber, 1);
    assert.ok(crl.nextUpdate && crl.nextUpdate > new Date());
    assert.deepEqual(crlSignedBy(crl, issuer), { ok: true });
    assert.equal(crlSignedBy(crl, der(pki.moRoot.cert)).ok, false);
    assert.match(readFileSync(file, 'utf8'), /^-----BEGIN X509 CRL-----/);
    if (!NEEDS_OPENSSL) {
      const r = openssl(['crl', '-in', file, '-CAfile', pki[role as keyof typeof pki.crls].cert, '-noout']);
      assert.match(r.out, /verify OK/, `${role}: ${r.out}`);
    }
  }
});

test('revoke: adds to the CRL file with the next CRL number, keeps earlier entries, refuses a certificate of another CA', async () => {
  const dir = tempDir('revoke');
  const crlFile = join(dir, 'mo-sub-ca-2.crl.pem');
  const first = await revoke({ crlFile, issuerCert: pki.moSub2.cert, issuerKey: pki.moSub2.key, certificates: [pki.contract.cert], reason: 'keyCompromise' });
  assert.equal(first.crl.crlNumber, 1);
  assert.deepEqual(first.crl.revoked.map((e) => [e.serialNumber, e.reason]), [[parseCertificate(der(pki.contract.cert)).serialNumber.replace(/^(00)+/, ''), 'keyCompromise']]);
  const second = await revoke({ crlFile, issuerCert: pki.moSub2.cert, issuerKey: pki.moSub2.key, serialNumbers: ['0abc'] });
  assert.equal(second.crl.crlNumber, 2);
  assert.equal(second.crl.revoked.length, 2);
  assert.deepEqual(parseCrl(readCrls(crlFile)[0]!).revoked.length, 2);
  await assert.rejects(revoke({ crlFile, issuerCert: pki.moSub2.cert, issuerKey: pki.moSub2.key, certificates: [pki.seccLeaf.cert] }), (e: Error) => e instanceof PkiError && /revoke it in its issuer's CRL/.test(e.message));
  await assert.rejects(revoke({ crlFile, issuerCert: pki.cpoSub2.cert, issuerKey: pki.cpoSub2.key, serialNumbers: ['01'] }), (e: Error) => e instanceof PkiError && /the CRL of "CN=MOSubCA2/.test(e.message));
  assert.throws(() => readCrls(pki.contract.cert), (e: Error) => e instanceof PkiError && /no CRL found/.test(e.message));
});

test('validateChain with CRLs: a revoked leaf or sub-CA → FAILED_CertificateRevoked; CRLs of other CAs change nothing', async () => {
  const contract = chainOf(pki.contractChain);
  const input = { leaf: contract[0]!, subCertificates: contract.slice(1), trustAnchors: [moRoot], expectedLeafRole: 'contract' as const };
  const serial = parseCertificate(contract[0]!).serialNumber;
  const leafCrl = await createCrl({ issuerCert: pki.moSub2.cert, issuerKey: pki.moSub2.key, revoked: [{ serialNumber: serial, reason: 'superseded' }] });
  failed(validateChain({ ...input, crls: [leafCrl.der] }), 'FAILED_CertificateRevoked', /leaf certificate .*DEABCC0000001X.* is revoked since .*superseded/);
  const subCrl = await createCrl({ issuerCert: pki.moSub1.cert, issuerKey: pki.moSub1.key, revoked: [{ serialNumber: parseCertificate(moSub2!).serialNumber }] });
  failed(validateChain({ ...input, crls: [parseCrl(subCrl.der)] }), 'FAILED_CertificateRevoked', /sub-CA certificate 1 .*MOSubCA2/);
  // The same serial listed by the CPO sub-CA 2: not the contract's issuer, no effect.
  const unrelated = await createCrl({ issuerCert: pki.cpoSub2.cert, issuerKey: pki.cpoSub2.key, revoked: [{ serialNumber: serial }] });
  const ok = validateChain({ ...input, crls: [unrelated.der, readCrls(pki.crls.moSub2)[0]!] });
  assert.equal(ok.ok, true);
  assert.equal(ok.ignoredCrls, undefined);
  // A broken chain is reported as such even when the leaf is revoked too.
  failed(validateChain({ ...input, subCertificates: [moSub1!], crls: [leafCrl.der] }), 'FAILED_CertChainError', /sub-CA missing or out of order/);
});

test('validateChain: a CRL in the issuer’s name signed by another key, or unreadable, is ignored with a reason', async () => {
  const contract = chainOf(pki.contractChain);
  const serial = parseCertificate(contract[0]!).serialNumber;
  const forgedSameAki = await createCrl({ issuerCert: pki.moSub2.cert, issuerKey: other.moSub2.key, revoked: [{ serialNumber: serial }] });
  const forgedOtherCa = await createCrl({ issuerCert: other.moSub2.cert, issuerKey: other.moSub2.key, revoked: [{ serialNumber: serial }] });
  const r = validateChain({ leaf: contract[0]!, subCertificates: contract.slice(1), trustAnchors: [moRoot], crls: [forgedSameAki.der, forgedOtherCa.der, new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00])] });
  assert.equal(r.ok, true, r.ok ? '' : r.reason);
  const notes = r.ignoredCrls ?? [];
  assert.equal(notes.length, 3, notes.join('\n'));
  assert.ok(notes.some((n) => /signature does not verify/.test(n)), notes.join('\n'));
  assert.ok(notes.some((n) => /authority key identifier/.test(n)), notes.join('\n'));
  assert.ok(notes.some((n) => /CRL 3: not an X.509 CRL/.test(n)), notes.join('\n'));
});
