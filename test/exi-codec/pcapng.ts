/**
 * Test helper: reads pcapng captures and extracts the V2GTP payloads of the TCP sessions, in
 * order, per connection. Enough pcapng for Wireshark captures of Ethernet links: SHB, IDB,
 * EPB and SPB blocks, either byte order; IPv6 (V2G uses link-local IPv6) and IPv4.
 */
import { readFileSync } from 'node:fs';

export interface V2gtpMessage {
  /** Connection (client address:port -> server address:port) the message was sent on. */
  readonly connection: string;
  /** True when sent by the TCP client (the EV). */
  readonly fromClient: boolean;
  /** V2GTP payload type (0x8001 = EXI). */
  readonly payloadType: number;
  readonly payload: Uint8Array;
}

interface Segment { src: string; dst: string; seq: number; data: Uint8Array; syn: boolean }

function* packets(buf: Buffer): Generator<{ linkType: number; data: Buffer }> {
  let off = 0;
  let le = true;
  const linkTypes: number[] = [];
  while (off + 12 <= buf.length) {
    const typeLE = buf.readUInt32LE(off);
    if (typeLE === 0x0a0d0d0a) {
      const magic = buf.readUInt32LE(off + 8);
      le = magic === 0x1a2b3c4d;
      linkTypes.length = 0;
    }
    const u32 = (o: number): number => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
    const u16 = (o: number): number => (le ? buf.readUInt16LE(o) : buf.readUInt16BE(o));
    const type = u32(off);
    const len = u32(off + 4);
    if (len < 12 || off + len > buf.length) break;
    if (type === 1) linkTypes.push(u16(off + 8));
    else if (type === 6) {
      const iface = u32(off + 8);
      const capLen = u32(off + 20);
      yield { linkType: linkTypes[iface] ?? 1, data: buf.subarray(off + 28, off + 28 + capLen) };
    } else if (type === 3) {
      yield { linkType: linkTypes[0] ?? 1, data: buf.subarray(off + 16, off + len - 4) };
    }
    off += len;
  }
}

function tcpSegment(linkType: number, frame: Buffer): Segment | undefined {
  if (linkType !== 1) return undefined; // Ethernet only
  let off = 12;
  let etherType = frame.readUInt16BE(off);
  off += 2;
  while (etherType === 0x8100 && off + 4 <= frame.length) {
    etherType = frame.readUInt16BE(off + 2);
    off += 4;
  }
  let src: string;
  let dst: string;
  let proto: number;
  let l4: number;
  let end: number;
  if (etherType === 0x86dd) {
    proto = frame[off + 6]!;
    end = off + 40 + frame.readUInt16BE(off + 4);
    src = frame.subarray(off + 8, off + 24).toString('hex');
    dst = frame.subarray(off + 24, off + 40).toString('hex');
    l4 = off + 40;
    // Skip IPv6 extension headers (hop-by-hop, routing, destination options).
    while (proto === 0 || proto === 43 || proto === 60) {
      proto = frame[l4]!;
      l4 += (frame[l4 + 1]! + 1) * 8;
    }
  } else if (etherType === 0x0800) {
    const ihl = (frame[off]! & 15) * 4;
    proto = frame[off + 9]!;
    end = off + frame.readUInt16BE(off + 2);
    src = frame.subarray(off + 12, off + 16).join('.');
    dst = frame.subarray(off + 16, off + 20).join('.');
    l4 = off + ihl;
  } else return undefined;
  if (proto !== 6) return undefined;
  const sport = frame.readUInt16BE(l4);
  const dport = frame.readUInt16BE(l4 + 2);
  const seq = frame.readUInt32BE(l4 + 4);
  const dataOff = (frame[l4 + 12]! >> 4) * 4;
  const flags = frame[l4 + 13]!;
  return { src: `${src}:${sport}`, dst: `${dst}:${dport}`, seq, data: frame.subarray(l4 + dataOff, Math.min(end, frame.length)), syn: (flags & 2) !== 0 };
}

/** All V2GTP messages of the capture's TCP streams, each stream reassembled in sequence order. */
export function v2gtpMessages(file: string): V2gtpMessage[] {
  const buf = readFileSync(file);
  interface Stream { key: string; client: boolean; next: number | undefined; pending: Buffer; connection: string; order: number }
  const streams = new Map<string, Stream>();
  const out: (V2gtpMessage & { order: number })[] = [];
  let order = 0;
  for (const p of packets(buf)) {
    const seg = tcpSegment(p.linkType, p.data);
    if (!seg) continue;
    const key = `${seg.src}>${seg.dst}`;
    let st = streams.get(key);
    if (!st || (seg.syn && st.next !== seg.seq + 1)) {
      const reverse = streams.get(`${seg.dst}>${seg.src}`);
      // The client is the side that sent the first SYN (without ACK) or, failing that, the non-15118 port.
      const client = reverse ? !reverse.client : seg.syn ? true : !seg.src.endsWith(':15118');
      const connection = client ? `${seg.src}->${seg.dst}` : `${seg.dst}->${seg.src}`;
      st = { key, client, next: undefined, pending: Buffer.alloc(0), connection, order: order++ };
      streams.set(key, st);
    }
    if (seg.syn) {
      st.next = (seg.seq + 1) >>> 0;
      continue;
    }
    if (seg.data.length === 0) continue;
    if (st.next === undefined) st.next = seg.seq;
    if (seg.seq !== st.next) {
      const delta = (seg.seq - st.next) | 0;
      if (delta < 0) continue; // retransmission of data already seen
      // A gap (lost segment): resynchronise on this segment.
      st.pending = Buffer.alloc(0);
    }
    st.next = (seg.seq + seg.data.length) >>> 0;
    st.pending = Buffer.concat([st.pending, seg.data]);
    // Cut complete V2GTP messages: 01 fe <type:2> <length:4> <payload>.
    for (;;) {
      const b = st.pending;
      if (b.length < 8) break;
      if (b[0] !== 0x01 || b[1] !== 0xfe) {
        st.pending = Buffer.alloc(0); // not V2GTP (e.g. TLS): drop
        break;
      }
      const len = b.readUInt32BE(4);
      if (b.length < 8 + len) break;
      out.push({ connection: st.connection, fromClient: st.client, payloadType: b.readUInt16BE(2), payload: new Uint8Array(b.subarray(8, 8 + len)), order: out.length });
      st.pending = b.subarray(8 + len);
    }
  }
  return out.map(({ order: _o, ...m }) => m);
}

/** Groups messages by TCP connection (in order of first appearance). */
export function bySession(msgs: V2gtpMessage[]): V2gtpMessage[][] {
  const m = new Map<string, V2gtpMessage[]>();
  for (const x of msgs) {
    if (!m.has(x.connection)) m.set(x.connection, []);
    m.get(x.connection)!.push(x);
  }
  return [...m.values()];
}
