/**
 * Certificate revocation lists (X.509 v2 CRLs, RFC 5280) for the V2G PKI: create one for a CA,
 * revoke certificates into a CRL file, read and parse CRL files (PEM `X509 CRL` or DER), and check
 * synchronously whether a CRL is signed by a given CA (validateChain is synchronous; @peculiar/x509's
 * X509Crl.verify is not, so the signature is checked with node:crypto over the CRL's own signed
 * bytes).
 */
import { createPublicKey, verify as verifySignature, webcrypto, X509Certificate as NodeCert, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CRLNumber } from '@peculiar/asn1-x509';
import * as asn1js from 'asn1js';
import { x509 } from './x509-setup.js';
import { fromPem, loadKey, PkiError, readCertificate, toKeyObject, toPem } from './pem.js';
import { randomSerial, type CertificateInput, type PrivateKeyInput } from './issue.js';

export const CRL_PEM_LABEL = 'X509 CRL';

export type CrlReason = Exclude<keyof typeof x509.X509CrlReason, number>;

export interface RevokedEntry {
  /** Hex serial number of the revoked certificate. */
  readonly serialNumber: string;
  readonly revocationDate?: Date;
  readonly reason?: CrlReason;
}

export interface CreateCrlOptions {
  /** The CA whose certificates the CRL lists (it signs the CRL). */
  readonly issuerCert: CertificateInput;
  readonly issuerKey: PrivateKeyInput;
  readonly revoked?: readonly RevokedEntry[];
  /** Default now. */
  readonly thisUpdate?: Date;
  /** Default thisUpdate + 30 days. */
  readonly nextUpdate?: Date;
  /** The CRL number (RFC 5280 5.2.3), default 1. */
  readonly crlNumber?: number;
}

export interface IssuedCrl {
  readonly der: Uint8Array;
  readonly pem: string;
}

export interface ParsedCrl {
  readonly der: Uint8Array;
  /** RFC 4514 style, as ParsedCert.subject of the issuer. */
  readonly issuer: string;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
  readonly crlNumber: number | undefined;
  readonly authorityKeyIdentifier: string | undefined;
  readonly revoked: ReadonlyArray<{ readonly serialNumber: string; readonly revocationDate: Date; readonly reason: CrlReason | undefined }>;
}

const DAY_MS = 86_400_000;
const CRL_NUMBER_OID = '2.5.29.20';
const EC_PARAMS = { name: 'ECDSA', namedCurve: 'P-256' } as const;

/** Lowercase hex without leading zero bytes, so serials compare whatever their padding. */
export function normalSerial(hex: string): string {
  const clean = hex.toLowerCase().replace(/[^0-9a-f]/g, '');
  return clean.replace(/^(00)+(?=.)/, '') || '0';
}

// The CRL number extension's value is a bare INTEGER; @peculiar/x509 has no class for it, its ASN.1 layer has.
function encodeCrlNumber(n: number): ArrayBuffer {
  return AsnConvert.serialize(new CRLNumber(n));
}

function decodeCrlNumber(value: ArrayBuffer): number | undefined {
  try {
    return AsnConvert.parse(value, CRLNumber).value;
  } catch {
    return undefined;
  }
}

async function signingKey(key: PrivateKeyInput): Promise<webcrypto.CryptoKey> {
  const object = typeof key === 'string' ? loadKey(key) : toKeyObject(key);
  return webcrypto.subtle.importKey('pkcs8', object.export({ format: 'der', type: 'pkcs8' }), EC_PARAMS, false, ['sign']);
}

/** A CRL of `issuerCert` listing `revoked`, signed with `issuerKey` (ECDSA SHA-256). */
export async function createCrl(options: CreateCrlOptions): Promise<IssuedCrl> {
  const issuer = new x509.X509Certificate(readCertificate(options.issuerCert));
  const issuerKey = typeof options.issuerKey === 'string' ? loadKey(options.issuerKey) : toKeyObject(options.issuerKey);
  if (issuerKey.type !== 'private') throw new PkiError('createCrl: issuerKey is not a private key');
  const thisUpdate = options.thisUpdate ?? new Date();
  const nextUpdate = options.nextUpdate ?? new Date(thisUpdate.getTime() + 30 * DAY_MS);
  if (nextUpdate <= thisUpdate) throw new PkiError(`createCrl: nextUpdate ${nextUpdate.toISOString()} is not after thisUpdate ${thisUpdate.toISOString()}`);
  for (const entry of options.revoked ?? []) {
    if (!/^[0-9a-f]+$/i.test(entry.serialNumber)) throw new PkiError(`createCrl: serial number "${entry.serialNumber}" is not hex`);
  }
  const ski = issuer.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  const extensions: x509.Extension[] = [new x509.Extension(CRL_NUMBER_OID, false, encodeCrlNumber(options.crlNumber ?? 1))];
  extensions.push(ski ? new x509.AuthorityKeyIdentifierExtension(ski) : await x509.AuthorityKeyIdentifierExtension.create(createPublicKey(issuerKey).export({ format: 'der', type: 'spki' })));
  const crl = await x509.X509CrlGenerator.create({
    issuer: issuer.subjectName,
    thisUpdate,
    nextUpdate,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    signingKey: (await signingKey(issuerKey)) as never,
    extensions,
    entries: (options.revoked ?? []).map((e) => ({
      serialNumber: e.serialNumber.toLowerCase(),
      revocationDate: e.revocationDate ?? thisUpdate,
      ...(e.reason !== undefined ? { reason: x509.X509CrlReason[e.reason] } : {}),
    })),
  });
  const der = new Uint8Array(crl.rawData);
  return { der, pem: toPem(der, CRL_PEM_LABEL) };
}

/** Parses a DER CRL; throws PkiError when it is not one. */
export function parseCrl(der: Uint8Array): ParsedCrl {
  let crl: x509.X509Crl;
  try {
    crl = new x509.X509Crl(der);
    void crl.issuer;
  } catch (e) {
    throw new PkiError(`not an X.509 CRL (${(e as Error).message})`);
  }
  const numberExt = crl.extensions.find((e) => e.type === CRL_NUMBER_OID);
  const aki = crl.getExtension(x509.AuthorityKeyIdentifierExtension);
  return {
    der,
    issuer: crl.issuer,
    thisUpdate: crl.thisUpdate,
    nextUpdate: crl.nextUpdate,
    crlNumber: numberExt ? decodeCrlNumber(numberExt.value) : undefined,
    authorityKeyIdentifier: aki?.keyId?.toLowerCase(),
    revoked: crl.entries.map((e) => ({
      serialNumber: normalSerial(e.serialNumber),
      revocationDate: e.revocationDate,
      reason: e.reason !== undefined ? (x509.X509CrlReason[e.reason] as CrlReason) : undefined,
    })),
  };
}

/** Every CRL of a PEM text, a PEM/DER file, or DER bytes, as DER. Throws PkiError when there is none. */
export function readCrls(pemOrDer: string | Uint8Array): Uint8Array[] {
  let text: string | undefined;
  let bytes: Uint8Array | undefined;
  let what = 'input';
  if (typeof pemOrDer !== 'string') bytes = pemOrDer;
  else if (pemOrDer.includes('-----BEGIN ')) text = pemOrDer;
  else {
    what = pemOrDer;
    const raw = readFileSync(pemOrDer);
    const latin = raw.toString('latin1');
    if (latin.includes('-----BEGIN ')) text = latin;
    else bytes = new Uint8Array(raw);
  }
  const ders = text !== undefined ? fromPem(text, CRL_PEM_LABEL) : bytes && bytes.length > 0 ? [bytes] : [];
  if (ders.length === 0) throw new PkiError(`${what}: no CRL found (PEM "${CRL_PEM_LABEL}" or DER)`);
  return ders;
}

/** The bytes a CRL signature covers: its tbsCertList exactly as it stands in the file. */
function signedPart(der: Uint8Array): Uint8Array | undefined {
  const parsed = asn1js.fromBER(der);
  if (parsed.offset === -1 || !(parsed.result instanceof asn1js.Sequence)) return undefined;
  const tbs = parsed.result.valueBlock.value[0];
  return tbs instanceof asn1js.Sequence ? new Uint8Array(tbs.valueBeforeDecodeView) : undefined;
}

/** Whether `issuerCertDer` signed the CRL: issuer name and (if both present) key identifier match, and the ECDSA signature verifies. */
export function crlSignedBy(crl: ParsedCrl, issuerCertDer: Uint8Array): { ok: true } | { ok: false; reason: string } {
  let issuer: x509.X509Certificate;
  let key: KeyObject;
  try {
    issuer = new x509.X509Certificate(issuerCertDer);
    key = new NodeCert(issuerCertDer).publicKey;
  } catch (e) {
    return { ok: false, reason: `issuer certificate not readable (${(e as Error).message})` };
  }
  if (crl.issuer !== issuer.subject) return { ok: false, reason: `CRL issuer "${crl.issuer}" is not "${issuer.subject}"` };
  const ski = issuer.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId?.toLowerCase();
  if (ski && crl.authorityKeyIdentifier && ski !== crl.authorityKeyIdentifier) return { ok: false, reason: `CRL authority key identifier ${crl.authorityKeyIdentifier} is not the key identifier ${ski} of "${issuer.subject}"` };
  const parsed = new x509.X509Crl(crl.der);
  const algorithm = parsed.signatureAlgorithm as { name?: string; hash?: { name?: string } };
  if (algorithm.name !== 'ECDSA' || !algorithm.hash?.name) return { ok: false, reason: `CRL signature algorithm ${algorithm.name ?? '?'} is not ECDSA` };
  const tbs = signedPart(crl.der);
  if (!tbs) return { ok: false, reason: 'CRL structure not readable' };
  let verified = false;
  try {
    verified = verifySignature(algorithm.hash.name.replace('-', '').toLowerCase(), tbs, { key, dsaEncoding: 'der' }, new Uint8Array(parsed.signature));
  } catch {
    verified = false;
  }
  return verified ? { ok: true } : { ok: false, reason: `CRL signature does not verify with the key of "${issuer.subject}"` };
}

export interface RevokeOptions {
  /** The CRL file (PEM) to update; created when missing. Written atomically (temp file + rename). */
  readonly crlFile: string;
  readonly issuerCert: CertificateInput;
  readonly issuerKey: PrivateKeyInput;
  /** Certificates to revoke (DER, PEM text or file): each must be issued by `issuerCert`. */
  readonly certificates?: readonly CertificateInput[];
  /** Or serial numbers (hex). */
  readonly serialNumbers?: readonly string[];
  readonly reason?: CrlReason;
  /** Revocation date and thisUpdate (default now). */
  readonly at?: Date;
  readonly nextUpdate?: Date;
}

/** Adds certificates to the CRL in `crlFile` (a new CRL with the next CRL number) and writes it. */
export async function revoke(options: RevokeOptions): Promise<IssuedCrl & { readonly file: string; readonly crl: ParsedCrl }> {
  const issuerDer = readCertificate(options.issuerCert);
  const issuer = new x509.X509Certificate(issuerDer);
  const at = options.at ?? new Date();
  let previous: ParsedCrl | undefined;
  if (existsSync(options.crlFile)) {
    previous = parseCrl(readCrls(options.crlFile)[0]!);
    if (previous.issuer !== issuer.subject) throw new PkiError(`${options.crlFile}: the CRL of "${previous.issuer}", not of "${issuer.subject}"`);
  }
  const serials: string[] = [...(options.serialNumbers ?? [])];
  for (const input of options.certificates ?? []) {
    const cert = new x509.X509Certificate(readCertificate(input));
    if (cert.issuer !== issuer.subject) throw new PkiError(`"${cert.subject}" is issued by "${cert.issuer}", not by "${issuer.subject}": revoke it in its issuer's CRL`);
    serials.push(cert.serialNumber);
  }
  if (serials.length === 0) throw new PkiError('revoke: no certificate or serial number given');
  const entries = new Map<string, RevokedEntry>();
  for (const e of previous?.revoked ?? []) entries.set(e.serialNumber, { serialNumber: e.serialNumber, revocationDate: e.revocationDate, ...(e.reason ? { reason: e.reason } : {}) });
  for (const serial of serials) {
    const key = normalSerial(serial);
    if (!entries.has(key)) entries.set(key, { serialNumber: key.length % 2 ? `0${key}` : key, revocationDate: at, ...(options.reason ? { reason: options.reason } : {}) });
  }
  const issued = await createCrl({
    issuerCert: issuerDer,
    issuerKey: options.issuerKey,
    revoked: [...entries.values()],
    thisUpdate: at,
    ...(options.nextUpdate ? { nextUpdate: options.nextUpdate } : {}),
    crlNumber: (previous?.crlNumber ?? 0) + 1,
  });
  const temp = `${options.crlFile}.${randomSerial().slice(0, 8)}.tmp`;
  writeFileSync(temp, issued.pem, { mode: 0o644 });
  renameSync(temp, options.crlFile);
  return { ...issued, file: options.crlFile, crl: parseCrl(issued.der) };
}
