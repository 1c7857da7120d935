import { isIP } from 'node:net';

/**
 * Ethernet / IPv6 (or IPv4) / TCP and UDP framing for messages whose frames were not captured:
 * correct lengths and checksums, so that Wireshark decodes every layer and follows the stream.
 */

export interface Endpoint {
  readonly mac: Buffer;
  readonly ip: Buffer;
  readonly port: number;
}

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const PROTO_TCP = 6;
const PROTO_UDP = 17;

export const TCP_FLAGS = { FIN: 0x01, SYN: 0x02, PSH: 0x08, ACK: 0x10 } as const;

/** A MAC address from 'aa:bb:cc:dd:ee:ff' or 12 hex digits. */
export function parseMac(text: string): Buffer {
  const hex = text.replace(/[:-]/g, '');
  if (!/^[0-9a-fA-F]{12}$/.test(hex)) throw new Error(`not a MAC address: '${text}'`);
  return Buffer.from(hex, 'hex');
}

/** An IP address as 4 or 16 bytes; an IPv4-mapped IPv6 address becomes IPv4, a zone id is dropped. */
export function parseIp(text: string): Buffer {
  let address = text.replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) address = mapped[1]!;
  const family = isIP(address);
  if (family === 4) return Buffer.from(address.split('.').map(Number));
  if (family !== 6) throw new Error(`not an IP address: '${text}'`);
  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined];
  const parse = (part: string | undefined) => (part ? part.split(':') : []);
  let groups = parse(head);
  if (tail !== undefined) {
    const back = parse(tail);
    groups = [...groups, ...new Array<string>(8 - groups.length - back.length).fill('0'), ...back];
  }
  const out = Buffer.alloc(16);
  groups.forEach((group, i) => out.writeUInt16BE(parseInt(group, 16), i * 2));
  return out;
}

/** A link-local IPv6 address derived from a MAC (modified EUI-64), as SECCs and EVs use. */
export function linkLocalFromMac(mac: Buffer): Buffer {
  const out = Buffer.alloc(16);
  out[0] = 0xfe;
  out[1] = 0x80;
  out[8] = mac[0]! ^ 0x02;
  out[9] = mac[1]!;
  out[10] = mac[2]!;
  out[11] = 0xff;
  out[12] = 0xfe;
  out[13] = mac[3]!;
  out[14] = mac[4]!;
  out[15] = mac[5]!;
  return out;
}

function onesComplementSum(buffers: Buffer[]): number {
  let sum = 0;
  for (const buffer of buffers) {
    for (let i = 0; i < buffer.length; i += 2) sum += (buffer[i]! << 8) | (i + 1 < buffer.length ? buffer[i + 1]! : 0);
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

function checksum(buffers: Buffer[]): number {
  const value = ~onesComplementSum(buffers) & 0xffff;
  return value;
}

/** Every buffer but the last must have even length for the running sum; the pseudo header does. */
function transportChecksum(source: Buffer, destination: Buffer, protocol: number, segment: Buffer): number {
  let pseudo: Buffer;
  if (source.length === 16) {
    pseudo = Buffer.alloc(40);
    source.copy(pseudo, 0);
    destination.copy(pseudo, 16);
    pseudo.writeUInt32BE(segment.length, 32);
    pseudo[39] = protocol;
  } else {
    pseudo = Buffer.alloc(12);
    source.copy(pseudo, 0);
    destination.copy(pseudo, 4);
    pseudo[9] = protocol;
    pseudo.writeUInt16BE(segment.length, 10);
  }
  const value = checksum([pseudo, segment]);
  return protocol === PROTO_UDP && value === 0 ? 0xffff : value;
}

function ipPacket(source: Buffer, destination: Buffer, protocol: number, segment: Buffer): { etherType: number; packet: Buffer } {
  if (source.length !== destination.length) throw new Error('frames: source and destination are of different IP families');
  if (source.length === 16) {
    const header = Buffer.alloc(40);
    header.writeUInt32BE(0x60000000, 0); // version 6, traffic class 0, flow label 0
    header.writeUInt16BE(segment.length, 4);
    header[6] = protocol;
    header[7] = 64; // hop limit
    source.copy(header, 8);
    destination.copy(header, 24);
    return { etherType: ETHERTYPE_IPV6, packet: Buffer.concat([header, segment]) };
  }
  const header = Buffer.alloc(20);
  header[0] = 0x45;
  header.writeUInt16BE(20 + segment.length, 2);
  header.writeUInt16BE(0x4000, 6); // don't fragment
  header[8] = 64;
  header[9] = protocol;
  source.copy(header, 12);
  destination.copy(header, 16);
  header.writeUInt16BE(checksum([header]), 10);
  return { etherType: ETHERTYPE_IPV4, packet: Buffer.concat([header, segment]) };
}

function ethernet(source: Buffer, destination: Buffer, etherType: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(14);
  destination.copy(header, 0);
  source.copy(header, 6);
  header.writeUInt16BE(etherType, 12);
  return Buffer.concat([header, payload]);
}

export interface TcpSegment {
  readonly seq: number;
  readonly ack: number;
  readonly flags: number;
  readonly payload?: Buffer;
}

export function tcpFrame(from: Endpoint, to: Endpoint, segment: TcpSegment): Buffer {
  const payload = segment.payload ?? Buffer.alloc(0);
  const header = Buffer.alloc(20);
  header.writeUInt16BE(from.port, 0);
  header.writeUInt16BE(to.port, 2);
  header.writeUInt32BE(segment.seq >>> 0, 4);
  header.writeUInt32BE(segment.ack >>> 0, 8);
  header[12] = 5 << 4; // data offset: 5 words
  header[13] = segment.flags;
  header.writeUInt16BE(65535, 14); // window
  const tcp = Buffer.concat([header, payload]);
  tcp.writeUInt16BE(transportChecksum(from.ip, to.ip, PROTO_TCP, tcp), 16);
  const { etherType, packet } = ipPacket(from.ip, to.ip, PROTO_TCP, tcp);
  return ethernet(from.mac, to.mac, etherType, packet);
}

export function udpFrame(from: Endpoint, to: Endpoint, payload: Buffer): Buffer {
  const udp = Buffer.alloc(8 + payload.length);
  udp.writeUInt16BE(from.port, 0);
  udp.writeUInt16BE(to.port, 2);
  udp.writeUInt16BE(udp.length, 4);
  payload.copy(udp, 8);
  udp.writeUInt16BE(transportChecksum(from.ip, to.ip, PROTO_UDP, udp), 6);
  const { etherType, packet } = ipPacket(from.ip, to.ip, PROTO_UDP, udp);
  return ethernet(from.mac, to.mac, etherType, packet);
}

/** The Ethernet multicast MAC of an IPv6 multicast address (33:33 + last 4 bytes). */
export function multicastMac(ip: Buffer): Buffer {
  return Buffer.from([0x33, 0x33, ip[12]!, ip[13]!, ip[14]!, ip[15]!]);
}
