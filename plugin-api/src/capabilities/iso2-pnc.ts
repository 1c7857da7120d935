/**
 * The boundary between the ISO 15118-2 SECC (protocol: which message when, GenChallenge, response
 * codes) and whoever holds the trust stores, the keys and the backend link (the `pnc` plugin, which
 * registers itself with `V2gService.setPncProvider`). The kernel never touches certificates or keys
 * itself; without a provider it does not offer Contract payment.
 *
 * Certificates travel as the JSON mapping of the EXI codec gives them: DER as lowercase hex.
 */

/** Response codes the provider may answer a check with (the SECC puts them in the response). */
export type PncFailureCode =
  | 'FAILED'
  | 'FAILED_CertChainError'
  | 'FAILED_CertificateExpired'
  | 'FAILED_NoCertificateAvailable'
  | 'FAILED_CertificateRevoked'
  | 'FAILED_SignatureError'
  | 'FAILED_CertificateNotAllowedAtThisEVSE'
  | 'FAILED_ContractCanceled';

export type PncFailure = { readonly ok: false; readonly code: PncFailureCode; readonly reason: string };
export type PncCheck = { readonly ok: true } | PncFailure;

/** CertificateChainType: the leaf and up to four sub-CA certificates, DER as hex. */
export interface Iso2CertificateChain {
  readonly Id?: string;
  readonly Certificate: string;
  readonly SubCertificates?: { readonly Certificate: readonly string[] };
}

/** xmldsig Signature as the codec maps it (SignedInfo with References, SignatureValue). */
export type Iso2Signature = Record<string, unknown>;

/** What goes to the customer's backend (CertificateInstallationReq / CertificateUpdateReq). */
export interface PncCertificateRequest {
  readonly kind: 'installation' | 'update';
  readonly sessionId: string;
  /** The request body (EXI JSON), e.g. `{Id, OEMProvisioningCert, ListOfRootCertificateIDs}`. */
  readonly body: Record<string, unknown>;
  /** The EV's Header/Signature over the body (already verified by the SECC). */
  readonly signature: Iso2Signature;
  /** eMAID of the contract to update (update only). */
  readonly emaid?: string;
}

/** The backend's answer: the response body as it signed it and the signature for the header. */
export type PncCertificateResponse =
  | { readonly ok: true; readonly body: Record<string, unknown>; readonly signature?: Iso2Signature }
  | PncFailure;

export interface Iso2PncProvider {
  /**
   * Whether Contract may be offered now: the SECC's own certificate chain is valid (a conforming
   * EV refuses an expired one in the TLS handshake) and there is a trust store to check contracts.
   */
  contractOffer(at: Date): { readonly ok: true } | { readonly ok: false; readonly reason: string };
  /**
   * PaymentDetailsReq / CertificateUpdateReq: the contract certificate chain validated to a trusted
   * MO or V2G root and valid at `at`; the eMAID well-formed and the one of the certificate.
   */
  checkContract(chain: Iso2CertificateChain, emaid: string, at: Date): PncCheck;
  /** CertificateInstallationReq: the OEM provisioning certificate (chain-validated when OEM roots are configured). */
  checkProvisioningCertificate(certificate: string, at: Date): PncCheck;
  /**
   * An ISO 15118-2 XML signature: every Reference's digest over the EXI fragment of the element
   * with that Id (`fragments`: Id → `{ElementName: content}`), SignatureValue over SignedInfo with
   * the public key of `signerCertificate` (DER hex).
   */
  verifySignature(signature: Iso2Signature, fragments: ReadonlyMap<string, Record<string, unknown>>, signerCertificate: string): { readonly ok: true } | { readonly ok: false; readonly reason: string };
  /** Hand a certificate request to the customer's backend and wait for its signed answer (bounded by the provider's timeout). */
  forwardCertificateRequest(request: PncCertificateRequest): Promise<PncCertificateResponse>;
}
