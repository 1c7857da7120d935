/**
 * validateChain: the ISO 15118-2 chain checks and the response code each failure maps to.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { validateChain, emaidOf, isValidEmaid, type ChainResult } from '@opensecc/v2g-pki';
import { freshPki, der, chainOf } from './helpers/pki.js';

const DAY = 86_400_000;
const pki = await freshPki('chain');
// A second, unrelated PKI: its roots are "unknown" to the first.
const stranger = await freshPki('chain-stranger');
after(() => {
  pki.cleanup();
  stranger.cleanup();
});

const contract = chainOf(pki.contractChain); // [leaf, moSub2, moSub1]
const roots = [der(pki.v2gRoot.cert), der(pki.moRoot.cert)];

function failed(r: ChainResult, code: string, reason: RegExp) {
  assert.equal(r.ok, false, 'expected a failure');
  if (r.ok) return;
  assert.equal(r.code, code, r.reason);
  assert.match(r.reason, reason);
}

test('a complete contract chain to the MO root validates; the result names root and leaf', () => {
  const r = validateChain({ leaf: contract[0]!, subCertificates: contract.slice(1), trustAnchors: roots, expectedLeafRole: 'contract' });
  assert.equal(r.ok, true, r.ok ? '' : r.reason);
  if (!r.ok) return;
  assert.deepEqual(Buffer.from(r.root), Buffer.from(der(pki.moRoot.cert)));
  assert.equal(r.leaf.commonName, 'DEABCC0000001X');
  assert.equal(emaidOf(contract[0]!), 'DEABCC0000001X');
});

test('SECC, OEM provisioning and CPS chains validate against their roots, with the right role', () => {
  const cases: Array<[string, string, 'secc' | 'oem' | 'cps']> = [
    [pki.seccChain, pki.v2gRoot.cert, 'secc'],
    [pki.oemProvisioningChain, pki.oemRoot.cert, 'oem'],
    [pki.cpsChain, pki.v2gRoot.cert, 'cps'],
  ];
  for (const [chainFile, root, role] of cases) {
    const c = chainOf(chainFile);
    const r = validateChain({ leaf: c[0]!, subCertificates: c.slice(1), trustAnchors: [der(root)], expectedLeafRole: role });
    assert.equal(r.ok, true, r.ok ? '' : `${role}: ${r.reason}`);
  }
});

test('a root appended to SubCertificates is tolerated; a sub-CA directly under the root works with one sub-CA', () => {
  const r = validateChain({ leaf: contract[0]!, subCertificates: [...contract.slice(1), der(pki.moRoot.cert)], trustAnchors: roots });
  assert.equal(r.ok, true, r.ok ? '' : r.reason);
  // moSub2 itself as a leaf is a CA: rejected as a leaf
  failed(validateChain({ leaf: contract[1]!, subCertificates: [contract[2]!], trustAnchors: roots }), 'FAILED_CertChainError', /is a CA certificate, not a leaf/);
});

test('expired leaf → FAILED_CertificateExpired', () => {
  const r = validateChain({ leaf: contract[0]!, subCertificates: contract.slice(1), trustAnchors: roots, at: new Date(Date.now() + 400 * DAY) });
  failed(r, 'FAILED_CertificateExpired', /leaf certificate "CN=DEABCC0000001X.*expired on/);
});

test('not yet valid → FAILED_CertificateExpired', () => {
  const r = validateChain({ leaf: contract[0]!, subCertificates: contract.slice(1), trustAnchors: roots, at: new Date(Date.now() - 2 * DAY) });
  failed(r, 'FAILED_CertificateExpired', /not yet valid/);
});

test('expired sub-CA (leaf still valid) → FAILED_CertificateExpired naming the sub-CA', async () => {
  const now = Date.now();
  const other = await freshPki('chain-expired-sub', { overrides: { moSub2: { notBefore: new Date(now - 30 * DAY), notAfter: new Date(now - DAY) } } });
  try {
    const c = chainOf(other.contractChain);
    const r = validateChain({ leaf: c[0]!, subCertificates: c.slice(1), trustAnchors: [der(other.moRoot.cert)] });
    failed(r, 'FAILED_CertificateExpired', /sub-CA certificate 1 .*CN=MOSubCA2.*expired/);
  } finally {
    other.cleanup();
  }
});

test('expired contract certificate made by generatePki overrides → FAILED_CertificateExpired', async () => {
  const now = Date.now();
  const other = await freshPki('chain-expired-leaf', { overrides: { contract: { notBefore: new Date(now - 60 * DAY), notAfter: new Date(now - DAY) } } });
  try {
    const c = chainOf(other.contractChain);
    failed(validateChain({ leaf: c[0]!, subCertificates: c.slice(1), trustAnchors: [der(other.moRoot.cert)] }), 'FAILED_CertificateExpired', /leaf certificate.*expired/);
  } finally {
    other.cleanup();
  }
});

test('unknown root → FAILED_CertChainError', () => {
  const r = validateChain({ leaf: contract[0]!, subCertificates: contract.slice(1), trustAnchors: [der(stranger.moRoot.cert), der(stranger.v2gRoot.cert)] });
  failed(r, 'FAILED_CertChainError', /unknown root/);
  // same subject name, different key: the signature decides
  const onlyV2g = validateChain({ leaf: contract[0]!, subCertificates: contract.slice(1), trustAnchors: [der(pki.v2gRoot.cert)] });
  failed(onlyV2g, 'FAILED_CertChainError', /unknown root: no trusted root has the subject "CN=MORootCA/);
  const sameName = validateChain({ leaf: contract[0]!, subCertificates: contract.slice(1), trustAnchors: [der(stranger.moRoot.cert)] });
  failed(sameName, 'FAILED_CertChainError', /unknown root: .*(authority key identifier|signature does not verify)/);
});

test('broken chain: sub-CAs in the wrong order, a missing sub-CA, a sub-CA of another hierarchy → FAILED_CertChainError', () => {
  failed(validateChain({ leaf: contract[0]!, subCertificates: [contract[2]!, contract[1]!], trustAnchors: roots }), 'FAILED_CertChainError', /leaf certificate .*issuer "CN=MOSubCA2.*out of order/);
  failed(validateChain({ leaf: contract[0]!, subCertificates: [contract[1]!], trustAnchors: roots }), 'FAILED_CertChainError', /sub-CA certificate 1 .*unknown root/);
  failed(validateChain({ leaf: contract[0]!, subCertificates: [contract[2]!], trustAnchors: roots }), 'FAILED_CertChainError', /leaf certificate/);
  failed(validateChain({ leaf: contract[0]!, subCertificates: [], trustAnchors: roots }), 'FAILED_CertChainError', /unknown root/);
  const foreign = chainOf(stranger.contractChain);
  failed(validateChain({ leaf: contract[0]!, subCertificates: [foreign[1]!, contract[2]!], trustAnchors: roots }), 'FAILED_CertChainError', /authority key identifier|signature does not verify/);
});

test('more than two sub-CAs → FAILED_CertChainError', () => {
  const cpo = chainOf(pki.seccChain);
  failed(validateChain({ leaf: contract[0]!, subCertificates: [contract[1]!, contract[2]!, cpo[1]!], trustAnchors: roots }), 'FAILED_CertChainError', /at most 2/);
});

test('wrong leaf role → FAILED_CertChainError (an SECC certificate is no contract certificate)', () => {
  const secc = chainOf(pki.seccChain);
  failed(validateChain({ leaf: secc[0]!, subCertificates: secc.slice(1), trustAnchors: roots, expectedLeafRole: 'contract' }), 'FAILED_CertChainError', /DC=MO/);
});

test('missing or garbage input never throws', () => {
  failed(validateChain({ leaf: new Uint8Array(0), subCertificates: [], trustAnchors: roots }), 'FAILED_NoCertificateAvailable', /no leaf/);
  failed(validateChain({ leaf: Uint8Array.of(0x30, 0x03, 1, 2, 3), subCertificates: [], trustAnchors: roots }), 'FAILED_CertChainError', /leaf certificate: not a valid X.509/);
  failed(validateChain({ leaf: contract[0]!, subCertificates: [Uint8Array.of(1, 2)], trustAnchors: roots }), 'FAILED_CertChainError', /SubCertificates\[0\]/);
  failed(validateChain({ leaf: contract[0]!, subCertificates: contract.slice(1), trustAnchors: [] }), 'FAILED_CertChainError', /no usable trust anchor/);
});

test('isValidEmaid: ISO 15118-2 Annex H format (14/15 characters, optional separators; check character not verified)', () => {
  for (const ok of ['DEABCC0000001X', 'DEABCC00000001', 'DE8ACC12345678A', 'DE-ABC-C12345678-9', 'deabcc0000001x']) assert.equal(isValidEmaid(ok), true, ok);
  for (const bad of ['', 'DEABC', 'DEABCX0000001X', '1EABCC0000001X', 'DEABCC0000001X12', 'DEABCC00000*1X', 'DEABCC0000001']) assert.equal(isValidEmaid(bad), false, bad);
});
