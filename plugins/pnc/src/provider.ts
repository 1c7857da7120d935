/**
 * The kernel's Plug & Charge provider: trust decisions and signature checks with @opensecc/v2g-pki
 * over the currently loaded material, and the backend link for certificate requests.
 */
import { emaidOf, isValidEmaid, parseCertificate, validateChain, verifyIso2, type ParsedCert } from '@opensecc/v2g-pki';
import type { Iso2CertificateChain, Iso2PncProvider, Iso2Signature, Logger, PncCertificateRequest, PncCertificateResponse, PncCheck } from '@opensecc/plugin-api';
import type { BackendLink } from './backend-link.js';
import type { LoadedCertificate, PncMaterial } from './material.js';

const der = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));
const ders = (list: readonly LoadedCertificate[]) => list.map((c) => c.cert.der);
/** EMAIDs compare without the optional separators and case-insensitively (ISO 15118-2 Annex H). */
const normalEmaid = (emaid: string) => emaid.replace(/-/g, '').toUpperCase();

export class PncProvider implements Iso2PncProvider {
  constructor(
    private readonly material: () => PncMaterial,
    private readonly link: BackendLink,
    private readonly log?: Logger,
  ) {}

  /** validateChain with the loaded CRLs; a CRL ignored on the way (bad signature) is logged. */
  private validate(input: Omit<Parameters<typeof validateChain>[0], 'crls'>): ReturnType<typeof validateChain> {
    const result = validateChain({ ...input, crls: this.material().crls.map((c) => c.crl) });
    for (const reason of result.ignoredCrls ?? []) this.log?.warn({ reason }, 'certificate revocation list ignored');
    return result;
  }

  contractOffer(at: Date): { ok: true } | { ok: false; reason: string } {
    const m = this.material();
    const leaf = m.seccChain[0];
    if (!leaf) return { ok: false, reason: 'no SECC certificate loaded' };
    if (!m.seccKey) return { ok: false, reason: 'no usable SECC private key' };
    if (m.roots.mo.length + m.roots.v2g.length === 0) return { ok: false, reason: 'no MO or V2G root to check contract certificates against' };
    const chain = this.validate({ leaf: leaf.cert.der, subCertificates: ders(m.seccChain.slice(1)), trustAnchors: ders(m.roots.v2g), at, expectedLeafRole: 'secc' });
    if (!chain.ok) return { ok: false, reason: `SECC certificate chain not valid (${chain.code}): ${chain.reason}` };
    return { ok: true };
  }

  checkContract(chain: Iso2CertificateChain, emaid: string, at: Date): PncCheck {
    const m = this.material();
    let leaf: Uint8Array;
    try {
      leaf = der(chain.Certificate);
    } catch {
      return { ok: false, code: 'FAILED_CertChainError', reason: 'contract certificate is not hex' };
    }
    const result = this.validate({
      leaf,
      subCertificates: (chain.SubCertificates?.Certificate ?? []).map(der),
      trustAnchors: [...ders(m.roots.mo), ...ders(m.roots.v2g)],
      at,
      expectedLeafRole: 'contract',
    });
    if (!result.ok) return { ok: false, code: result.code, reason: result.reason };
    if (!isValidEmaid(emaid)) return { ok: false, code: 'FAILED_CertChainError', reason: `eMAID "${emaid}" is not a well-formed EMAID` };
    const certified = emaidOf(leaf);
    if (certified === undefined || normalEmaid(certified) !== normalEmaid(emaid)) {
      return { ok: false, code: 'FAILED_CertChainError', reason: `eMAID "${emaid}" is not the one of the contract certificate ("${certified ?? 'none'}")` };
    }
    return { ok: true };
  }

  checkProvisioningCertificate(certificate: string, at: Date): PncCheck {
    const m = this.material();
    // Without OEM roots the SECC cannot judge the chain: the backend (and the CPS) do; the signature is still checked.
    if (m.roots.oem.length === 0) return { ok: true };
    const leaf = der(certificate);
    const subs = issuerPath(leaf, m.intermediates.oem.map((c) => c.cert));
    const result = this.validate({ leaf, subCertificates: subs, trustAnchors: ders(m.roots.oem), at, expectedLeafRole: 'oem' });
    return result.ok ? { ok: true } : { ok: false, code: result.code, reason: `OEM provisioning certificate: ${result.reason}` };
  }

  verifySignature(signature: Iso2Signature, fragments: ReadonlyMap<string, Record<string, unknown>>, signerCertificate: string): { ok: true } | { ok: false; reason: string } {
    return verifyIso2(signature, fragments, der(signerCertificate));
  }

  forwardCertificateRequest(request: PncCertificateRequest): Promise<PncCertificateResponse> {
    return this.link.request(request);
  }
}

/** The sub-CAs from `candidates` that lead from the leaf's issuer upwards, issuer first. */
function issuerPath(leafDer: Uint8Array, candidates: readonly ParsedCert[]): Uint8Array[] {
  const path: Uint8Array[] = [];
  let issuer: string;
  try {
    issuer = parseCertificate(leafDer).issuer;
  } catch {
    return path;
  }
  for (let i = 0; i < 4; i++) {
    const next = candidates.find((c) => c.subject === issuer);
    if (!next || next.selfSigned) break;
    path.push(next.der);
    issuer = next.issuer;
  }
  return path;
}
