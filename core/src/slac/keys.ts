/**
 * Per-session keys: a fresh random NMK (network membership key) for every SLAC session, and the NID
 * (network identifier) derived from it the way HomePlug AV specifies, so that the NID we hand to the EV
 * is the one its modem computes itself.
 */
import { createHash, randomBytes } from 'node:crypto';
import { NMK_LENGTH, NID_LENGTH, RUN_ID_LENGTH } from './constants.js';

/** HomePlug AV security levels carried in the NID's top bits: 0 = simple connect (what SLAC uses). */
export const SECURITY_LEVEL_SIMPLE_CONNECT = 0;

export type RandomSource = (length: number) => Buffer;

export function generateNmk(random: RandomSource = randomBytes): Buffer {
  return random(NMK_LENGTH);
}

/**
 * NID = the first 7 bytes of SHA-256 applied five times (PBKDF1, no salt) to the NMK; of the last byte
 * only the upper nibble's bits survive (shifted down) and the security level takes bits 4–5.
 */
export function nidFromNmk(nmk: Uint8Array, securityLevel = SECURITY_LEVEL_SIMPLE_CONNECT): Buffer {
  if (nmk.length !== NMK_LENGTH) throw new RangeError(`an NMK has ${NMK_LENGTH} bytes, got ${nmk.length}`);
  let digest = createHash('sha256').update(nmk).digest();
  for (let i = 0; i < 4; i++) digest = createHash('sha256').update(digest).digest();
  const nid = Buffer.from(digest.subarray(0, NID_LENGTH));
  nid[NID_LENGTH - 1] = (nid[NID_LENGTH - 1]! >> 4) | ((securityLevel & 0x03) << 4);
  return nid;
}

export interface SessionKeys {
  readonly nmk: string;
  readonly nid: string;
}

export function generateSessionKeys(random: RandomSource = randomBytes): SessionKeys {
  const nmk = generateNmk(random);
  return { nmk: nmk.toString('hex'), nid: nidFromNmk(nmk).toString('hex') };
}

export function generateRunId(random: RandomSource = randomBytes): string {
  return random(RUN_ID_LENGTH).toString('hex');
}
