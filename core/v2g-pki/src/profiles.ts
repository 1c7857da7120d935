/**
 * The ISO 15118-2 certificate profiles (Annex F, "Certificate profiles", and 7.9.2.x), as data:
 * which certificate signs which, its subject, CA flag and pathLen, key usage and validity.
 * All certificates: X.509 v3, ECDSA on secp256r1 with SHA-256, positive unique serial numbers,
 * subject/authority key identifiers.
 */

export type CertRole =
  | 'v2gRoot' | 'cpoSub1' | 'cpoSub2' | 'seccLeaf'
  | 'moRoot' | 'moSub1' | 'moSub2' | 'contract'
  | 'oemRoot' | 'oemSub1' | 'oemSub2' | 'oemProvisioning'
  | 'cpsSub1' | 'cpsSub2' | 'cpsLeaf';

export type CertKind = 'root' | 'sub1' | 'sub2' | 'leaf';

export interface CertProfile {
  readonly role: CertRole;
  readonly kind: CertKind;
  /** The role whose key signs this certificate (itself for roots). */
  readonly issuer: CertRole;
  /** File base name in the PKI directory. */
  readonly file: string;
  /** Domain component as the standard's profiles use it. */
  readonly dc: string;
  /** Common name; leaf names come from the generate options (EVSEID, EMAID, PCID). */
  readonly cn: string;
  readonly description: string;
}

/** Issuing order: every issuer comes before what it signs. */
export const PROFILES: readonly CertProfile[] = [
  { role: 'v2gRoot', kind: 'root', issuer: 'v2gRoot', file: 'v2g-root', dc: 'V2G', cn: 'V2GRootCA', description: 'V2G root CA (trust anchor of EVs for the SECC, and of the CPS)' },
  { role: 'cpoSub1', kind: 'sub1', issuer: 'v2gRoot', file: 'cpo-sub-ca-1', dc: 'CPO', cn: 'CPOSubCA1', description: 'CPO sub-CA 1' },
  { role: 'cpoSub2', kind: 'sub2', issuer: 'cpoSub1', file: 'cpo-sub-ca-2', dc: 'CPO', cn: 'CPOSubCA2', description: 'CPO sub-CA 2' },
  { role: 'seccLeaf', kind: 'leaf', issuer: 'cpoSub2', file: 'secc-leaf', dc: 'CPO', cn: '(EVSEID)', description: 'SECC leaf (TLS server certificate), CN = EVSEID' },
  { role: 'moRoot', kind: 'root', issuer: 'moRoot', file: 'mo-root', dc: 'MO', cn: 'MORootCA', description: 'MO (eMSP) root CA' },
  { role: 'moSub1', kind: 'sub1', issuer: 'moRoot', file: 'mo-sub-ca-1', dc: 'MO', cn: 'MOSubCA1', description: 'MO sub-CA 1' },
  { role: 'moSub2', kind: 'sub2', issuer: 'moSub1', file: 'mo-sub-ca-2', dc: 'MO', cn: 'MOSubCA2', description: 'MO sub-CA 2' },
  { role: 'contract', kind: 'leaf', issuer: 'moSub2', file: 'contract', dc: 'MO', cn: '(EMAID)', description: 'contract certificate, CN = EMAID' },
  { role: 'oemRoot', kind: 'root', issuer: 'oemRoot', file: 'oem-root', dc: 'OEM', cn: 'OEMRootCA', description: 'OEM root CA' },
  { role: 'oemSub1', kind: 'sub1', issuer: 'oemRoot', file: 'oem-sub-ca-1', dc: 'OEM', cn: 'OEMSubCA1', description: 'OEM sub-CA 1' },
  { role: 'oemSub2', kind: 'sub2', issuer: 'oemSub1', file: 'oem-sub-ca-2', dc: 'OEM', cn: 'OEMSubCA2', description: 'OEM sub-CA 2' },
  { role: 'oemProvisioning', kind: 'leaf', issuer: 'oemSub2', file: 'oem-provisioning', dc: 'OEM', cn: '(PCID)', description: 'OEM provisioning certificate, CN = PCID' },
  { role: 'cpsSub1', kind: 'sub1', issuer: 'v2gRoot', file: 'cps-sub-ca-1', dc: 'CPS', cn: 'CPSSubCA1', description: 'certificate provisioning service sub-CA 1' },
  { role: 'cpsSub2', kind: 'sub2', issuer: 'cpsSub1', file: 'cps-sub-ca-2', dc: 'CPS', cn: 'CPSSubCA2', description: 'certificate provisioning service sub-CA 2' },
  { role: 'cpsLeaf', kind: 'leaf', issuer: 'cpsSub2', file: 'cps-leaf', dc: 'CPS', cn: 'CPSLeaf', description: 'certificate provisioning service leaf (signs CertificateInstallation/UpdateRes)' },
];

/** Default validity in days per kind: roots 40 years, sub-CA 1 4 years, sub-CA 2 2 years, leafs 1 year. */
export const DEFAULT_VALIDITY_DAYS: Readonly<Record<CertKind, number>> = { root: 40 * 365 + 10, sub1: 4 * 365 + 1, sub2: 2 * 365, leaf: 365 };

/** basicConstraints pathLen per CA kind: a root may have two sub-CAs below it (ISO 15118-2). */
export const PATH_LEN: Readonly<Record<Exclude<CertKind, 'leaf'>, number>> = { root: 2, sub1: 1, sub2: 0 };

/** The domain component a leaf of each validateChain role carries. */
export const LEAF_DC: Readonly<Record<'contract' | 'secc' | 'oem' | 'cps', string>> = { contract: 'MO', secc: 'CPO', oem: 'OEM', cps: 'CPS' };

export const ORGANIZATION = 'OpenSECC Test PKI';
export const COUNTRY = 'DE';
