/**
 * The boundary between the ISO 15118-2 SECC and the Plug & Charge provider (the `pnc` plugin). The
 * contract lives in the plugin API, where provider plugins import it from; see
 * plugin-api/src/capabilities/iso2-pnc.ts.
 */
export type {
  Iso2CertificateChain,
  Iso2PncProvider,
  Iso2Signature,
  PncCertificateRequest,
  PncCertificateResponse,
  PncCheck,
  PncFailure,
  PncFailureCode,
} from '@opensecc/plugin-api';
