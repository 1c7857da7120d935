/**
 * The EV's side of Plug & Charge (ISO 15118-2 Contract payment) for the simulator and tests: the
 * contract certificate chain and key (given, or installed with the OEM provisioning certificate
 * through CertificateInstallation), PaymentDetails, the signed AuthorizationReq and
 * MeteringReceiptReq. Iso2Evcc drives the message sequence; this holds the credentials.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { decryptContractKey, emaidOf, parseCertificate, signIso2, validateChain, verifyIso2, type Iso2Signature } from '@opensecc/v2g-pki';

export interface Iso2EvccPncOptions {
  /** The contract certificate chain (leaf first, then MO sub-CAs) and the contract private key. */
  readonly contract?: { readonly chain: readonly Uint8Array[]; readonly key: KeyObject };
  /** The OEM provisioning certificate and key, for CertificateInstallation. */
  readonly oem?: { readonly certificate: Uint8Array; readonly key: KeyObject };
  /**
   * Roots the EV trusts (V2G, MO): listed in ListOfRootCertificateIDs, and the certificate
   * provisioning service's chain in CertificateInstallationRes must lead to one of them.
   */
  readonly roots?: readonly Uint8Array[];
  /** Run CertificateInstallation even when a contract is given. */
  readonly install?: boolean;
  /** Run CertificateUpdate (signed with the current contract key) before paying, and pay with the new contract. */
  readonly update?: boolean;
}

export class Iso2EvccPncError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Iso2EvccPncError';
  }
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const bytes = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));

/** xs:integer as the codec takes it: a number when safe, else a decimal string. */
function serialNumberValue(serialHex: string): number | string {
  const value = BigInt(`0x${serialHex || '0'}`);
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
}

export class Iso2EvPnc {
  private chain: Uint8Array[] | undefined;
  private key: KeyObject | undefined;
  /** The contract came from CertificateInstallation in this session. */
  installed = false;
  /** The contract was renewed by CertificateUpdate in this session. */
  updated = false;

  constructor(private readonly options: Iso2EvccPncOptions) {
    if (options.contract) {
      this.chain = [...options.contract.chain];
      this.key = options.contract.key;
    }
    if (!options.contract && !options.oem) throw new Iso2EvccPncError('Plug & Charge needs a contract certificate and key, or an OEM provisioning certificate and key to install one');
  }

  get needsInstallation(): boolean {
    return this.options.install === true || !this.chain;
  }

  /** CertificateUpdate is wanted and there is a contract to update (not one installed just now). */
  get needsUpdate(): boolean {
    return this.options.update === true && !this.installed && !this.updated && this.chain !== undefined;
  }

  /** Hex serial number of the current contract certificate. */
  get contractSerial(): string | undefined {
    const leaf = this.chain?.[0];
    return leaf ? parseCertificate(leaf).serialNumber : undefined;
  }

  get contractKey(): KeyObject {
    if (!this.key) throw new Iso2EvccPncError('no contract key');
    return this.key;
  }

  get oemKey(): KeyObject {
    if (!this.options.oem) throw new Iso2EvccPncError('CertificateInstallation needs the OEM provisioning certificate and key');
    return this.options.oem.key;
  }

  /** The eMAID of the contract certificate. */
  get emaid(): string {
    const leaf = this.chain?.[0];
    const emaid = leaf ? emaidOf(leaf) : undefined;
    if (!emaid) throw new Iso2EvccPncError('the contract certificate carries no eMAID');
    return emaid;
  }

  installationRequest(id = 'id1'): Record<string, unknown> {
    const oem = this.options.oem;
    if (!oem) throw new Iso2EvccPncError('CertificateInstallation needs the OEM provisioning certificate and key');
    return { Id: id, OEMProvisioningCert: hex(oem.certificate), ListOfRootCertificateIDs: this.rootIds('CertificateInstallation') };
  }

  /** CertificateUpdateReq: the current contract chain and eMAID; the EV signs it with the current contract key. */
  updateRequest(id = 'id1'): Record<string, unknown> {
    return { Id: id, ...this.paymentDetails(), ListOfRootCertificateIDs: this.rootIds('CertificateUpdate') };
  }

  private rootIds(what: string): Record<string, unknown> {
    const roots = (this.options.roots ?? []).map((der) => parseCertificate(der));
    if (roots.length === 0) throw new Iso2EvccPncError(`${what} needs at least one trusted root (ListOfRootCertificateIDs)`);
    return { RootCertificateID: roots.slice(0, 20).map((r) => ({ X509IssuerName: r.issuer, X509SerialNumber: serialNumberValue(r.serialNumber) })) };
  }

  /**
   * CertificateInstallationRes: the CPS signature over the four contract elements, the CPS chain to
   * a trusted root, then the contract key decrypted with the OEM provisioning key.
   */
  acceptInstallation(body: Record<string, unknown>, signature: unknown, at = new Date()): void {
    this.acceptContract('CertificateInstallationRes', body, signature, this.oemKey, at);
    this.installed = true;
  }

  /** CertificateUpdateRes: checked as an installation response; the new contract key is encrypted for the old one. */
  acceptUpdate(body: Record<string, unknown>, signature: unknown, at = new Date()): void {
    this.acceptContract('CertificateUpdateRes', body, signature, this.contractKey, at);
    this.updated = true;
  }

  private acceptContract(name: string, body: Record<string, unknown>, signature: unknown, receiverKey: KeyObject, at: Date): void {
    const cpsChain = body.SAProvisioningCertificateChain as { Certificate?: string; SubCertificates?: { Certificate?: string[] } } | undefined;
    if (!cpsChain?.Certificate) throw new Iso2EvccPncError(`${name} without SAProvisioningCertificateChain`);
    const cps = bytes(cpsChain.Certificate);
    if (this.options.roots && this.options.roots.length > 0) {
      const valid = validateChain({ leaf: cps, subCertificates: (cpsChain.SubCertificates?.Certificate ?? []).map(bytes), trustAnchors: this.options.roots, at, expectedLeafRole: 'cps' });
      if (!valid.ok) throw new Iso2EvccPncError(`certificate provisioning service chain not trusted (${valid.code}): ${valid.reason}`);
    }
    const contract = body.ContractSignatureCertChain as { Id?: string; Certificate?: string; SubCertificates?: { Certificate?: string[] } } | undefined;
    const encrypted = body.ContractSignatureEncryptedPrivateKey as { Id?: string; CONTENT?: string } | undefined;
    const dh = body.DHpublickey as { Id?: string; CONTENT?: string } | undefined;
    const emaid = body.eMAID as { Id?: string; CONTENT?: string } | undefined;
    const parts: Array<[string, { Id?: string } | undefined]> = [
      ['ContractSignatureCertChain', contract],
      ['ContractSignatureEncryptedPrivateKey', encrypted],
      ['DHpublickey', dh],
      ['eMAID', emaid],
    ];
    const fragments = new Map<string, object>();
    for (const [part, element] of parts) {
      if (!element || typeof element.Id !== 'string') throw new Iso2EvccPncError(`${name}: ${part} without Id`);
      const fragment = { [part]: element };
      fragments.set(element.Id, fragment);
    }
    const verified = verifyIso2(signature, fragments, cps);
    if (!verified.ok) throw new Iso2EvccPncError(`${name} signature: ${verified.reason}`);
    const key = decryptContractKey({ encryptedPrivateKey: encrypted!.CONTENT ?? '', dhPublicKey: dh!.CONTENT ?? '' }, receiverKey);
    const chain = [bytes(contract!.Certificate ?? ''), ...(contract!.SubCertificates?.Certificate ?? []).map(bytes)];
    // The decrypted key must be the one of the delivered certificate (a mix-up would fail only at the first signature).
    const point = (k: KeyObject) => (k.type === 'private' ? createPublicKey(k) : k).export({ format: 'jwk' }).x;
    if (point(key) !== point(parseCertificate(chain[0]!).publicKey)) throw new Iso2EvccPncError(`${name}: the decrypted contract key does not belong to the contract certificate`);
    this.key = key;
    this.chain = chain;
  }

  paymentDetails(): Record<string, unknown> {
    if (!this.chain) throw new Iso2EvccPncError('no contract certificate');
    const [leaf, ...subs] = this.chain;
    return {
      eMAID: this.emaid,
      ContractSignatureCertChain: { Certificate: hex(leaf!), ...(subs.length > 0 ? { SubCertificates: { Certificate: subs.map(hex) } } : {}) },
    };
  }

  /** Signs `{[name]: body}` (body with its Id) with the key; the result goes into Header/Signature. */
  static sign(name: string, body: Record<string, unknown>, key: KeyObject): Iso2Signature {
    const id = body.Id;
    if (typeof id !== 'string') throw new Iso2EvccPncError(`${name} has no Id to sign`);
    return signIso2([{ id, fragment: { [name]: body } }], key);
  }
}
