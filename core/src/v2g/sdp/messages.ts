/**
 * SECC Discovery Protocol payloads (ISO 15118-2 §7.10.1, DIN 70121 §8.7.3.1), carried in a V2GTP
 * header over UDP port 15118.
 *
 *   SDP request  (0x9000, 2 bytes):  security, transport protocol
 *   SDP response (0x9001, 20 bytes): SECC IPv6 address (16), SECC port (2), security, transport
 */
import { checkHeader, encodeMessage, PAYLOAD_TYPE, readHeader, V2GTP_HEADER_LENGTH } from '../transport/header.js';

export const SDP_PORT = 15118;
export const SDP_MULTICAST_ADDRESS = 'ff02::1';

export const SDP_SECURITY = { tls: 0x00, none: 0x10 } as const;
export const SDP_TRANSPORT = { tcp: 0x00, udp: 0x10 } as const;
export type SdpSecurity = keyof typeof SDP_SECURITY;
export type SdpTransport = keyof typeof SDP_TRANSPORT;

export interface SdpRequest {
  readonly security: SdpSecurity;
  readonly transport: SdpTransport;
}

export interface SdpResponse {
  /** The SECC's IPv6 address, without scope. */
  readonly address: string;
  readonly port: number;
  readonly security: SdpSecurity;
  readonly transport: SdpTransport;
}

export class SdpMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SdpMessageError';
  }
}

function securityName(code: number): SdpSecurity {
  if (code === SDP_SECURITY.tls) return 'tls';
  if (code === SDP_SECURITY.none) return 'none';
  throw new SdpMessageError(`unknown SDP security value 0x${code.toString(16).padStart(2, '0')}`);
}

function transportName(code: number): SdpTransport {
  if (code === SDP_TRANSPORT.tcp) return 'tcp';
  if (code === SDP_TRANSPORT.udp) return 'udp';
  throw new SdpMessageError(`unknown SDP transport protocol value 0x${code.toString(16).padStart(2, '0')}`);
}

/** Check a datagram's V2GTP header and length; returns the payload. */
function payloadOf(datagram: Uint8Array, payloadType: number, length: number): Uint8Array {
  if (datagram.length < V2GTP_HEADER_LENGTH) throw new SdpMessageError(`datagram of ${datagram.length} bytes is shorter than a V2GTP header`);
  const header = readHeader(datagram);
  try {
    checkHeader(header, new Set([payloadType]), length);
  } catch (error) {
    throw new SdpMessageError((error as Error).message);
  }
  if (header.payloadLength !== length) throw new SdpMessageError(`SDP payload length ${header.payloadLength}, expected ${length}`);
  if (datagram.length !== V2GTP_HEADER_LENGTH + length) throw new SdpMessageError(`datagram of ${datagram.length} bytes, the header announces ${V2GTP_HEADER_LENGTH + length}`);
  return datagram.subarray(V2GTP_HEADER_LENGTH);
}

export function encodeSdpRequest(request: SdpRequest): Buffer {
  return encodeMessage(PAYLOAD_TYPE.sdpRequest, Uint8Array.of(SDP_SECURITY[request.security], SDP_TRANSPORT[request.transport]));
}

export function decodeSdpRequest(datagram: Uint8Array): SdpRequest {
  const payload = payloadOf(datagram, PAYLOAD_TYPE.sdpRequest, 2);
  return { security: securityName(payload[0]!), transport: transportName(payload[1]!) };
}

export function encodeSdpResponse(response: SdpResponse): Buffer {
  const payload = Buffer.alloc(20);
  ipv6ToBytes(response.address).copy(payload, 0);
  payload.writeUInt16BE(response.port, 16);
  payload[18] = SDP_SECURITY[response.security];
  payload[19] = SDP_TRANSPORT[response.transport];
  return encodeMessage(PAYLOAD_TYPE.sdpResponse, payload);
}

export function decodeSdpResponse(datagram: Uint8Array): SdpResponse {
  const payload = payloadOf(datagram, PAYLOAD_TYPE.sdpResponse, 20);
  const port = (payload[16]! << 8) | payload[17]!;
  if (port === 0) throw new SdpMessageError('SDP response announces port 0');
  return { address: bytesToIpv6(payload.subarray(0, 16)), port, security: securityName(payload[18]!), transport: transportName(payload[19]!) };
}

/** 16 bytes of an IPv6 address (scope suffix ignored). */
export function ipv6ToBytes(address: string): Buffer {
  const bare = address.split('%')[0]!;
  const halves = bare.split('::');
  if (halves.length > 2) throw new SdpMessageError(`'${address}' is not an IPv6 address`);
  const parse = (part: string) => (part === '' ? [] : part.split(':'));
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const groups = [...head, ...Array<string>(fill).fill('0'), ...tail];
  if (groups.length !== 8 || fill < 0) throw new SdpMessageError(`'${address}' is not an IPv6 address`);
  const out = Buffer.alloc(16);
  groups.forEach((group, i) => {
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) throw new SdpMessageError(`'${address}' is not an IPv6 address`);
    out.writeUInt16BE(parseInt(group, 16), i * 2);
  });
  return out;
}

/** Compressed text form of 16 address bytes. */
export function bytesToIpv6(bytes: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  // Longest run of zero groups (length ≥ 2) becomes '::'.
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength && j - i >= 2) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}
