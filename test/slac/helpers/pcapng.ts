/**
 * A minimal pcapng reader: Section Header, Interface Description and Enhanced Packet blocks, either
 * byte order. Enough to pull Ethernet frames out of ../shared/captures.
 */
import { readFileSync } from 'node:fs';

export interface CapturedPacket {
  /** 1-based packet number as Wireshark counts it. */
  readonly number: number;
  readonly linkType: number;
  readonly data: Buffer;
}

const SHB = 0x0a0d0d0a;
const IDB = 0x00000001;
const EPB = 0x00000006;
const LINKTYPE_ETHERNET = 1;

export function readPcapng(path: string): CapturedPacket[] {
  const buf = readFileSync(path);
  const packets: CapturedPacket[] = [];
  const linkTypes: number[] = [];
  let little = true;
  let offset = 0;
  let number = 0;
  while (offset + 12 <= buf.length) {
    if (buf.readUInt32LE(offset) === SHB) {
      little = buf.readUInt32LE(offset + 8) === 0x1a2b3c4d;
      linkTypes.length = 0; // interface ids are per section
    }
    const u32 = (at: number) => (little ? buf.readUInt32LE(at) : buf.readUInt32BE(at));
    const type = u32(offset);
    const length = u32(offset + 4);
    if (length < 12 || offset + length > buf.length) throw new Error(`${path}: bad pcapng block length ${length} at byte ${offset}`);
    if (type === IDB) linkTypes.push(little ? buf.readUInt16LE(offset + 8) : buf.readUInt16BE(offset + 8));
    if (type === EPB) {
      number++;
      const interfaceId = u32(offset + 8);
      const captured = u32(offset + 20);
      packets.push({ number, linkType: linkTypes[interfaceId] ?? -1, data: buf.subarray(offset + 28, offset + 28 + captured) });
    }
    offset += length;
  }
  return packets;
}

/** The Ethernet frames of a capture whose EtherType is HomePlug AV (0x88E1). */
export function homePlugFrames(path: string): CapturedPacket[] {
  return readPcapng(path).filter((p) => p.linkType === LINKTYPE_ETHERNET && p.data.length >= 14 && p.data.readUInt16BE(12) === 0x88e1);
}
