/** Validity status of every loaded certificate, for ci/pnc/certificates and the expiry warnings. */
import type { LoadedCertificate, PncMaterial } from './material.js';
import type { CertificateEntry, CertificateStatus, CrlEntry } from './topics.js';

const DAY_MS = 86_400_000;

export function certificateEntries(material: PncMaterial, at: Date, warnBeforeExpiryDays: number): CertificateEntry[] {
  const all: LoadedCertificate[] = [
    ...material.seccChain,
    ...(['v2g', 'mo', 'oem'] as const).flatMap((store) => [...material.roots[store], ...material.intermediates[store]]),
  ];
  return all.map(({ role, file, cert }) => {
    const daysLeft = Math.floor((cert.notAfter.getTime() - at.getTime()) / DAY_MS);
    let status: CertificateStatus = 'valid';
    if (at < cert.notBefore) status = 'not_yet_valid';
    else if (at > cert.notAfter) status = 'expired';
    else if (cert.notAfter.getTime() - at.getTime() <= warnBeforeExpiryDays * DAY_MS) status = 'expiring';
    return { role, file, subject: cert.subject, notBefore: cert.notBefore.toISOString(), notAfter: cert.notAfter.toISOString(), status, daysLeft };
  });
}

export function warningMessage(entry: CertificateEntry): string | undefined {
  switch (entry.status) {
    case 'expired':
      return `${entry.role} certificate ${entry.subject} (${entry.file}) expired on ${entry.notAfter}`;
    case 'expiring':
      return `${entry.role} certificate ${entry.subject} (${entry.file}) expires on ${entry.notAfter} (${entry.daysLeft} days left)`;
    case 'not_yet_valid':
      return `${entry.role} certificate ${entry.subject} (${entry.file}) is not valid before ${entry.notBefore}`;
    default:
      return undefined;
  }
}

/** Status of every loaded CRL, for ci/pnc/crls. */
export function crlEntries(material: PncMaterial, at: Date): CrlEntry[] {
  return material.crls.map(({ file, crl, signature }) => {
    const status: CrlEntry['status'] = at < crl.thisUpdate ? 'not_yet_valid' : crl.nextUpdate && at > crl.nextUpdate ? 'expired' : 'valid';
    return {
      file,
      issuer: crl.issuer,
      thisUpdate: crl.thisUpdate.toISOString(),
      ...(crl.nextUpdate ? { nextUpdate: crl.nextUpdate.toISOString() } : {}),
      ...(crl.crlNumber !== undefined ? { crlNumber: crl.crlNumber } : {}),
      count: crl.revoked.length,
      status,
      signature,
    };
  });
}
