import { join, resolve } from 'node:path';
import type { JSONSchema } from '@opensecc/plugin-api';

/** `plugins.pnc.config`. Paths are resolved from the daemon's working directory. */
export interface PncConfig {
  /**
   * A directory as `secc pki generate DIR` writes it: the trust stores and the SECC's chain and key
   * are taken from it unless given one by one below.
   */
  readonly pkiDir?: string;
  /** PEM files or directories of PEM files (`*.key.pem` skipped): roots, and sub-CAs a chain may omit. */
  readonly trustStores?: { readonly v2g?: readonly string[]; readonly mo?: readonly string[]; readonly oem?: readonly string[] };
  /** The SECC's certificate chain (leaf first, then the CPO sub-CAs), PEM. */
  readonly seccCertFile?: string;
  /** The SECC leaf's private key, PEM; refused when its mode is wider than 0600. */
  readonly seccKeyFile?: string;
  /**
   * A directory (or one file) of certificate revocation lists, `*.crl` / `*.crl.pem` (PEM or DER).
   * Default: `pkiDir` when given. CRL files in the trust store directories are loaded too.
   */
  readonly crlDir?: string;
  /** Warn (ci/pnc/expiry_warning, status "expiring") this many days before a certificate expires. */
  readonly warnBeforeExpiryDays: number;
  /** How long the SECC waits for the backend's CertificateInstallation/UpdateRes (below the EV's 5 s). */
  readonly backendTimeoutMs: number;
  /** How often the expiry status is evaluated again without a file change, s. */
  readonly expiryCheckIntervalS: number;
}

export const DEFAULT_PNC_CONFIG: PncConfig = { warnBeforeExpiryDays: 30, backendTimeoutMs: 4000, expiryCheckIntervalS: 3600 };

const paths: JSONSchema = { type: 'array', items: { type: 'string', minLength: 1 }, maxItems: 64 };

export const PNC_CONFIG_SCHEMA: JSONSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    pkiDir: { type: 'string', minLength: 1, description: 'directory as `secc pki generate` writes it (trust stores, SECC chain and key unless given separately)' },
    trustStores: {
      type: 'object',
      additionalProperties: false,
      properties: {
        v2g: { ...paths, description: 'V2G root certificate(s): files or directories of PEM files' },
        mo: { ...paths, description: 'mobility operator (MO) root certificate(s)' },
        oem: { ...paths, description: 'OEM root certificate(s) and sub-CAs for the provisioning certificate; empty: its chain is not checked, only its signature' },
      },
    },
    seccCertFile: { type: 'string', minLength: 1, description: 'SECC certificate chain, leaf first (PEM)' },
    seccKeyFile: { type: 'string', minLength: 1, description: 'SECC private key (PEM, mode 0600)' },
    crlDir: { type: 'string', minLength: 1, description: 'directory (or file) of certificate revocation lists (*.crl, *.crl.pem; PEM or DER); default pkiDir. CRLs in the trust store directories are read too' },
    warnBeforeExpiryDays: { type: 'integer', minimum: 0, maximum: 3650, default: DEFAULT_PNC_CONFIG.warnBeforeExpiryDays },
    backendTimeoutMs: { type: 'integer', minimum: 100, maximum: 4500, default: DEFAULT_PNC_CONFIG.backendTimeoutMs, description: 'wait for the backend answer; the EV gives up after 5 s' },
    expiryCheckIntervalS: { type: 'integer', minimum: 1, maximum: 86400, default: DEFAULT_PNC_CONFIG.expiryCheckIntervalS },
  },
};

/** Where each piece of material is read from. */
export interface PncPaths {
  readonly v2g: readonly string[];
  readonly mo: readonly string[];
  readonly oem: readonly string[];
  readonly seccCertFile: string;
  readonly seccKeyFile: string;
  /** Where CRLs are read from besides the trust store directories. */
  readonly crls: readonly string[];
}

export function withDefaults(config: Partial<PncConfig> | undefined): PncConfig {
  return { ...DEFAULT_PNC_CONFIG, ...(config ?? {}) };
}

/** Explicit paths win; then the `pkiDir` layout; then `<dataDir>/trust/{v2g,mo,oem}` and `<dataDir>/secc/…`. */
export function resolvePaths(config: PncConfig, dataDir: string): PncPaths {
  const pki = config.pkiDir !== undefined ? resolve(config.pkiDir) : undefined;
  const store = (name: 'v2g' | 'mo' | 'oem', fromPki: string[]) =>
    (config.trustStores?.[name] ?? (pki ? fromPki.map((f) => join(pki, f)) : [join(dataDir, 'trust', name)])).map((p) => resolve(p));
  return {
    v2g: store('v2g', ['v2g-root.pem']),
    mo: store('mo', ['mo-root.pem']),
    oem: store('oem', ['oem-root.pem', 'oem-sub-ca-1.pem', 'oem-sub-ca-2.pem']),
    seccCertFile: resolve(config.seccCertFile ?? (pki ? join(pki, 'secc-chain.pem') : join(dataDir, 'secc', 'secc-chain.pem'))),
    seccKeyFile: resolve(config.seccKeyFile ?? (pki ? join(pki, 'secc-leaf.key.pem') : join(dataDir, 'secc', 'secc.key.pem'))),
    crls: config.crlDir !== undefined ? [resolve(config.crlDir)] : pki ? [pki] : [],
  };
}
