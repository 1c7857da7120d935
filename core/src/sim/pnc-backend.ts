/**
 * A simulated certificate backend (what a CSMS + certificate provisioning service would do behind
 * OCPP Get15118EVCertificate), for `secc start --sim` with a Plug & Charge PKI and for tests. It
 * answers each request of the pnc plugin (ci/pnc/certificate_{installation,update}/request) with a
 * CertificateInstallationRes/CertificateUpdateRes carrying a contract certificate issued for this
 * request (a fresh key pair, signed by the PKI directory's MO sub-CA 2), the contract key encrypted
 * for the EV (its OEM provisioning certificate, or its old contract certificate for an update), and
 * the CPS leaf's signature over ContractSignatureCertChain, ContractSignatureEncryptedPrivateKey,
 * DHpublickey and eMAID, as ISO 15118-2 requires.
 *
 * The eMAID of an installation is derived from the EV's PCID (the OEM provisioning certificate's
 * CN), so the same car always gets the same contract account; an update keeps the old contract's
 * eMAID. The PKI directory is one written by `secc pki generate` (contract-chain.pem for the MO
 * sub-CAs, mo-sub-ca-2.key.pem, cps-chain.pem, cps-leaf.key.pem).
 */
import { join } from 'node:path';
import { createHash, type KeyObject } from 'node:crypto';
import type { Bus, Logger, Unsubscribe } from '@opensecc/plugin-api';
import { emaidOf, encryptContractKey, generateKeyPair, issueCertificate, loadKey, parseCertificate, readCertificate, readChain, signIso2 } from '@opensecc/v2g-pki';

export const SIM_PNC_TOPICS = {
  installationRequest: 'ci/pnc/certificate_installation/request',
  installationResponse: 'ci/pnc/certificate_installation/response',
  updateRequest: 'ci/pnc/certificate_update/request',
  updateResponse: 'ci/pnc/certificate_update/response',
} as const;

export interface SimPncBackendOptions {
  readonly bus: Bus;
  readonly log: Logger;
  /** A directory written by `secc pki generate`. */
  readonly pkiDir: string;
  /** Tests: answer nothing (the SECC's timeout applies), or answer Failed. */
  readonly behaviour?: 'answer' | 'silent' | 'fail';
}

interface RequestMessage {
  readonly requestId: string;
  readonly sessionId: string;
  readonly request: Record<string, Record<string, unknown>>;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** A contract certificate the backend issued. */
export interface IssuedContract {
  readonly kind: 'installation' | 'update';
  readonly emaid: string;
  readonly serialNumber: string;
  readonly sessionId: string;
}

/**
 * The eMAID for an EV: the MO's country and provider ID (from `template`, e.g. DEABCC0000001X →
 * DE ABC), ID type C and eight characters derived from the PCID (base 36 of its SHA-256).
 */
export function emaidForPcid(pcid: string, template: string): string {
  const prefix = template.replace(/-/g, '').slice(0, 5).toUpperCase();
  const digest = BigInt(`0x${createHash('sha256').update(pcid).digest('hex').slice(0, 16)}`);
  const instance = digest.toString(36).toUpperCase().padStart(8, '0').slice(-8);
  return `${prefix}C${instance}`;
}

export class SimPncBackend {
  private readonly unsubscribes: Unsubscribe[] = [];
  private material: { moSubCas: Uint8Array[]; moSub2Key: KeyObject; cpsChain: Uint8Array[]; cpsKey: KeyObject; emaid: string } | undefined;
  answered = 0;
  /** Every contract certificate issued, oldest first. */
  readonly issued: IssuedContract[] = [];

  constructor(private readonly options: SimPncBackendOptions) {}

  start(): void {
    const dir = this.options.pkiDir;
    const contractChain = readChain(join(dir, 'contract-chain.pem'));
    const emaid = emaidOf(contractChain[0]!);
    if (!emaid) throw new Error(`${join(dir, 'contract-chain.pem')}: the contract certificate carries no eMAID`);
    this.material = {
      moSubCas: contractChain.slice(1),
      moSub2Key: loadKey(join(dir, 'mo-sub-ca-2.key.pem')),
      cpsChain: readChain(join(dir, 'cps-chain.pem')),
      cpsKey: loadKey(join(dir, 'cps-leaf.key.pem')),
      emaid,
    };
    const bus = this.options.bus;
    this.unsubscribes.push(bus.subscribe<RequestMessage>(SIM_PNC_TOPICS.installationRequest, (m) => this.answer('installation', m.value)));
    this.unsubscribes.push(bus.subscribe<RequestMessage>(SIM_PNC_TOPICS.updateRequest, (m) => this.answer('update', m.value)));
    this.options.log.info({ pkiDir: dir, emaid }, 'simulated certificate backend ready');
  }

  stop(): void {
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
  }

  private answer(kind: 'installation' | 'update', message: RequestMessage): void {
    const behaviour = this.options.behaviour ?? 'answer';
    const topic = kind === 'installation' ? SIM_PNC_TOPICS.installationResponse : SIM_PNC_TOPICS.updateResponse;
    // Asynchronously, as a real backend would: not inside the publisher's bus call.
    const reply = (value: Record<string, unknown>): void => {
      setImmediate(() => {
        try {
          this.options.bus.publish(topic, { requestId: message.requestId, sessionId: message.sessionId, ...value }, { retain: false });
          this.answered++;
        } catch (error) {
          this.options.log.error({ err: error }, 'simulated certificate backend could not answer');
        }
      });
    };
    if (behaviour === 'silent') return;
    if (behaviour === 'fail') return reply({ status: 'Failed' });
    this.response(kind, message).then(
      ({ body, signature }) => {
        this.options.log.info({ sessionId: message.sessionId, kind, emaid: (body.eMAID as { CONTENT: string }).CONTENT }, 'simulated certificate backend answers');
        reply({ status: 'Accepted', response: { [kind === 'installation' ? 'CertificateInstallationRes' : 'CertificateUpdateRes']: body }, signature });
      },
      (error: unknown) => {
        this.options.log.error({ err: error, kind }, 'simulated certificate backend cannot build a response');
        reply({ status: 'Failed' });
      },
    );
  }

  /** The signed response body for a request, with a contract certificate issued for it. */
  async response(kind: 'installation' | 'update', message: RequestMessage): Promise<{ body: Record<string, unknown>; signature: unknown }> {
    const m = this.material;
    if (!m) throw new Error('simulated certificate backend not started');
    const req = kind === 'installation' ? message.request.CertificateInstallationReq : message.request.CertificateUpdateReq;
    // The contract key is encrypted for the EV: its OEM provisioning key (installation) or its old contract key (update).
    const receiver = kind === 'installation' ? (req?.OEMProvisioningCert as string | undefined) : (req?.ContractSignatureCertChain as { Certificate?: string } | undefined)?.Certificate;
    if (!receiver) throw new Error(`request without the ${kind === 'installation' ? 'OEM provisioning' : 'old contract'} certificate`);
    const receiverCert = readCertificate(new Uint8Array(Buffer.from(receiver, 'hex')));
    const emaid = kind === 'installation' ? emaidForPcid(parseCertificate(receiverCert).commonName ?? receiver, m.emaid) : (emaidOf(receiverCert) ?? String(req?.eMAID ?? ''));
    const contract = await this.issueContract(emaid);
    this.issued.push({ kind, emaid, serialNumber: contract.serialNumber, sessionId: message.sessionId });
    this.options.log.info({ kind, emaid, serialNumber: contract.serialNumber }, 'simulated certificate backend issued a contract certificate');
    const encrypted = encryptContractKey(contract.key, receiverCert);
    const [cpsLeaf, ...cpsSubs] = m.cpsChain;
    const [contractLeaf, ...contractSubs] = contract.chain;
    const elements = {
      ContractSignatureCertChain: { Id: 'id1', Certificate: hex(contractLeaf!), SubCertificates: { Certificate: contractSubs.map(hex) } },
      ContractSignatureEncryptedPrivateKey: { Id: 'id2', CONTENT: encrypted.encryptedPrivateKey },
      DHpublickey: { Id: 'id3', CONTENT: encrypted.dhPublicKey },
      eMAID: { Id: 'id4', CONTENT: emaid },
    };
    // ISO 15118-2: the CPS signs all four elements.
    const signed = Object.entries(elements).map(([name, element]) => ({ id: element.Id, fragment: { [name]: element } }));
    const signature = signIso2(signed, m.cpsKey);
    const body = {
      ResponseCode: 'OK',
      SAProvisioningCertificateChain: { Certificate: hex(cpsLeaf!), ...(cpsSubs.length > 0 ? { SubCertificates: { Certificate: cpsSubs.map(hex) } } : {}) },
      ...elements,
    };
    return { body, signature };
  }

  /** A new key pair and its contract certificate from MO sub-CA 2 (valid a year, at most as long as the sub-CA). */
  private async issueContract(emaid: string): Promise<{ chain: Uint8Array[]; key: KeyObject; serialNumber: string }> {
    const m = this.material!;
    const moSub2 = m.moSubCas[0]!;
    const { publicKey, privateKey } = await generateKeyPair();
    const now = new Date();
    const notBefore = new Date(now.getTime() - 3_600_000);
    const yearLater = new Date(notBefore.getTime() + 365 * 86_400_000);
    const issuerEnd = parseCertificate(moSub2).notAfter;
    const cert = await issueCertificate({ role: 'contract', issuerCert: moSub2, issuerKey: m.moSub2Key, publicKey, emaid, notBefore, notAfter: issuerEnd < yearLater ? issuerEnd : yearLater });
    return { chain: [cert.der, ...m.moSubCas], key: privateKey, serialNumber: cert.serialNumber };
  }
}
