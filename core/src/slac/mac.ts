/** MAC addresses as the SLAC code passes them around: lowercase, colon-separated ("02:00:00:00:00:01"). */

export const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff';
/**
 * The address a Qualcomm (QCA7000/7005/7420) modem answers management messages on from its own host.
 * Frames to it stay on the local modem and never go out on the powerline.
 */
export const QCA_LOCAL_MAC = '00:b0:52:00:00:01';
export const ZERO_MAC = '00:00:00:00:00:00';

const MAC_PATTERN = /^[0-9a-f]{2}([:-]?[0-9a-f]{2}){5}$/i;

export class MacAddressError extends Error {
  constructor(readonly value: string) {
    super(`invalid MAC address '${value}' (expected six hex bytes, e.g. 02:00:00:00:00:01)`);
    this.name = 'MacAddressError';
  }
}

export function isMac(value: string): boolean {
  return MAC_PATTERN.test(value);
}

/** Six bytes from "aa:bb:cc:dd:ee:ff", "aa-bb-…" or "aabbccddeeff". */
export function parseMac(value: string): Buffer {
  if (!isMac(value)) throw new MacAddressError(value);
  return Buffer.from(value.replace(/[:-]/g, ''), 'hex');
}

export function formatMac(bytes: Uint8Array, offset = 0): string {
  const parts: string[] = [];
  for (let i = 0; i < 6; i++) parts.push((bytes[offset + i] ?? 0).toString(16).padStart(2, '0'));
  return parts.join(':');
}

/** The canonical form of a MAC string, so that comparisons are plain string equality. */
export function normalizeMac(value: string): string {
  return formatMac(parseMac(value));
}

export function isBroadcastMac(mac: string): boolean {
  return mac === BROADCAST_MAC;
}

/** Group (multicast or broadcast) addresses have the least significant bit of the first byte set. */
export function isGroupMac(mac: string): boolean {
  return (parseInt(mac.slice(0, 2), 16) & 1) === 1;
}
