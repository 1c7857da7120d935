/**
 * The Plug & Charge steps of the ISO 15118-2 SECC (Contract payment), on decoded documents: what
 * the protocol itself requires (which elements, the GenChallenge round trip, which element a
 * signature must cover, which response code a failure gets), with the cryptography and the trust
 * decisions delegated to the `Iso2PncProvider`. One instance per Iso2SeccSession.
 *
 * - PaymentDetailsReq: the contract chain and eMAID are checked by the provider; the answer
 *   carries a fresh 16-byte GenChallenge.
 * - AuthorizationReq: the first one after PaymentDetails must carry that GenChallenge (else
 *   FAILED_ChallengeInvalid, which also catches a request replayed from an earlier session) and a
 *   Header/Signature over the AuthorizationReq element by the contract key (else
 *   FAILED_SignatureError). Repeated AuthorizationReqs while EVSEProcessing=Ongoing may leave both
 *   out; if they carry them they are checked the same way.
 * - MeteringReceiptReq: signed by the contract key (else FAILED_MeteringSignatureNotValid).
 * - CertificateInstallationReq / CertificateUpdateReq: the EV's signature is verified (OEM
 *   provisioning certificate / the old, chain-validated contract certificate), then the request goes
 *   to the backend; its signed answer is returned as it came.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '@opensecc/plugin-api';
import type { Iso2ResponseCode } from './messages.js';
import type { Iso2CertificateChain, Iso2PncProvider, Iso2Signature, PncCertificateResponse } from './pnc.js';

export type PncStep =
  | { readonly ok: true; readonly body: Record<string, unknown>; readonly signature?: Iso2Signature }
  | { readonly ok: false; readonly code: Iso2ResponseCode; readonly why: string };

/**
 * The EV waits 5 s for CertificateInstallationRes/CertificateUpdateRes (V2G_EVCC_Msg_Timeout); the
 * SECC answers FAILED before that even when the provider's own timeout is configured longer.
 */
export const PNC_BACKEND_CAP_MS = 4_500;

/** Header/Signature of a `{V2G_Message: …}` document, if any. */
export function headerSignature(document: unknown): Iso2Signature | undefined {
  const signature = (document as { V2G_Message?: { Header?: { Signature?: unknown } } } | undefined)?.V2G_Message?.Header?.Signature;
  return signature && typeof signature === 'object' ? (signature as Iso2Signature) : undefined;
}

/** The Ids the signature's References point at (`URI="#id"`). */
export function referencedIds(signature: Iso2Signature): string[] {
  const references = (signature.SignedInfo as { Reference?: Array<{ URI?: unknown }> } | undefined)?.Reference ?? [];
  return references.map((r) => (typeof r.URI === 'string' && r.URI.startsWith('#') ? r.URI.slice(1) : '')).filter((id) => id !== '');
}

export interface Iso2PncFlowDeps {
  readonly provider?: Iso2PncProvider | undefined;
  /** The V2G connection is TLS-protected (Contract is offered only then). */
  readonly secure: boolean;
  readonly now: () => number;
  readonly log: Logger;
}

const fail = (code: Iso2ResponseCode, why: string): PncStep => ({ ok: false, code, why });

export class Iso2PncFlow {
  private contractCertificate: string | undefined;
  private contractEmaid: string | undefined;
  private challenge: string | undefined;
  private authorized = false;

  constructor(private readonly deps: Iso2PncFlowDeps) {}

  /** The eMAID of the contract checked in PaymentDetails. */
  get emaid(): string | undefined {
    return this.contractEmaid;
  }

  /** Whether Contract can be offered on this connection, and why not. */
  offer(): { ok: true } | { ok: false; reason: string } {
    const provider = this.deps.provider;
    if (!provider) return { ok: false, reason: 'no Plug & Charge provider (plugin pnc) is running' };
    if (!this.deps.secure) return { ok: false, reason: 'the connection is not TLS-protected' };
    try {
      return provider.contractOffer(this.at());
    } catch (error) {
      return { ok: false, reason: `provider failed: ${(error as Error).message}` };
    }
  }

  paymentDetails(body: Record<string, unknown>): PncStep {
    const provider = this.deps.provider;
    if (!provider) return fail('FAILED', 'no Plug & Charge provider');
    const emaid = body.eMAID;
    const chain = chainOf(body.ContractSignatureCertChain);
    if (typeof emaid !== 'string') return fail('FAILED', 'PaymentDetailsReq without eMAID');
    if (!chain) return fail('FAILED_CertChainError', 'PaymentDetailsReq without a ContractSignatureCertChain certificate');
    const check = this.guard(() => provider.checkContract(chain, emaid, this.at()));
    if (!check.ok) return fail(check.code, check.reason);
    this.contractCertificate = chain.Certificate.toLowerCase();
    this.contractEmaid = emaid;
    this.challenge = randomBytes(16).toString('hex');
    this.authorized = false;
    return { ok: true, body: { ResponseCode: 'OK', GenChallenge: this.challenge, EVSETimeStamp: Math.floor(this.deps.now() / 1000) } };
  }

  /** The PnC checks of an AuthorizationReq; the customer's decision (ci/hlc/evse/authorization) follows. */
  authorization(body: Record<string, unknown>, signature: Iso2Signature | undefined): PncStep {
    const name = 'AuthorizationReq';
    const challenge = typeof body.GenChallenge === 'string' ? body.GenChallenge.toLowerCase() : undefined;
    if (this.authorized && challenge === undefined && signature === undefined) return { ok: true, body: {} };
    if (!this.challenge || !this.contractCertificate) return fail('FAILED_SequenceError', 'AuthorizationReq before PaymentDetails');
    if (challenge === undefined) return fail('FAILED_ChallengeInvalid', 'AuthorizationReq without GenChallenge');
    if (challenge !== this.challenge) return fail('FAILED_ChallengeInvalid', `GenChallenge ${challenge} is not the one sent in PaymentDetailsRes`);
    const verified = this.verify(name, body, signature, this.contractCertificate);
    if (!verified.ok) return fail('FAILED_SignatureError', verified.reason);
    this.authorized = true;
    return { ok: true, body: {} };
  }

  meteringReceipt(body: Record<string, unknown>, signature: Iso2Signature | undefined): PncStep {
    if (!this.contractCertificate) return fail('FAILED_MeteringSignatureNotValid', 'no contract certificate in this session');
    const verified = this.verify('MeteringReceiptReq', body, signature, this.contractCertificate);
    return verified.ok ? { ok: true, body: {} } : fail('FAILED_MeteringSignatureNotValid', verified.reason);
  }

  async certificateInstallation(body: Record<string, unknown>, signature: Iso2Signature | undefined, sessionId: string): Promise<PncStep> {
    const provider = this.deps.provider;
    if (!provider) return fail('FAILED', 'no Plug & Charge provider');
    const oem = body.OEMProvisioningCert;
    if (typeof oem !== 'string' || oem.length === 0) return fail('FAILED_NoCertificateAvailable', 'CertificateInstallationReq without OEMProvisioningCert');
    const check = this.guard(() => provider.checkProvisioningCertificate(oem, this.at()));
    if (!check.ok) return fail(check.code, check.reason);
    const verified = this.verify('CertificateInstallationReq', body, signature, oem);
    if (!verified.ok) return fail('FAILED_SignatureError', verified.reason);
    return this.forward({ kind: 'installation', sessionId, body, signature: signature! }, 'CertificateInstallationRes');
  }

  async certificateUpdate(body: Record<string, unknown>, signature: Iso2Signature | undefined, sessionId: string): Promise<PncStep> {
    const provider = this.deps.provider;
    if (!provider) return fail('FAILED', 'no Plug & Charge provider');
    const chain = chainOf(body.ContractSignatureCertChain);
    const emaid = body.eMAID;
    if (!chain) return fail('FAILED_CertChainError', 'CertificateUpdateReq without a ContractSignatureCertChain certificate');
    if (typeof emaid !== 'string') return fail('FAILED', 'CertificateUpdateReq without eMAID');
    const check = this.guard(() => provider.checkContract(chain, emaid, this.at()));
    if (!check.ok) return fail(check.code, check.reason);
    const verified = this.verify('CertificateUpdateReq', body, signature, chain.Certificate);
    if (!verified.ok) return fail('FAILED_SignatureError', verified.reason);
    return this.forward({ kind: 'update', sessionId, body, signature: signature!, emaid }, 'CertificateUpdateRes');
  }

  private async forward(request: Parameters<Iso2PncProvider['forwardCertificateRequest']>[0], responseName: string): Promise<PncStep> {
    const provider = this.deps.provider!;
    let timer: NodeJS.Timeout | undefined;
    const cap = new Promise<PncCertificateResponse>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, code: 'FAILED', reason: `no backend answer within ${PNC_BACKEND_CAP_MS} ms` }), PNC_BACKEND_CAP_MS);
    });
    let answer: PncCertificateResponse;
    try {
      answer = await Promise.race([provider.forwardCertificateRequest(request), cap]);
    } catch (error) {
      answer = { ok: false, code: 'FAILED', reason: `backend link failed: ${(error as Error).message}` };
    } finally {
      clearTimeout(timer);
    }
    if (!answer.ok) return fail(answer.code, answer.reason);
    if (typeof answer.body.ResponseCode !== 'string') return fail('FAILED', `the backend's ${responseName} has no ResponseCode`);
    return { ok: true, body: answer.body, ...(answer.signature ? { signature: answer.signature } : {}) };
  }

  /** The signature covers the element `name` (by its Id) and verifies with the certificate's key. */
  private verify(name: string, body: Record<string, unknown>, signature: Iso2Signature | undefined, certificate: string): { ok: true } | { ok: false; reason: string } {
    if (!signature) return { ok: false, reason: `${name} without Header/Signature` };
    const id = body.Id;
    if (typeof id !== 'string' || id.length === 0) return { ok: false, reason: `${name} without the Id attribute the signature refers to` };
    const ids = referencedIds(signature);
    if (!ids.includes(id)) return { ok: false, reason: `the signature does not cover ${name} (Id ${id}; references: ${ids.join(', ') || 'none'})` };
    if (ids.length !== 1) return { ok: false, reason: `the signature of ${name} refers to other elements too (${ids.join(', ')})` };
    try {
      return this.deps.provider!.verifySignature(signature, new Map([[id, { [name]: body }]]), certificate);
    } catch (error) {
      return { ok: false, reason: `signature not verifiable: ${(error as Error).message}` };
    }
  }

  private guard(check: () => { ok: true } | { ok: false; code: Iso2ResponseCode; reason: string }): { ok: true } | { ok: false; code: Iso2ResponseCode; reason: string } {
    try {
      return check();
    } catch (error) {
      this.deps.log.error({ err: error }, 'Plug & Charge provider failed');
      return { ok: false, code: 'FAILED', reason: `provider failed: ${(error as Error).message}` };
    }
  }

  private at(): Date {
    return new Date(this.deps.now());
  }
}

function chainOf(value: unknown): Iso2CertificateChain | undefined {
  const chain = value as { Certificate?: unknown; SubCertificates?: { Certificate?: unknown } } | undefined;
  if (!chain || typeof chain.Certificate !== 'string' || chain.Certificate.length === 0) return undefined;
  const subs = chain.SubCertificates?.Certificate;
  return {
    Certificate: chain.Certificate,
    ...(Array.isArray(subs) ? { SubCertificates: { Certificate: subs.filter((c): c is string => typeof c === 'string') } } : {}),
  };
}
