/**
 * V2G Transport Protocol (ISO 15118-2 §7.8.3, DIN 70121 §8.7.3): an 8-byte header in front of every
 * EXI document and SDP message.
 *
 *   byte 0      protocol version          0x01
 *   byte 1      inverse protocol version  0xFE
 *   bytes 2-3   payload type              big endian
 *   bytes 4-7   payload length            big endian, unsigned 32 bit
 */

export const V2GTP_VERSION = 0x01;
export const V2GTP_INVERSE_VERSION = 0xfe;
export const V2GTP_HEADER_LENGTH = 8;

export const PAYLOAD_TYPE = {
  /** EXI-encoded V2G message (app handshake, DIN 70121, ISO 15118-2). */
  exi: 0x8001,
  sdpRequest: 0x9000,
  sdpResponse: 0x9001,
} as const;
export type PayloadType = number;

/**
 * Default upper bound for one payload. The largest DIN/ISO-2 message (a CertificateInstallationRes
 * with a full chain) stays well below 8 KiB; real SECCs use 4-8 KiB receive buffers.
 */
export const DEFAULT_MAX_PAYLOAD_LENGTH = 8192;

export interface V2gtpHeader {
  readonly version: number;
  readonly inverseVersion: number;
  readonly payloadType: number;
  readonly payloadLength: number;
}

/** Why a header was refused; the receiver's reaction depends on it (see {@link reactionTo}). */
export type V2gtpHeaderProblem = 'version' | 'payload-type' | 'length';

export class V2gtpHeaderError extends Error {
  constructor(
    readonly problem: V2gtpHeaderProblem,
    readonly header: V2gtpHeader,
    message: string,
  ) {
    super(message);
    this.name = 'V2gtpHeaderError';
  }
}

export function readHeader(bytes: Uint8Array, offset = 0): V2gtpHeader {
  if (bytes.length - offset < V2GTP_HEADER_LENGTH) throw new RangeError(`a V2GTP header needs ${V2GTP_HEADER_LENGTH} bytes, got ${bytes.length - offset}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, V2GTP_HEADER_LENGTH);
  return {
    version: view.getUint8(0),
    inverseVersion: view.getUint8(1),
    payloadType: view.getUint16(2),
    payloadLength: view.getUint32(4),
  };
}

/**
 * Check a header against what this endpoint accepts. Throws a {@link V2gtpHeaderError} naming the
 * first violated rule, in the order the standard checks them: version, payload type, length.
 */
export function checkHeader(header: V2gtpHeader, accepted: ReadonlySet<number>, maxPayloadLength: number): void {
  if (header.version !== V2GTP_VERSION || header.inverseVersion !== V2GTP_INVERSE_VERSION) {
    throw new V2gtpHeaderError('version', header, `V2GTP protocol version 0x${hex2(header.version)}/0x${hex2(header.inverseVersion)}, expected 0x01/0xfe`);
  }
  if (!accepted.has(header.payloadType)) {
    throw new V2gtpHeaderError('payload-type', header, `V2GTP payload type 0x${header.payloadType.toString(16).padStart(4, '0')} is not accepted here`);
  }
  if (header.payloadLength > maxPayloadLength) {
    throw new V2gtpHeaderError('length', header, `V2GTP payload length ${header.payloadLength} exceeds the maximum of ${maxPayloadLength}`);
  }
}

/**
 * One V2GTP message as a single buffer (header and payload), so a socket write puts it on the wire
 * in one piece: some EV stacks treat one TCP read as one message.
 */
export function encodeMessage(payloadType: number, payload: Uint8Array): Buffer {
  if (!Number.isInteger(payloadType) || payloadType < 0 || payloadType > 0xffff) throw new RangeError(`payload type ${payloadType} is not a 16-bit value`);
  const out = Buffer.allocUnsafe(V2GTP_HEADER_LENGTH + payload.length);
  out[0] = V2GTP_VERSION;
  out[1] = V2GTP_INVERSE_VERSION;
  out.writeUInt16BE(payloadType, 2);
  out.writeUInt32BE(payload.length, 4);
  out.set(payload, V2GTP_HEADER_LENGTH);
  return out;
}

/** The hex of the V2GTP message `encodeMessage` would build, without building it (traces). */
export function messageHex(payloadType: number, payload: Uint8Array): string {
  const header = ((V2GTP_VERSION << 24) | (V2GTP_INVERSE_VERSION << 16) | (payloadType & 0xffff)) >>> 0;
  return (
    header.toString(16).padStart(8, '0') +
    payload.length.toString(16).padStart(8, '0') +
    Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('hex')
  );
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}
