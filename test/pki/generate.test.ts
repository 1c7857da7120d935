/**
 * generatePki: the files, their modes, and the ISO 15118-2 certificate profiles as an independent
 * tool (the openssl CLI) sees them: P-256, ecdsa-with-SHA256, v3, critical basicConstraints with
 * pathLen, critical keyUsage, key identifiers, domain components, nesting validity, chains that verify.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PROFILES, parseCertificate, readChain, loadKey, publicKeyOf, type CertRole } from '@opensecc/v2g-pki';
import { freshPki, openssl, NEEDS_OPENSSL, der } from './helpers/pki.js';

const pki = await freshPki('gen', { emaid: 'DEXYZC12345678', pcid: 'WMIAB1234567890CD' });
after(() => pki.cleanup());

const ROLES = PROFILES.map((p) => p.role);

test('every role has a certificate and a 0600 key file, plus chain files and a README', () => {
  assert.equal(ROLES.length, 15);
  for (const role of ROLES) {
    const { cert, key } = pki[role];
    assert.ok(existsSync(cert), cert);
    assert.equal(statSync(key).mode & 0o777, 0o600, `${key} mode`);
    assert.equal(statSync(cert).mode & 0o077, 0o044, `${cert} readable`);
    // the key belongs to the certificate
    const pub = publicKeyOf(der(cert)).export({ format: 'jwk' });
    const priv = loadKey(key).export({ format: 'jwk' });
    assert.equal(priv.x, pub.x, `${role} key matches its certificate`);
  }
  const readme = readFileSync(pki.readme, 'utf8');
  for (const p of PROFILES) assert.ok(readme.includes(`${p.file}.pem`), `README lists ${p.file}.pem`);
  assert.ok(readme.includes('secc-chain.pem') && readme.includes('DEXYZC12345678'));
});

test('chain files hold leaf, sub-CA 2, sub-CA 1 in that order', () => {
  const expect: Array<[string, CertRole[]]> = [
    [pki.seccChain, ['seccLeaf', 'cpoSub2', 'cpoSub1']],
    [pki.contractChain, ['contract', 'moSub2', 'moSub1']],
    [pki.oemProvisioningChain, ['oemProvisioning', 'oemSub2', 'oemSub1']],
    [pki.cpsChain, ['cpsLeaf', 'cpsSub2', 'cpsSub1']],
  ];
  for (const [file, roles] of expect) {
    const certs = readChain(file);
    assert.deepEqual(certs.map((c) => Buffer.from(c).toString('hex')), roles.map((r) => Buffer.from(der(pki[r].cert)).toString('hex')), file);
  }
});

test('names: CN per role (EVSEID, EMAID, PCID), DC per hierarchy, issuers as the profiles say', () => {
  const parsed = Object.fromEntries(ROLES.map((r) => [r, parseCertificate(der(pki[r].cert))]));
  assert.equal(parsed.contract!.commonName, 'DEXYZC12345678');
  assert.equal(parsed.oemProvisioning!.commonName, 'WMIAB1234567890CD');
  assert.equal(parsed.seccLeaf!.commonName, pki.evseId);
  const dc: Record<string, string> = { v2gRoot: 'V2G', cpoSub1: 'CPO', cpoSub2: 'CPO', seccLeaf: 'CPO', moRoot: 'MO', moSub1: 'MO', moSub2: 'MO', contract: 'MO', oemRoot: 'OEM', oemSub1: 'OEM', oemSub2: 'OEM', oemProvisioning: 'OEM', cpsSub1: 'CPS', cpsSub2: 'CPS', cpsLeaf: 'CPS' };
  for (const p of PROFILES) {
    assert.equal(parsed[p.role]!.domainComponent, dc[p.role], p.role);
    assert.equal(parsed[p.role]!.issuer, parsed[p.issuer]!.subject, `${p.role} issued by ${p.issuer}`);
    assert.equal(parsed[p.role]!.authorityKeyIdentifier, parsed[p.issuer]!.subjectKeyIdentifier, `${p.role} AKI`);
    assert.equal(parsed[p.role]!.selfSigned, p.kind === 'root', `${p.role} self-signed`);
  }
  const serials = new Set(ROLES.map((r) => parsed[r]!.serialNumber));
  assert.equal(serials.size, ROLES.length, 'unique serial numbers');
  for (const s of serials) assert.ok(parseInt(s.slice(0, 2), 16) < 0x80 && !/^0+$/.test(s), `positive serial ${s}`);
});

test('validity nests: root 40 years, sub-CA 1 > sub-CA 2 > leaf, all starting before now', () => {
  const now = Date.now();
  const year = 365 * 86_400_000;
  for (const h of [['v2gRoot', 'cpoSub1', 'cpoSub2', 'seccLeaf'], ['moRoot', 'moSub1', 'moSub2', 'contract'], ['oemRoot', 'oemSub1', 'oemSub2', 'oemProvisioning'], ['v2gRoot', 'cpsSub1', 'cpsSub2', 'cpsLeaf']] as CertRole[][]) {
    const certs = h.map((r) => parseCertificate(der(pki[r].cert)));
    for (let i = 1; i < certs.length; i++) {
      assert.ok(certs[i]!.notAfter < certs[i - 1]!.notAfter, `${h[i]} ends before ${h[i - 1]}`);
      assert.ok(certs[i]!.notBefore >= certs[i - 1]!.notBefore, `${h[i]} starts after ${h[i - 1]}`);
    }
    for (const c of certs) assert.ok(c.notBefore.getTime() <= now);
    assert.ok(certs[0]!.notAfter.getTime() - now > 39.9 * year, 'root ~40 years');
    const leafYears = (certs[3]!.notAfter.getTime() - certs[3]!.notBefore.getTime()) / year;
    assert.ok(leafYears >= 0.99 && leafYears <= 2.01, `leaf 1–2 years, got ${leafYears}`);
  }
});

test('openssl x509 -text: P-256, ecdsa-with-SHA256, v3, the profile extensions', { skip: NEEDS_OPENSSL }, () => {
  for (const p of PROFILES) {
    const { code, out } = openssl(['x509', '-in', pki[p.role].cert, '-noout', '-text']);
    assert.equal(code, 0, out);
    const where = `${p.role}:\n${out}`;
    assert.match(out, /Version: 3 \(0x2\)/, where);
    assert.match(out, /Signature Algorithm: ecdsa-with-SHA256/, where);
    assert.match(out, /ASN1 OID: prime256v1/, where);
    assert.match(out, /X509v3 Basic Constraints: critical\s+CA:(TRUE|FALSE)/, where);
    assert.match(out, /X509v3 Key Usage: critical/, where);
    assert.match(out, /X509v3 Subject Key Identifier/, where);
    assert.match(out, /X509v3 Authority Key Identifier/, where);
    assert.match(out, new RegExp(`DC = ${p.kind === 'root' && p.role === 'v2gRoot' ? 'V2G' : p.dc}`), where);
    if (p.kind === 'leaf') {
      assert.match(out, /CA:FALSE/, where);
      assert.match(out, /Key Usage: critical\s+Digital Signature,( Non Repudiation,)? Key Agreement/, where);
    } else {
      const pathLen = { root: 2, sub1: 1, sub2: 0 }[p.kind];
      assert.match(out, new RegExp(`CA:TRUE, pathlen:${pathLen}`), where);
      assert.match(out, /Key Usage: critical\s+Certificate Sign, CRL Sign/, where);
    }
  }
});

test('openssl verify: every leaf chains to its root through both sub-CAs; -partial_chain to sub-CA 2 too', { skip: NEEDS_OPENSSL }, () => {
  const cases: Array<[string, string, string]> = [
    [pki.seccLeaf.cert, pki.seccChain, pki.v2gRoot.cert],
    [pki.contract.cert, pki.contractChain, pki.moRoot.cert],
    [pki.oemProvisioning.cert, pki.oemProvisioningChain, pki.oemRoot.cert],
    [pki.cpsLeaf.cert, pki.cpsChain, pki.v2gRoot.cert],
  ];
  for (const [leaf, chain, root] of cases) {
    const ok = openssl(['verify', '-x509_strict', '-CAfile', root, '-untrusted', chain, leaf]);
    assert.equal(ok.code, 0, ok.out);
    assert.match(ok.out, /: OK/);
  }
  const partial = openssl(['verify', '-partial_chain', '-CAfile', pki.cpoSub2.cert, pki.seccLeaf.cert]);
  assert.equal(partial.code, 0, partial.out);
  const wrongRoot = openssl(['verify', '-CAfile', pki.moRoot.cert, '-untrusted', pki.seccChain, pki.seccLeaf.cert]);
  assert.notEqual(wrongRoot.code, 0, 'the SECC leaf does not verify against the MO root');
  const noSubs = openssl(['verify', '-CAfile', pki.v2gRoot.cert, pki.seccLeaf.cert]);
  assert.notEqual(noSubs.code, 0, 'without the sub-CAs the leaf does not verify');
});

test('openssl reads the private keys as P-256 EC keys', { skip: NEEDS_OPENSSL }, () => {
  const { code, out } = openssl(['pkey', '-in', pki.contract.key, '-noout', '-text']);
  assert.equal(code, 0, out);
  assert.match(out, /ASN1 OID: prime256v1/);
});

test('overrides and validityDays shape the certificates (for expired-certificate tests)', async () => {
  const past = new Date(Date.UTC(2020, 0, 1));
  const other = await freshPki('gen-override', { validityDays: { leaf: 30 }, overrides: { contract: { notBefore: past, notAfter: new Date(Date.UTC(2021, 0, 1)), commonName: 'FRABCC00000042' } } });
  try {
    const contract = parseCertificate(der(other.contract.cert));
    assert.equal(contract.notBefore.toISOString(), past.toISOString());
    assert.equal(contract.commonName, 'FRABCC00000042');
    const secc = parseCertificate(der(other.seccLeaf.cert));
    const days = (secc.notAfter.getTime() - secc.notBefore.getTime()) / 86_400_000;
    assert.equal(Math.round(days), 30);
    assert.ok(existsSync(join(other.dir, 'README.md')));
  } finally {
    other.cleanup();
  }
});
