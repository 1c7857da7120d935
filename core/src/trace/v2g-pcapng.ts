import { decode } from '@opensecc/exi-codec';
import { PcapngWriter } from './pcapng.js';
import { linkLocalFromMac, multicastMac, parseIp, parseMac, tcpFrame, TCP_FLAGS, udpFrame, type Endpoint } from './frames.js';
import { messageNameOf } from './messages.js';
import type { V2gTraceRecord } from './topics.js';

/** The V2G port an SECC listens on when the record does not say (also Wireshark's V2GTP port). */
export const V2G_PORT = 15118;
const SDP_REQUEST = 0x9000;
const SDP_RESPONSE = 0x9001;
const MSS = 1440;
const EVSE_MAC = parseMac('02:00:00:5e:c0:01');
const SDP_MULTICAST = parseIp('ff02::1');

interface Conversation {
  readonly evse: Endpoint;
  readonly ev: Endpoint;
  evSeq: number;
  evseSeq: number;
  open: boolean;
}

function conversationFor(record: V2gTraceRecord, index: number): Conversation {
  const evMac = Buffer.from([0x02, 0x00, 0x00, 0x00, 0xee, (index + 1) & 0xff]);
  let evseIp = linkLocalFromMac(EVSE_MAC);
  let evIp = linkLocalFromMac(evMac);
  let evsePort = V2G_PORT;
  let evPort = 50000 + (index % 10000);
  if (record.tcp) {
    try {
      const local = parseIp(record.tcp.local);
      const remote = parseIp(record.tcp.remote);
      if (local.length === remote.length) {
        evseIp = local;
        evIp = remote;
        evsePort = record.tcp.localPort;
        evPort = record.tcp.remotePort;
      }
    } catch {
      // keep the synthetic addresses
    }
  }
  return { evse: { mac: EVSE_MAC, ip: evseIp, port: evsePort }, ev: { mac: evMac, ip: evIp, port: evPort }, evSeq: 1000, evseSeq: 5000, open: false };
}

/** What Wireshark shows as the packet comment: direction, protocol, message name and the decoded JSON. */
export function commentOf(record: V2gTraceRecord): string {
  const decoded = record.decoded ?? decodeAtExport(record);
  const name = messageNameOf(decoded) ?? `payload type 0x${record.payloadType.toString(16)}`;
  const head = `${record.direction === 'rx' ? 'EV -> SECC' : 'SECC -> EV'} ${record.protocol} ${name} session=${record.session}`;
  return decoded === undefined ? head : `${head}\n${JSON.stringify(decoded)}`;
}

/**
 * The charging path traces raw bytes only (decoding there would cost time); an export decodes
 * EXI payloads itself. Undecodable ones are exported without a decoded form.
 */
function decodeAtExport(record: V2gTraceRecord): unknown {
  if (record.payloadType !== 0x8001 || record.hex.length < 16) return undefined;
  try {
    return decode(record.protocol, Buffer.from(record.hex.slice(16), 'hex'));
  } catch {
    return undefined;
  }
}

/**
 * A pcapng file of V2G trace records: real frames where the raw link captured them, otherwise
 * synthetic Ethernet/IPv6/TCP (UDP for SDP) framing with a handshake per session, sequence
 * numbers and checksums, and the decoded message as the packet comment.
 */
export function v2gRecordsToPcapng(records: readonly V2gTraceRecord[]): Buffer {
  const writer = new PcapngWriter();
  const iface = writer.addInterface('v2g');
  const conversations = new Map<string, Conversation>();
  // A session's addresses come from its first record that names them (SDP records cannot).
  const addressed = new Map<string, V2gTraceRecord>();
  for (const record of records) if (record.tcp && !addressed.has(record.session)) addressed.set(record.session, record);
  for (const record of records) {
    const comment = commentOf(record);
    if (record.frame) {
      writer.addPacket({ interfaceId: iface, at: record.at, data: Buffer.from(record.frame, 'hex'), comment });
      continue;
    }
    let conversation = conversations.get(record.session);
    if (!conversation) {
      conversation = conversationFor(addressed.get(record.session) ?? record, conversations.size);
      conversations.set(record.session, conversation);
    }
    const { ev, evse } = conversation;
    const payload = Buffer.from(record.hex, 'hex');
    if (record.payloadType === SDP_REQUEST || record.payloadType === SDP_RESPONSE) {
      const ipv6 = ev.ip.length === 16;
      const group: Endpoint = ipv6 ? { mac: multicastMac(SDP_MULTICAST), ip: SDP_MULTICAST, port: V2G_PORT } : { mac: evse.mac, ip: evse.ip, port: V2G_PORT };
      const frame = record.payloadType === SDP_REQUEST ? udpFrame(ev, group, payload) : udpFrame({ ...evse, port: V2G_PORT }, ev, payload);
      writer.addPacket({ interfaceId: iface, at: record.at, data: frame, comment });
      continue;
    }
    if (!conversation.open) {
      conversation.open = true;
      const t = record.at - 0.003;
      writer.addPacket({ interfaceId: iface, at: t, data: tcpFrame(ev, evse, { seq: conversation.evSeq - 1, ack: 0, flags: TCP_FLAGS.SYN }) });
      writer.addPacket({ interfaceId: iface, at: t + 0.001, data: tcpFrame(evse, ev, { seq: conversation.evseSeq - 1, ack: conversation.evSeq, flags: TCP_FLAGS.SYN | TCP_FLAGS.ACK }) });
      writer.addPacket({ interfaceId: iface, at: t + 0.002, data: tcpFrame(ev, evse, { seq: conversation.evSeq, ack: conversation.evseSeq, flags: TCP_FLAGS.ACK }) });
    }
    const fromEv = record.direction === 'rx';
    for (let offset = 0; offset < payload.length || offset === 0; offset += MSS) {
      const chunk = payload.subarray(offset, offset + MSS);
      const segment = fromEv
        ? { seq: conversation.evSeq, ack: conversation.evseSeq, flags: TCP_FLAGS.PSH | TCP_FLAGS.ACK, payload: chunk }
        : { seq: conversation.evseSeq, ack: conversation.evSeq, flags: TCP_FLAGS.PSH | TCP_FLAGS.ACK, payload: chunk };
      const frame = fromEv ? tcpFrame(ev, evse, segment) : tcpFrame(evse, ev, segment);
      if (fromEv) conversation.evSeq = (conversation.evSeq + chunk.length) >>> 0;
      else conversation.evseSeq = (conversation.evseSeq + chunk.length) >>> 0;
      writer.addPacket({ interfaceId: iface, at: record.at, data: frame, ...(offset === 0 ? { comment } : {}) });
      if (payload.length === 0) break;
    }
  }
  return writer.toBuffer();
}
