/**
 * ISO 15118-2 XML signatures over EXI (7.9.2.4, xmldsig with EXI canonicalization):
 * each signed element is digested as its EXI fragment (iso2 schema), the SignedInfo is
 * signed as its EXI fragment (xmldsig grammar) with ECDSA P-256/SHA-256, and the signature
 * value is the raw r||s (64 bytes). JSON follows CONTRACTS.md (hex strings for binary).
 */
import { createHash, sign, timingSafeEqual, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { encodeFragment } from '@opensecc/exi-codec';
import { toKeyObject, type CryptoKeyLike } from './pem.js';

export const CANONICAL_EXI = 'http://www.w3.org/TR/canonical-exi/';
export const ECDSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256';
export const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';

export interface SignedReference {
  /** The element's Id attribute value (the Reference URI is `#<id>`). */
  readonly id: string;
  /** The element as a one-key object, e.g. `{ AuthorizationReq: { Id: 'id1', GenChallenge: '…' } }`. */
  readonly fragment: object;
}

/** xmldsig SignatureType content, as in `V2G_Message.Header.Signature`. */
export interface Iso2Signature {
  SignedInfo: {
    CanonicalizationMethod: { Algorithm: string };
    SignatureMethod: { Algorithm: string };
    Reference: Array<{ URI: string; Transforms: { Transform: Array<{ Algorithm: string }> }; DigestMethod: { Algorithm: string }; DigestValue: string }>;
  };
  SignatureValue: { CONTENT: string };
}

export type VerifyResult = { ok: true } | { ok: false; reason: string };

/** SHA-256 over the element's EXI fragment encoding (iso2 schema). */
export function digestIso2Fragment(fragment: object): Buffer {
  return createHash('sha256').update(encodeFragment('iso2', fragment)).digest();
}

function signedInfoBytes(signedInfo: unknown): Uint8Array {
  return encodeFragment('xmldsig', { SignedInfo: signedInfo });
}

/**
 * Signs the given elements: returns the Signature content for `Header.Signature`.
 * Throws (ExiError) when a fragment does not encode.
 */
export function signIso2(references: ReadonlyArray<SignedReference>, privateKey: CryptoKeyLike | KeyObject): Iso2Signature {
  if (references.length === 0) throw new Error('signIso2: nothing to sign (no references)');
  const signedInfo: Iso2Signature['SignedInfo'] = {
    CanonicalizationMethod: { Algorithm: CANONICAL_EXI },
    SignatureMethod: { Algorithm: ECDSA_SHA256 },
    Reference: references.map((r) => ({
      URI: `#${r.id}`,
      Transforms: { Transform: [{ Algorithm: CANONICAL_EXI }] },
      DigestMethod: { Algorithm: SHA256 },
      DigestValue: digestIso2Fragment(r.fragment).toString('hex'),
    })),
  };
  const value = sign('sha256', signedInfoBytes(signedInfo), { key: toKeyObject(privateKey), dsaEncoding: 'ieee-p1363' });
  return { SignedInfo: signedInfo, SignatureValue: { CONTENT: value.toString('hex') } };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const HEX = /^(?:[0-9a-fA-F]{2})*$/;

function algorithmOf(v: unknown): unknown {
  return isObject(v) ? v['Algorithm'] : undefined;
}

/**
 * Verifies a Signature (content of `Header.Signature`) against the signed elements by Id and
 * the signer's certificate. Every Reference must resolve to an element of `fragments`, and every
 * element of `fragments` must be referenced (so the caller states what must be covered).
 * Never throws.
 */
export function verifyIso2(signature: unknown, fragments: ReadonlyMap<string, object>, signerCertDer: Uint8Array): VerifyResult {
  try {
    return check(signature, fragments, signerCertDer);
  } catch (e) {
    return { ok: false, reason: `signature check failed: ${(e as Error).message}` };
  }
}

function check(signature: unknown, fragments: ReadonlyMap<string, object>, signerCertDer: Uint8Array): VerifyResult {
  const bad = (reason: string): VerifyResult => ({ ok: false, reason });
  if (!isObject(signature)) return bad('no Signature element');
  const si = signature['SignedInfo'];
  if (!isObject(si)) return bad('Signature has no SignedInfo');
  if (algorithmOf(si['CanonicalizationMethod']) !== CANONICAL_EXI) return bad(`CanonicalizationMethod is ${JSON.stringify(algorithmOf(si['CanonicalizationMethod']))}, expected ${CANONICAL_EXI}`);
  if (algorithmOf(si['SignatureMethod']) !== ECDSA_SHA256) return bad(`SignatureMethod is ${JSON.stringify(algorithmOf(si['SignatureMethod']))}, expected ${ECDSA_SHA256}`);
  const refs = si['Reference'];
  if (!Array.isArray(refs) || refs.length === 0) return bad('SignedInfo has no Reference');

  const referenced = new Set<string>();
  for (const [i, ref] of refs.entries()) {
    const where = `Reference[${i}]`;
    if (!isObject(ref)) return bad(`${where} is not an element`);
    const uri = ref['URI'];
    if (typeof uri !== 'string' || !uri.startsWith('#') || uri.length < 2) return bad(`${where} URI ${JSON.stringify(uri)} is not a same-document reference "#<Id>"`);
    const id = uri.slice(1);
    if (referenced.has(id)) return bad(`${where} references "${id}" twice`);
    referenced.add(id);
    const transforms = isObject(ref['Transforms']) ? ref['Transforms']['Transform'] : undefined;
    if (!Array.isArray(transforms) || transforms.length !== 1 || algorithmOf(transforms[0]) !== CANONICAL_EXI) return bad(`${where} (${uri}): Transforms must be exactly one ${CANONICAL_EXI}`);
    if (algorithmOf(ref['DigestMethod']) !== SHA256) return bad(`${where} (${uri}): DigestMethod is ${JSON.stringify(algorithmOf(ref['DigestMethod']))}, expected ${SHA256}`);
    const digest = ref['DigestValue'];
    if (typeof digest !== 'string' || !HEX.test(digest) || digest.length !== 64) return bad(`${where} (${uri}): DigestValue is not 32 bytes of hex`);
    const fragment = fragments.get(id);
    if (fragment === undefined) return bad(`${where}: no signed element with Id "${id}"`);
    let actual: Buffer;
    try {
      actual = digestIso2Fragment(fragment);
    } catch (e) {
      return bad(`${where} (${uri}): the element does not encode as an EXI fragment (${(e as Error).message})`);
    }
    if (!timingSafeEqual(actual, Buffer.from(digest, 'hex'))) return bad(`${where} (${uri}): digest mismatch, the signed element was altered`);
  }
  for (const id of fragments.keys()) {
    if (!referenced.has(id)) return bad(`element with Id "${id}" is not covered by the signature`);
  }

  const sv = signature['SignatureValue'];
  const value = isObject(sv) ? sv['CONTENT'] : undefined;
  if (typeof value !== 'string' || !HEX.test(value)) return bad('SignatureValue is missing or not hex');
  if (value.length !== 128) return bad(`SignatureValue is ${value.length / 2} bytes, expected 64 (r||s)`);
  let key: KeyObject;
  try {
    key = new X509Certificate(signerCertDer).publicKey;
  } catch (e) {
    return bad(`signer certificate is not an X.509 certificate (${(e as Error).message})`);
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') return bad('signer certificate key is not ECDSA P-256');
  let siBytes: Uint8Array;
  try {
    siBytes = signedInfoBytes(si);
  } catch (e) {
    return bad(`SignedInfo does not encode as an EXI fragment (${(e as Error).message})`);
  }
  const ok = verify('sha256', siBytes, { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(value, 'hex'));
  return ok ? { ok: true } : bad('SignatureValue does not verify over SignedInfo with the signer certificate key');
}
