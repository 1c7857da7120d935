/**
 * Certificate chain validation as ISO 15118-2 needs it (7.9.2.x, Annex F): leaf, at most two
 * sub-CAs (ordered leaf-issuer first, as in a CertificateChain's SubCertificates), and a root
 * from the trust store. Synchronous: signatures are checked with node:crypto's X509Certificate,
 * names and extensions are read with @peculiar/x509.
 */
import { X509Certificate as NodeCert, type KeyObject } from 'node:crypto';
import { x509 } from './x509-setup.js';
import { LEAF_DC } from './profiles.js';
import { isValidEmaid } from './emaid.js';
import { crlSignedBy, normalSerial, parseCrl, type ParsedCrl } from './crl.js';

export type ChainErrorCode = 'FAILED_CertChainError' | 'FAILED_CertificateExpired' | 'FAILED_NoCertificateAvailable' | 'FAILED_CertificateRevoked';

export type LeafRole = 'contract' | 'secc' | 'oem' | 'cps';

export interface ParsedCert {
  readonly der: Uint8Array;
  /** RFC 4514 style, e.g. `CN=DEABCC0000001X, O=…, C=DE, DC=MO`. */
  readonly subject: string;
  readonly issuer: string;
  readonly commonName: string | undefined;
  readonly domainComponent: string | undefined;
  /** Lowercase hex. */
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly isCa: boolean;
  readonly pathLen: number | undefined;
  /** Names of the key usage bits set, e.g. ['digitalSignature', 'keyAgreement']. */
  readonly keyUsage: readonly string[];
  readonly subjectKeyIdentifier: string | undefined;
  readonly authorityKeyIdentifier: string | undefined;
  readonly publicKey: KeyObject;
  readonly selfSigned: boolean;
}

export type ChainResult =
  | { ok: true; root: Uint8Array; leaf: ParsedCert; ignoredCrls?: string[] }
  | { ok: false; code: ChainErrorCode; reason: string; ignoredCrls?: string[] };

export interface ValidateChainInput {
  readonly leaf: Uint8Array;
  readonly subCertificates: readonly Uint8Array[];
  readonly trustAnchors: readonly Uint8Array[];
  /** Validation time (default now). */
  readonly at?: Date;
  /** Checks the leaf's domain component (and, for 'contract', that its CN is an EMAID). */
  readonly expectedLeafRole?: LeafRole;
  /**
   * Certificate revocation lists (DER or parsed). The leaf or a sub-CA listed by a CRL of its issuer
   * whose signature verifies with that issuer's key → FAILED_CertificateRevoked. A CRL that claims
   * to be by an issuer of the path but does not verify (or cannot be read) is ignored, with the
   * reason in `ignoredCrls`. CRLs of other CAs play no part.
   */
  readonly crls?: readonly (Uint8Array | ParsedCrl)[];
}

/** ISO 15118-2 allows at most two sub-CAs between leaf and root. */
export const MAX_SUB_CAS = 2;

const KEY_USAGE_NAMES: ReadonlyArray<[number, string]> = [
  [x509.KeyUsageFlags.digitalSignature, 'digitalSignature'],
  [x509.KeyUsageFlags.nonRepudiation, 'nonRepudiation'],
  [x509.KeyUsageFlags.keyEncipherment, 'keyEncipherment'],
  [x509.KeyUsageFlags.dataEncipherment, 'dataEncipherment'],
  [x509.KeyUsageFlags.keyAgreement, 'keyAgreement'],
  [x509.KeyUsageFlags.keyCertSign, 'keyCertSign'],
  [x509.KeyUsageFlags.cRLSign, 'cRLSign'],
  [x509.KeyUsageFlags.encipherOnly, 'encipherOnly'],
  [x509.KeyUsageFlags.decipherOnly, 'decipherOnly'],
];

const hex = (b: ArrayBuffer) => Buffer.from(b).toString('hex');

/** Parses a DER certificate; throws when it is not one. */
export function parseCertificate(der: Uint8Array): ParsedCert {
  const node = new NodeCert(der);
  const cert = new x509.X509Certificate(der);
  const bc = cert.getExtension(x509.BasicConstraintsExtension);
  const ku = cert.getExtension(x509.KeyUsagesExtension);
  const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension);
  const aki = cert.getExtension(x509.AuthorityKeyIdentifierExtension);
  const first = (name: x509.Name, field: string) => name.getField(field)[0];
  return {
    der,
    subject: cert.subject,
    issuer: cert.issuer,
    commonName: first(cert.subjectName, 'CN'),
    domainComponent: first(cert.subjectName, 'DC'),
    serialNumber: cert.serialNumber.toLowerCase(),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    isCa: bc?.ca === true,
    pathLen: bc?.pathLength,
    keyUsage: ku ? KEY_USAGE_NAMES.filter(([bit]) => (ku.usages & bit) !== 0).map(([, n]) => n) : [],
    subjectKeyIdentifier: ski?.keyId.toLowerCase(),
    authorityKeyIdentifier: aki?.keyId?.toLowerCase(),
    publicKey: node.publicKey,
    selfSigned: cert.subject === cert.issuer && node.verify(node.publicKey),
  };
}

interface Link {
  readonly label: string;
  readonly der: Uint8Array;
  readonly parsed: ParsedCert;
  readonly node: NodeCert;
}

function describe(link: Link): string {
  return `${link.label} "${link.parsed.subject}"`;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a).equals(Buffer.from(b));
}

type Fail = Extract<ChainResult, { ok: false }>;
const fail = (code: ChainErrorCode, reason: string): Fail => ({ ok: false, code, reason });

function parseLink(label: string, der: Uint8Array): Link | Fail {
  if (!(der instanceof Uint8Array) || der.length === 0) return fail('FAILED_CertChainError', `${label}: empty certificate`);
  try {
    return { label, der, parsed: parseCertificate(der), node: new NodeCert(der) };
  } catch (e) {
    return fail('FAILED_CertChainError', `${label}: not a valid X.509 certificate (${(e as Error).message})`);
  }
}

function checkValidity(link: Link, at: Date): Fail | undefined {
  if (at < link.parsed.notBefore) return fail('FAILED_CertificateExpired', `${describe(link)} is not yet valid (notBefore ${link.parsed.notBefore.toISOString()})`);
  if (at > link.parsed.notAfter) return fail('FAILED_CertificateExpired', `${describe(link)} expired on ${link.parsed.notAfter.toISOString()}`);
  return undefined;
}

/** Does `issuer` sign `child`: names match and the signature verifies. */
function issues(issuer: Link, child: Link): string | undefined {
  if (child.parsed.issuer !== issuer.parsed.subject) return `its issuer "${child.parsed.issuer}" is not the subject of ${describe(issuer)}`;
  const aki = child.parsed.authorityKeyIdentifier;
  const ski = issuer.parsed.subjectKeyIdentifier;
  if (aki !== undefined && ski !== undefined && aki !== ski) return `its authority key identifier ${aki} is not the key identifier ${ski} of ${describe(issuer)}`;
  let verified = false;
  try {
    verified = child.node.verify(issuer.node.publicKey);
  } catch {
    verified = false;
  }
  return verified ? undefined : `its signature does not verify with the key of ${describe(issuer)}`;
}

/** Validates leaf → sub-CAs → trust anchor. Never throws. */
export function validateChain(input: ValidateChainInput): ChainResult {
  try {
    return validate(input);
  } catch (e) {
    return fail('FAILED_CertChainError', `chain validation failed: ${(e as Error).message}`);
  }
}

function validate(input: ValidateChainInput): ChainResult {
  const at = input.at ?? new Date();
  if (!input.leaf || input.leaf.length === 0) return fail('FAILED_NoCertificateAvailable', 'no leaf certificate given');
  const leaf = parseLink('leaf certificate', input.leaf);
  if ('ok' in leaf) return leaf;

  // A sender may append the root itself; it adds nothing and is dropped.
  const subsDer = [...(input.subCertificates ?? [])];
  while (subsDer.length > 0 && input.trustAnchors.some((t) => equalBytes(t, subsDer[subsDer.length - 1]!))) subsDer.pop();
  if (subsDer.length > MAX_SUB_CAS) return fail('FAILED_CertChainError', `${subsDer.length} sub-CA certificates; ISO 15118-2 allows at most ${MAX_SUB_CAS}`);
  const subs: Link[] = [];
  for (const [i, der] of subsDer.entries()) {
    const link = parseLink(`sub-CA certificate ${i + 1} (SubCertificates[${i}])`, der);
    if ('ok' in link) return link;
    subs.push(link);
  }
  const anchors: Link[] = [];
  for (const [i, der] of input.trustAnchors.entries()) {
    const link = parseLink(`trust anchor ${i + 1}`, der);
    if (!('ok' in link)) anchors.push({ ...link, label: 'root certificate' });
  }
  if (anchors.length === 0) return fail('FAILED_CertChainError', 'no usable trust anchor (root certificate) configured');

  // Structure: leaf is no CA and carries what its role needs; sub-CAs are CAs that may sign.
  if (leaf.parsed.isCa) return fail('FAILED_CertChainError', `${describe(leaf)} is a CA certificate, not a leaf`);
  const roleProblem = checkLeafRole(leaf.parsed, input.expectedLeafRole);
  if (roleProblem) return fail('FAILED_CertChainError', `${describe(leaf)}: ${roleProblem}`);

  const path: Link[] = [leaf, ...subs];
  for (let i = 0; i < subs.length; i++) {
    const child = path[i]!;
    const issuer = subs[i]!;
    const problem = issues(issuer, child);
    if (problem) return fail('FAILED_CertChainError', `${describe(child)}: ${problem} (sub-CA missing or out of order?)`);
    const caProblem = checkCa(issuer, i);
    if (caProblem) return fail('FAILED_CertChainError', caProblem);
  }

  const top = path[path.length - 1]!;
  const candidates = anchors.filter((a) => top.parsed.issuer === a.parsed.subject);
  let root: Link | undefined;
  let lastProblem: string | undefined;
  for (const anchor of candidates) {
    const problem = issues(anchor, top);
    if (!problem) {
      root = anchor;
      break;
    }
    lastProblem = problem;
  }
  if (!root) {
    const why = lastProblem ?? `no trusted root has the subject "${top.parsed.issuer}"`;
    return fail('FAILED_CertChainError', `${describe(top)}: unknown root: ${why}`);
  }
  const rootCa = checkCa(root, subs.length);
  if (rootCa) return fail('FAILED_CertChainError', rootCa);

  // Revocation after the structure (a CRL is only trusted once its issuer is), before validity.
  const ignoredCrls: string[] = [];
  const notes = () => (ignoredCrls.length > 0 ? { ignoredCrls } : {});
  const revoked = checkRevocation([...path, root], input.crls ?? [], ignoredCrls);
  if (revoked) return { ...revoked, ...notes() };

  // Validity last, so that a broken chain is reported as such even when it is also expired.
  for (const link of [leaf, ...subs, root]) {
    const expired = checkValidity(link, at);
    if (expired) return { ...expired, ...notes() };
  }
  return { ok: true, root: root.der, leaf: leaf.parsed, ...notes() };
}

/** `path`: leaf, sub-CAs, root; each certificate but the root is looked up in its issuer's CRLs. */
function checkRevocation(path: readonly Link[], crlInputs: readonly (Uint8Array | ParsedCrl)[], ignored: string[]): Fail | undefined {
  if (crlInputs.length === 0) return undefined;
  const crls: ParsedCrl[] = [];
  for (const [i, input] of crlInputs.entries()) {
    if (!(input instanceof Uint8Array)) crls.push(input);
    else {
      try {
        crls.push(parseCrl(input));
      } catch (e) {
        ignored.push(`CRL ${i + 1}: ${(e as Error).message}`);
      }
    }
  }
  for (let i = 0; i < path.length - 1; i++) {
    const link = path[i]!;
    const issuer = path[i + 1]!;
    const serial = normalSerial(link.parsed.serialNumber);
    for (const crl of crls.filter((c) => c.issuer === issuer.parsed.subject)) {
      const signed = crlSignedBy(crl, issuer.der);
      if (!signed.ok) {
        ignored.push(`CRL of "${crl.issuer}" (thisUpdate ${crl.thisUpdate.toISOString()}) ignored: ${signed.reason}`);
        continue;
      }
      const entry = crl.revoked.find((e) => e.serialNumber === serial);
      if (entry) {
        const why = entry.reason ? `, reason ${entry.reason}` : '';
        return fail('FAILED_CertificateRevoked', `${describe(link)} (serial ${link.parsed.serialNumber}) is revoked since ${entry.revocationDate.toISOString()}${why} (CRL of "${crl.issuer}")`);
      }
    }
  }
  return undefined;
}

/** `below` = number of CA certificates under this one in the path (excluding the leaf). */
function checkCa(link: Link, below: number): string | undefined {
  const p = link.parsed;
  if (!p.isCa) return `${describe(link)} is not a CA (basicConstraints CA is not true)`;
  if (p.keyUsage.length > 0 && !p.keyUsage.includes('keyCertSign')) return `${describe(link)} may not sign certificates (keyUsage lacks keyCertSign)`;
  if (p.pathLen !== undefined && below > p.pathLen) return `${describe(link)} has pathLen ${p.pathLen} but ${below} sub-CA(s) below it`;
  return undefined;
}

function checkLeafRole(leaf: ParsedCert, role: LeafRole | undefined): string | undefined {
  if (leaf.keyUsage.length > 0 && !leaf.keyUsage.includes('digitalSignature')) return 'keyUsage lacks digitalSignature';
  if (role === undefined) return undefined;
  const dc = LEAF_DC[role];
  if (leaf.domainComponent !== undefined && leaf.domainComponent.toUpperCase() !== dc) return `domain component is "${leaf.domainComponent}", a ${role} certificate has DC=${dc}`;
  if (role === 'contract' && !isValidEmaid(leaf.commonName ?? '')) return `common name "${leaf.commonName ?? ''}" is not an EMAID`;
  return undefined;
}
