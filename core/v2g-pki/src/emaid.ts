/**
 * EMAID (e-mobility account identifier) per ISO 15118-2 Annex H / DIN SPEC 91286:
 * country code (2 letters) + provider ID (3 alphanumerics) + ID type 'C' + instance
 * (8 alphanumerics) + optional check character: 14 or 15 characters, e.g. DEABCC0000001X.
 * The separated form (DE-ABC-C00000001-X, '-' between the parts) is accepted too.
 *
 * What is checked: length, character classes and the positions above (case-insensitive).
 * The check character is NOT verified (its DIN SPEC 91286 matrix algorithm is not implemented):
 * any alphanumeric is accepted there.
 */
import { X509Certificate } from 'node:crypto';
import { x509 } from './x509-setup.js';

const EMAID = /^([A-Z]{2})-?([A-Z0-9]{3})-?(C)([A-Z0-9]{8})(?:-?([A-Z0-9]))?$/i;

export function isValidEmaid(s: string): boolean {
  return typeof s === 'string' && s.length <= 18 && EMAID.test(s);
}

/** The EMAID (subject CN) of a contract certificate; undefined when the CN is no EMAID. */
export function emaidOf(certDer: Uint8Array): string | undefined {
  new X509Certificate(certDer); // throws a clear error for non-certificates
  const cn = new x509.X509Certificate(certDer).subjectName.getField('CN')[0];
  return cn !== undefined && isValidEmaid(cn) ? cn : undefined;
}
