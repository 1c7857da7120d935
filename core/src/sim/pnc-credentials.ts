/**
 * The simulated EV's Plug & Charge credentials from files: a PKI directory written by
 * `secc pki generate`, and/or single files that override it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadKey, readCertificate, readChain } from '@opensecc/v2g-pki';
import type { Iso2EvccPncOptions } from '../v2g/iso2/evcc-pnc.js';

export interface EvPncFiles {
  /** `secc pki generate` output: contract-chain.pem, contract.key.pem, oem-provisioning.*, v2g-root.pem, mo-root.pem. */
  readonly pkiDir?: string;
  /** Contract certificate chain, leaf first (PEM). */
  readonly contractCert?: string;
  readonly contractKey?: string;
  readonly oemCert?: string;
  readonly oemKey?: string;
  /** Root certificates the EV trusts (PEM, each file may hold several). */
  readonly roots?: readonly string[];
  /** CertificateInstallation before PaymentDetails, even with a contract at hand. */
  readonly install?: boolean;
  /** CertificateUpdate of the contract at hand before PaymentDetails. */
  readonly update?: boolean;
}

export class EvPncFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EvPncFileError';
  }
}

function read<T>(file: string, what: string, load: (file: string) => T): T {
  try {
    return load(file);
  } catch (error) {
    throw new EvPncFileError(`${what} ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : (error as Error).message}`);
  }
}

/** The Iso2Evcc Plug & Charge options; throws EvPncFileError naming the file that is missing or bad. */
export function loadEvPncCredentials(files: EvPncFiles): Iso2EvccPncOptions {
  const dir = files.pkiDir;
  if (dir !== undefined && !existsSync(dir)) throw new EvPncFileError(`PKI directory ${dir}: not found (create one with 'secc pki generate ${dir}')`);
  const inDir = (name: string) => (dir && existsSync(join(dir, name)) ? join(dir, name) : undefined);
  // With --install-certificate and a PKI dir the EV starts without a contract, as a new car would.
  const contractCert = files.contractCert ?? (files.install ? undefined : inDir('contract-chain.pem'));
  const contractKey = files.contractKey ?? (files.install ? undefined : inDir('contract.key.pem'));
  const oemCert = files.oemCert ?? inDir('oem-provisioning.pem');
  const oemKey = files.oemKey ?? inDir('oem-provisioning.key.pem');
  const rootFiles = files.roots && files.roots.length > 0 ? files.roots : [inDir('v2g-root.pem'), inDir('mo-root.pem')].filter((f): f is string => f !== undefined);
  if ((contractCert === undefined) !== (contractKey === undefined)) throw new EvPncFileError('the contract certificate and its key go together (--contract-cert and --contract-key)');
  if ((oemCert === undefined) !== (oemKey === undefined)) throw new EvPncFileError('the OEM provisioning certificate and its key go together (--oem-cert and --oem-key)');
  if (contractCert === undefined && oemCert === undefined) {
    throw new EvPncFileError('Plug & Charge needs a contract (--contract-cert/--contract-key) or an OEM provisioning certificate to install one (--oem-cert/--oem-key), or --pki DIR');
  }
  if (files.update && files.install) throw new EvPncFileError('--update-certificate and --install-certificate exclude each other (an installed contract is new)');
  if (files.update && contractCert === undefined) throw new EvPncFileError('--update-certificate needs a contract to renew (--contract-cert/--contract-key or --pki DIR)');
  return {
    ...(contractCert && contractKey ? { contract: { chain: read(contractCert, 'contract certificate', readChain), key: read(contractKey, 'contract key', loadKey) } } : {}),
    ...(oemCert && oemKey ? { oem: { certificate: read(oemCert, 'OEM provisioning certificate', readCertificate), key: read(oemKey, 'OEM provisioning key', loadKey) } } : {}),
    roots: rootFiles.flatMap((file) => read(file, 'root certificate', readChain)),
    ...(files.install ? { install: true } : {}),
    ...(files.update ? { update: true } : {}),
  };
}
