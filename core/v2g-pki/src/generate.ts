/**
 * generatePki(): writes a complete ISO 15118-2 test PKI (four hierarchies: V2G/CPO, MO, OEM,
 * CPS) as PEM files. Keys are fresh P-256 keys from WebCrypto; certificates are built by
 * @peculiar/x509 (no hand-made ASN.1).
 */
import { KeyObject, webcrypto } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toPem } from './pem.js';
import { COUNTRY, DEFAULT_VALIDITY_DAYS, ORGANIZATION, PROFILES, type CertKind, type CertRole } from './profiles.js';
import { issueCertificate, randomSerial } from './issue.js';
import { createCrl } from './crl.js';

const DAY_MS = 86_400_000;

type CryptoKeyPair = webcrypto.CryptoKeyPair;

export interface CertOverride {
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  readonly commonName?: string;
}

export interface GeneratePkiOptions {
  /** Reference time; every certificate starts one hour before it (clock skew). Default: now. */
  readonly now?: Date;
  /** Validity in days by kind (defaults: root 40 y, sub-CA 1 4 y, sub-CA 2 2 y, leaf 1 y). */
  readonly validityDays?: Partial<Record<CertKind, number>>;
  /** Contract certificate CN (default DEABCC0000001X). */
  readonly emaid?: string;
  /** OEM provisioning certificate CN (default WMIOSECC000000001). */
  readonly pcid?: string;
  /** SECC leaf CN (default DE*ABC*E0000001*1). */
  readonly evseId?: string;
  /** Per certificate: validity or CN, e.g. to make an expired contract certificate for tests. */
  readonly overrides?: Partial<Record<CertRole, CertOverride>>;
}

export interface CertFiles {
  /** The certificate, PEM. */
  readonly cert: string;
  /** Its private key, PKCS#8 PEM, mode 0600. */
  readonly key: string;
}

export type PkiLayout = Record<CertRole, CertFiles> & {
  readonly dir: string;
  /** SECC leaf, CPO sub-CA 2, CPO sub-CA 1 (what the TLS server sends). */
  readonly seccChain: string;
  /** Contract certificate, MO sub-CA 2, MO sub-CA 1. */
  readonly contractChain: string;
  /** OEM provisioning certificate, OEM sub-CA 2, OEM sub-CA 1. */
  readonly oemProvisioningChain: string;
  /** CPS leaf, CPS sub-CA 2, CPS sub-CA 1. */
  readonly cpsChain: string;
  /** The roots an SECC/EV trusts: V2G root and MO root (and OEM root), one PEM each in this bundle. */
  readonly rootsBundle: string;
  readonly readme: string;
  /** An empty CRL per sub-CA 2 (`<sub-ca-2 file>.crl.pem`, signed by it): revoke into these with revoke(). */
  readonly crls: Readonly<Record<CrlRole, string>>;
  readonly emaid: string;
  readonly pcid: string;
  readonly evseId: string;
};

/** The sub-CAs 2 (the issuers of the leaf certificates) that get a CRL file. */
export type CrlRole = 'cpoSub2' | 'moSub2' | 'oemSub2' | 'cpsSub2';
const CRL_ROLES: readonly CrlRole[] = ['cpoSub2', 'moSub2', 'oemSub2', 'cpsSub2'];

export const DEFAULT_EMAID = 'DEABCC0000001X';
export const DEFAULT_PCID = 'WMIOSECC000000001';
export const DEFAULT_EVSEID = 'DE*ABC*E0000001*1';

const EC_PARAMS = { name: 'ECDSA', namedCurve: 'P-256' } as const;

interface Issued {
  readonly der: Uint8Array;
  readonly privateKey: webcrypto.CryptoKey;
}

function leafCn(role: CertRole, emaid: string, pcid: string, evseId: string): string | undefined {
  if (role === 'seccLeaf') return evseId;
  if (role === 'contract') return emaid;
  if (role === 'oemProvisioning') return pcid;
  return undefined;
}

function writeKey(path: string, pkcs8: ArrayBuffer): void {
  writeFileSync(path, toPem(new Uint8Array(pkcs8), 'PRIVATE KEY'), { mode: 0o600 });
  chmodSync(path, 0o600); // an existing file keeps its mode on overwrite
}

function writePublic(path: string, text: string): void {
  writeFileSync(path, text, { mode: 0o644 });
  chmodSync(path, 0o644);
}

/** Generates the whole PKI into `dir` (created if missing; existing files of the layout are overwritten). */
export async function generatePki(dir: string, options: GeneratePkiOptions = {}): Promise<PkiLayout> {
  const now = options.now ?? new Date();
  const emaid = options.emaid ?? DEFAULT_EMAID;
  const pcid = options.pcid ?? DEFAULT_PCID;
  const evseId = options.evseId ?? DEFAULT_EVSEID;
  const validity = { ...DEFAULT_VALIDITY_DAYS, ...options.validityDays };
  mkdirSync(dir, { recursive: true });

  const issued = new Map<CertRole, Issued>();
  const serials = new Set<string>();
  const files: Partial<Record<CertRole, CertFiles>> = {};
  const notBefore = new Date(now.getTime() - 3_600_000);

  for (const profile of PROFILES) {
    const override = options.overrides?.[profile.role] ?? {};
    const keys = (await webcrypto.subtle.generateKey(EC_PARAMS, true, ['sign', 'verify'])) as CryptoKeyPair;
    const issuer = profile.kind === 'root' ? undefined : issued.get(profile.issuer);
    if (profile.kind !== 'root' && !issuer) throw new Error(`internal: ${profile.role} issued before ${profile.issuer}`);
    let serialNumber = randomSerial();
    while (serials.has(serialNumber)) serialNumber = randomSerial();
    serials.add(serialNumber);
    const commonName = override.commonName ?? leafCn(profile.role, emaid, pcid, evseId);
    const cert = await issueCertificate({
      role: profile.role,
      ...(issuer ? { issuerCert: issuer.der } : {}),
      issuerKey: issuer ? issuer.privateKey : keys.privateKey,
      publicKey: keys.publicKey,
      ...(commonName !== undefined ? { commonName } : {}),
      serialNumber,
      notBefore: override.notBefore ?? notBefore,
      notAfter: override.notAfter ?? new Date(notBefore.getTime() + validity[profile.kind] * DAY_MS),
    });
    issued.set(profile.role, { der: cert.der, privateKey: keys.privateKey });
    const certPath = join(dir, `${profile.file}.pem`);
    const keyPath = join(dir, `${profile.file}.key.pem`);
    writePublic(certPath, cert.pem);
    writeKey(keyPath, await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
    files[profile.role] = { cert: certPath, key: keyPath };
  }

  const pem = (role: CertRole) => toPem(issued.get(role)!.der);
  const chain = (file: string, roles: CertRole[]) => {
    const path = join(dir, file);
    writePublic(path, roles.map(pem).join(''));
    return path;
  };
  const seccChain = chain('secc-chain.pem', ['seccLeaf', 'cpoSub2', 'cpoSub1']);
  const contractChain = chain('contract-chain.pem', ['contract', 'moSub2', 'moSub1']);
  const oemProvisioningChain = chain('oem-provisioning-chain.pem', ['oemProvisioning', 'oemSub2', 'oemSub1']);
  const cpsChain = chain('cps-chain.pem', ['cpsLeaf', 'cpsSub2', 'cpsSub1']);
  const rootsBundle = chain('roots.pem', ['v2gRoot', 'moRoot', 'oemRoot']);
  const crls = {} as Record<CrlRole, string>;
  for (const role of CRL_ROLES) {
    const issuer = issued.get(role)!;
    const crl = await createCrl({ issuerCert: issuer.der, issuerKey: KeyObject.from(issuer.privateKey), thisUpdate: notBefore, nextUpdate: new Date(notBefore.getTime() + validity.sub2 * DAY_MS) });
    crls[role] = join(dir, `${PROFILES.find((p) => p.role === role)!.file}.crl.pem`);
    writePublic(crls[role], crl.pem);
  }
  const readme = join(dir, 'README.md');
  writePublic(readme, readmeText({ emaid, pcid, evseId, now }));

  return { ...(files as Record<CertRole, CertFiles>), dir, seccChain, contractChain, oemProvisioningChain, cpsChain, rootsBundle, readme, crls, emaid, pcid, evseId };
}

function readmeText(p: { emaid: string; pcid: string; evseId: string; now: Date }): string {
  const rows = PROFILES.map((prof) => `| \`${prof.file}.pem\` | \`${prof.file}.key.pem\` | ${prof.description} | ${prof.issuer === prof.role ? 'self-signed' : `\`${PROFILES.find((x) => x.role === prof.issuer)!.file}\``} |`);
  return `# V2G test PKI (ISO 15118-2)

Generated by \`secc pki generate\` on ${p.now.toISOString()}. FOR TESTS ONLY: the keys are not protected.

All certificates: X.509 v3, ECDSA secp256r1 (P-256) with SHA-256, subject and authority key identifiers,
basicConstraints critical (CAs: CA:TRUE with pathLen 2/1/0 for root/sub-CA 1/sub-CA 2; leafs: CA:FALSE),
keyUsage critical (CAs: keyCertSign, cRLSign; leafs: digitalSignature, keyAgreement, contract also nonRepudiation),
subject \`CN=…, O=${ORGANIZATION}, C=${COUNTRY}, DC=V2G|CPO|MO|OEM|CPS\`. Private keys are PKCS#8 PEM, mode 0600.

EVSEID (SECC leaf CN): \`${p.evseId}\` · EMAID (contract CN): \`${p.emaid}\` · PCID (OEM provisioning CN): \`${p.pcid}\`

| certificate | private key | what | issued by |
| --- | --- | --- | --- |
${rows.join('\n')}

Chain files (leaf first, then sub-CA 2, then sub-CA 1; no root):

| file | contents |
| --- | --- |
| \`secc-chain.pem\` | SECC leaf + CPO sub-CA 2 + CPO sub-CA 1: the SECC's TLS certificate chain (\`v2g.tls.certFile\`, key \`secc-leaf.key.pem\`) |
| \`contract-chain.pem\` | contract certificate + MO sub-CA 2 + MO sub-CA 1: what the EV sends in PaymentDetailsReq |
| \`oem-provisioning-chain.pem\` | OEM provisioning certificate + OEM sub-CA 2 + OEM sub-CA 1: CertificateInstallationReq |
| \`cps-chain.pem\` | CPS leaf + CPS sub-CA 2 + CPS sub-CA 1: signer of CertificateInstallation/UpdateRes |
| \`roots.pem\` | V2G root, MO root, OEM root |

Revocation lists (PEM \`X509 CRL\`, empty, signed by their sub-CA 2, valid as long as it): \`cpo-sub-ca-2.crl.pem\`,
\`mo-sub-ca-2.crl.pem\`, \`oem-sub-ca-2.crl.pem\`, \`cps-sub-ca-2.crl.pem\`. The pnc plugin loads \`*.crl\` / \`*.crl.pem\` files
from its trust store directories and \`crlDir\` (with \`pkiDir\`: this directory); revoke a certificate with
\`revoke()\` of @opensecc/v2g-pki.

The EV trusts \`v2g-root.pem\` for the SECC's TLS chain (\`secc sim ev --tls --ca v2g-root.pem\`);
the SECC trusts \`v2g-root.pem\` and \`mo-root.pem\` for contract certificates.
`;
}
