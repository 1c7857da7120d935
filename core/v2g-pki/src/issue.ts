/**
 * issueCertificate(): one certificate of an ISO 15118-2 profile (profiles.ts) for a given public
 * key, signed by an existing CA (or self-signed for a root). generatePki() issues its whole PKI
 * through it; a (simulated) backend uses it to issue a contract certificate per EV.
 * Certificates are built by @peculiar/x509; keys are converted with node:crypto/WebCrypto.
 */
import { createPublicKey, KeyObject, randomBytes, webcrypto } from 'node:crypto';
import { x509 } from './x509-setup.js';
import { PkiError, readCertificate, toKeyObject, toPem, toPublicKey, loadKey, type CryptoKeyLike } from './pem.js';
import { DEFAULT_VALIDITY_DAYS, COUNTRY, ORGANIZATION, PATH_LEN, PROFILES, type CertProfile, type CertRole } from './profiles.js';
import { isValidEmaid } from './emaid.js';

/** A profile role (profiles.ts), or the short leaf names validateChain uses. */
export type IssueRole = CertRole | 'secc' | 'oem' | 'cps';

const LEAF_ALIASES: Readonly<Record<'secc' | 'oem' | 'cps', CertRole>> = { secc: 'seccLeaf', oem: 'oemProvisioning', cps: 'cpsLeaf' };

/** A certificate as DER, PEM text or the path of a PEM/DER file. */
export type CertificateInput = Uint8Array | string;
/** A private key as KeyObject, WebCrypto key, PEM text or the path of a PEM file. */
export type PrivateKeyInput = KeyObject | CryptoKeyLike | string;
/** A public key as KeyObject, WebCrypto key, SPKI DER, certificate DER or uncompressed P-256 point. */
export type PublicKeyInput = KeyObject | CryptoKeyLike | Uint8Array;

export interface IssueCertificateOptions {
  /** Which profile: key usage, CA flag and pathLen, domain component, default CN and validity. */
  readonly role: IssueRole;
  /** The issuing CA's certificate. Omit it for a root (self-signed with `issuerKey`). */
  readonly issuerCert?: CertificateInput;
  /** The issuing CA's private key (for a root: the root's own key). */
  readonly issuerKey: PrivateKeyInput;
  /** The subject's public key. */
  readonly publicKey: PublicKeyInput;
  /** Subject CN; required for the SECC leaf (EVSEID) and OEM provisioning certificate (PCID). */
  readonly commonName?: string;
  /** Contract certificates: the EMAID (the CN); `commonName` is accepted too. */
  readonly emaid?: string;
  /** Default: now − 1 h (clock skew). */
  readonly notBefore?: Date;
  /** Default: notBefore + the profile's validity (DEFAULT_VALIDITY_DAYS). */
  readonly notAfter?: Date;
  /** Positive serial number as hex; default 16 random bytes (first byte 0x01..0x7f). */
  readonly serialNumber?: string;
  /** Reference time for the default notBefore. */
  readonly now?: Date;
  /** Validity in days when notAfter is not given. */
  readonly validityDays?: number;
}

export interface IssuedCertificate {
  readonly der: Uint8Array;
  readonly pem: string;
  readonly subject: string;
  /** Lowercase hex. */
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

const DAY_MS = 86_400_000;
const EC_PARAMS = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;

export function profileOf(role: IssueRole): CertProfile {
  const resolved = role in LEAF_ALIASES ? LEAF_ALIASES[role as keyof typeof LEAF_ALIASES] : role;
  const profile = PROFILES.find((p) => p.role === resolved);
  if (!profile) throw new PkiError(`issueCertificate: unknown role "${role}" (one of ${[...PROFILES.map((p) => p.role), ...Object.keys(LEAF_ALIASES)].join(', ')})`);
  return profile;
}

/** A positive serial number (first byte 0x01..0x7f) of 16 random bytes, hex. */
export function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) || 0x01;
  return bytes.toString('hex');
}

function subjectName(profile: CertProfile, cn: string): string {
  const escaped = cn.replace(/([,+"\\<>;=])/g, '\\$1'); // RFC 4514
  return `CN=${escaped}, O=${ORGANIZATION}, C=${COUNTRY}, DC=${profile.dc}`;
}

function commonNameFor(profile: CertProfile, options: IssueCertificateOptions): string {
  if (profile.role === 'contract') {
    const emaid = options.emaid ?? options.commonName;
    if (emaid === undefined) throw new PkiError('issueCertificate: a contract certificate needs its EMAID (emaid)');
    if (!isValidEmaid(emaid)) throw new PkiError(`issueCertificate: "${emaid}" is not a well-formed EMAID (e.g. DEABCC0000001X)`);
    return emaid;
  }
  if (options.commonName !== undefined) return options.commonName;
  if (profile.cn.startsWith('(')) throw new PkiError(`issueCertificate: a ${profile.role} certificate needs its commonName ${profile.cn}`);
  return profile.cn;
}

async function toSigningKey(key: PrivateKeyInput): Promise<CryptoKeyLike> {
  if (!(key instanceof KeyObject) && typeof key !== 'string' && key.type === 'private') return key;
  const object = typeof key === 'string' ? loadKey(key) : toKeyObject(key);
  if (object.type !== 'private') throw new PkiError('issueCertificate: issuerKey is not a private key');
  const pkcs8 = object.export({ format: 'der', type: 'pkcs8' });
  return webcrypto.subtle.importKey('pkcs8', pkcs8, EC_PARAMS, false, ['sign']);
}

function spkiOf(key: KeyObject): Uint8Array {
  return new Uint8Array(key.export({ format: 'der', type: 'spki' }));
}

function sameKey(a: KeyObject, b: KeyObject): boolean {
  return Buffer.from(spkiOf(a)).equals(Buffer.from(spkiOf(b)));
}

/** Issues one certificate. Throws PkiError naming what is wrong with the input. */
export async function issueCertificate(options: IssueCertificateOptions): Promise<IssuedCertificate> {
  const profile = profileOf(options.role);
  const cn = commonNameFor(profile, options);
  const subjectKey = toPublicKey(options.publicKey as KeyObject);
  if (subjectKey.asymmetricKeyType !== 'ec' || (subjectKey.export({ format: 'jwk' }) as { crv?: string }).crv !== 'P-256') {
    throw new PkiError('issueCertificate: ISO 15118-2 certificates carry an ECDSA P-256 public key');
  }
  const issuerPrivate = typeof options.issuerKey === 'string' ? loadKey(options.issuerKey) : toKeyObject(options.issuerKey);
  if (issuerPrivate.type !== 'private') throw new PkiError('issueCertificate: issuerKey is not a private key');
  const issuerPublic = createPublicKey(issuerPrivate);

  let issuer: x509.X509Certificate | undefined;
  if (profile.kind === 'root') {
    if (options.issuerCert !== undefined) throw new PkiError(`issueCertificate: a ${profile.role} is self-signed; leave issuerCert out`);
    if (!sameKey(issuerPublic, subjectKey)) throw new PkiError('issueCertificate: a root is self-signed, so issuerKey must be the private key of publicKey');
  } else {
    if (options.issuerCert === undefined) throw new PkiError(`issueCertificate: a ${profile.role} certificate needs issuerCert (${profile.issuer})`);
    issuer = new x509.X509Certificate(readCertificate(options.issuerCert));
    const bc = issuer.getExtension(x509.BasicConstraintsExtension);
    if (bc?.ca !== true) throw new PkiError(`issueCertificate: issuer "${issuer.subject}" is not a CA certificate`);
    if (!sameKey(issuerPublic, toPublicKey(new Uint8Array(issuer.rawData)))) throw new PkiError(`issueCertificate: issuerKey is not the key of "${issuer.subject}"`);
  }

  const notBefore = options.notBefore ?? new Date((options.now ?? new Date()).getTime() - 3_600_000);
  const notAfter = options.notAfter ?? new Date(notBefore.getTime() + (options.validityDays ?? DEFAULT_VALIDITY_DAYS[profile.kind]) * DAY_MS);
  if (notAfter <= notBefore) throw new PkiError(`issueCertificate: notAfter ${notAfter.toISOString()} is not after notBefore ${notBefore.toISOString()}`);
  const serialNumber = (options.serialNumber ?? randomSerial()).toLowerCase();
  if (!/^[0-7][0-9a-f]*$/.test(serialNumber) || /^0+$/.test(serialNumber) || serialNumber.length > 40) {
    throw new PkiError(`issueCertificate: serialNumber "${options.serialNumber}" must be a positive hex number of at most 20 bytes`);
  }

  const spki = spkiOf(subjectKey);
  const subject = subjectName(profile, cn);
  const extensions: x509.Extension[] = [];
  if (profile.kind === 'leaf') {
    extensions.push(new x509.BasicConstraintsExtension(false, undefined, true));
    let usage = x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement;
    if (profile.role === 'contract') usage |= x509.KeyUsageFlags.nonRepudiation;
    extensions.push(new x509.KeyUsagesExtension(usage, true));
  } else {
    extensions.push(new x509.BasicConstraintsExtension(true, PATH_LEN[profile.kind], true));
    extensions.push(new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true));
  }
  extensions.push(await x509.SubjectKeyIdentifierExtension.create(spki));
  // The authority key identifier is the issuer's own subject key identifier when it has one.
  const issuerSki = issuer?.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  extensions.push(issuerSki ? new x509.AuthorityKeyIdentifierExtension(issuerSki) : await x509.AuthorityKeyIdentifierExtension.create(spkiOf(issuerPublic)));

  const cert = await x509.X509CertificateGenerator.create({
    serialNumber,
    subject,
    // The issuer name exactly as the issuer's certificate encodes its subject.
    issuer: issuer ? issuer.subjectName : subject,
    notBefore,
    notAfter,
    signingAlgorithm: SIGNING,
    publicKey: spki,
    signingKey: (await toSigningKey(issuerPrivate)) as never,
    extensions,
  });
  const der = new Uint8Array(cert.rawData);
  return { der, pem: toPem(der), subject: cert.subject, serialNumber: cert.serialNumber.toLowerCase(), notBefore: cert.notBefore, notAfter: cert.notAfter };
}

/** A fresh P-256 key pair (exportable), e.g. for the subject of issueCertificate. */
export async function generateKeyPair(): Promise<{ publicKey: KeyObject; privateKey: KeyObject }> {
  const pair = (await webcrypto.subtle.generateKey(EC_PARAMS, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  return { publicKey: KeyObject.from(pair.publicKey), privateKey: KeyObject.from(pair.privateKey) };
}
