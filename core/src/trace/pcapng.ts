/**
 * A minimal pcapng writer (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-02.html):
 * one Section Header Block, Interface Description Blocks and Enhanced Packet Blocks with an
 * optional comment, little-endian. Enough for Wireshark and tshark to open the file.
 */

export const LINKTYPE_ETHERNET = 1;

const BLOCK_SHB = 0x0a0d0d0a;
const BLOCK_IDB = 0x00000001;
const BLOCK_EPB = 0x00000006;
const OPT_END = 0;
const OPT_COMMENT = 1;
const OPT_SHB_USERAPPL = 4;
const OPT_IF_NAME = 2;
const OPT_IF_TSRESOL = 9;

function pad4(length: number): number {
  return (length + 3) & ~3;
}

function option(code: number, value: Buffer): Buffer {
  const out = Buffer.alloc(4 + pad4(value.length));
  out.writeUInt16LE(code, 0);
  out.writeUInt16LE(value.length, 2);
  value.copy(out, 4);
  return out;
}

function options(list: Array<[number, Buffer]>): Buffer {
  if (list.length === 0) return Buffer.alloc(0);
  return Buffer.concat([...list.map(([code, value]) => option(code, value)), Buffer.alloc(4) /* opt_endofopt */]);
}

function block(type: number, body: Buffer): Buffer {
  const total = 12 + body.length;
  const out = Buffer.alloc(total);
  out.writeUInt32LE(type, 0);
  out.writeUInt32LE(total, 4);
  body.copy(out, 8);
  out.writeUInt32LE(total, total - 4);
  return out;
}

export interface PcapngPacket {
  readonly interfaceId: number;
  /** Milliseconds since the epoch; written with microsecond resolution. */
  readonly at: number;
  readonly data: Uint8Array;
  readonly comment?: string;
}

/** Collects blocks in memory; `toBuffer()` gives the file. */
export class PcapngWriter {
  private readonly blocks: Buffer[] = [];
  private interfaces = 0;

  constructor(application = 'OpenSECC') {
    const head = Buffer.alloc(16);
    head.writeUInt32LE(0x1a2b3c4d, 0); // byte-order magic
    head.writeUInt16LE(1, 4); // major
    head.writeUInt16LE(0, 6); // minor
    head.writeBigInt64LE(-1n, 8); // section length unknown
    this.blocks.push(block(BLOCK_SHB, Buffer.concat([head, options([[OPT_SHB_USERAPPL, Buffer.from(application)]])])));
  }

  /** Add an interface; returns its id for packets. Timestamps are in microseconds (if_tsresol 6). */
  addInterface(name: string, linkType = LINKTYPE_ETHERNET): number {
    const head = Buffer.alloc(8);
    head.writeUInt16LE(linkType, 0);
    head.writeUInt32LE(0, 4); // no snap length limit
    const opts = options([
      [OPT_IF_NAME, Buffer.from(name)],
      [OPT_IF_TSRESOL, Buffer.from([6])],
    ]);
    this.blocks.push(block(BLOCK_IDB, Buffer.concat([head, opts])));
    return this.interfaces++;
  }

  addPacket(packet: PcapngPacket): void {
    if (packet.interfaceId < 0 || packet.interfaceId >= this.interfaces) throw new RangeError(`pcapng: no interface ${packet.interfaceId}`);
    const micros = BigInt(Math.round(packet.at * 1000));
    const data = Buffer.from(packet.data.buffer, packet.data.byteOffset, packet.data.byteLength);
    const head = Buffer.alloc(20);
    head.writeUInt32LE(packet.interfaceId, 0);
    head.writeUInt32LE(Number(micros >> 32n), 4);
    head.writeUInt32LE(Number(micros & 0xffffffffn), 8);
    head.writeUInt32LE(data.length, 12);
    head.writeUInt32LE(data.length, 16);
    const padded = Buffer.alloc(pad4(data.length));
    data.copy(padded);
    const opts = packet.comment ? options([[OPT_COMMENT, Buffer.from(packet.comment)]]) : Buffer.alloc(0);
    this.blocks.push(block(BLOCK_EPB, Buffer.concat([head, padded, opts])));
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.blocks);
  }
}

export const PCAPNG_CONSTANTS = { BLOCK_SHB, BLOCK_IDB, BLOCK_EPB, OPT_END, OPT_COMMENT } as const;
