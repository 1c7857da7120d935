/**
 * HomePlug AV management message (MME) codec: Ethernet header, MMV, MMTYPE, fragmentation fields and the
 * message fields of messages.ts.
 *
 * Decoding never throws: it returns either a decoded frame or a SlacDecodeError that says what was wrong
 * and at which byte, so that a receiver can report and drop a malformed frame. Encoding throws
 * SlacEncodeError on bad field values (a programming error, not bad input from the wire).
 */
import {
  ETHERNET_HEADER_LENGTH,
  ETHERNET_MIN_FRAME,
  ETHERTYPE_HOMEPLUG,
  MAX_ATTENUATION_GROUPS,
  MM_SUFFIX,
  QCA_OUI,
} from './constants.js';
import { formatMac, isMac, parseMac } from './mac.js';
import {
  QCA_GENERIC_NAMES,
  SPECS_BY_MMTYPE,
  SPECS_BY_NAME,
  type MessageFields,
  type MessageName,
  type MessageSpec,
  type SlacMessage,
} from './messages.js';

const ETHERTYPE_VLAN = 0x8100;

export type FieldValue = number | string | number[];

export interface Fragmentation {
  /** NF_MI: number of fragments minus one (0 = not fragmented). */
  readonly count: number;
  /** FN_MI: this fragment's number. */
  readonly index: number;
  /** FMSN: fragmentation message sequence number. */
  readonly sequence: number;
}

export interface DecodedFrame {
  readonly dst: string;
  readonly src: string;
  /** 802.1Q VLAN id when the frame was tagged. */
  readonly vlan?: number;
  readonly mmv: number;
  readonly mmtype: number;
  /** e.g. 'CM_SLAC_PARM.REQ'; unknown types are named 'MME_0x1234.REQ' (vendor ones 'VS_0xA14C.IND'). */
  readonly name: string;
  /** Present when MMV is not 0. */
  readonly fragmentation?: Fragmentation;
  /** The decoded fields (for unknown types: `payload`, or `oui` and `data` for vendor MMEs). */
  readonly fields: Readonly<Record<string, FieldValue>>;
  /** The typed message when the type is known and the frame is not a fragment of a longer message. */
  readonly message?: SlacMessage;
  /** The whole frame as received. */
  readonly raw: Buffer;
}

export class SlacDecodeError extends Error {
  constructor(
    readonly reason: string,
    /** Where: "byte 35 (field aag of CM_ATTEN_CHAR.IND)". */
    readonly at: string,
    readonly byteOffset: number,
  ) {
    super(`${reason} at ${at}`);
    this.name = 'SlacDecodeError';
  }
}

export class SlacEncodeError extends Error {
  constructor(
    readonly messageName: string,
    readonly field: string,
    reason: string,
  ) {
    super(`cannot encode ${messageName}: field '${field}' ${reason}`);
    this.name = 'SlacEncodeError';
  }
}

export type DecodeResult = { readonly ok: true; readonly frame: DecodedFrame } | { readonly ok: false; readonly error: SlacDecodeError };

export function mmtypeName(mmtype: number): string {
  const spec = SPECS_BY_MMTYPE.get(mmtype);
  if (spec) return spec.name;
  const base = mmtype & ~3;
  const suffix = MM_SUFFIX[mmtype & 3];
  const generic = QCA_GENERIC_NAMES.get(base);
  if (generic) return `${generic}.${suffix}`;
  const hex = `0x${base.toString(16).toUpperCase().padStart(4, '0')}`;
  return isVendorMmtype(mmtype) ? `VS_${hex}.${suffix}` : `MME_${hex}.${suffix}`;
}

/** MMTYPEs 0xA000–0xBFFF are vendor-specific; their payload starts with the vendor's OUI. */
export function isVendorMmtype(mmtype: number): boolean {
  return mmtype >= 0xa000 && mmtype <= 0xbfff;
}

/** Pads a frame with zeros to the 60-byte Ethernet minimum; longer frames are returned as they are. */
export function padFrame(frame: Uint8Array): Buffer {
  if (frame.length >= ETHERNET_MIN_FRAME) return Buffer.isBuffer(frame) ? frame : Buffer.from(frame);
  const padded = Buffer.alloc(ETHERNET_MIN_FRAME);
  padded.set(frame, 0);
  return padded;
}

/** Decodes one Ethernet frame (destination MAC first, no FCS). Never throws. */
export function decodeFrame(input: Uint8Array): DecodeResult {
  try {
    return { ok: true, frame: decodeOrThrow(Buffer.isBuffer(input) ? input : Buffer.from(input)) };
  } catch (error) {
    if (error instanceof SlacDecodeError) return { ok: false, error };
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, error: new SlacDecodeError(`internal decoder error: ${reason}`, 'byte 0', 0) };
  }
}

function fail(reason: string, offset: number, what?: string): never {
  throw new SlacDecodeError(reason, what ? `byte ${offset} (${what})` : `byte ${offset}`, offset);
}

function decodeOrThrow(buf: Buffer): DecodedFrame {
  if (buf.length < ETHERNET_HEADER_LENGTH) fail(`frame of ${buf.length} bytes is shorter than an Ethernet header (14)`, buf.length);
  const dst = formatMac(buf, 0);
  const src = formatMac(buf, 6);
  let offset = 12;
  let ethertype = buf.readUInt16BE(offset);
  let vlan: number | undefined;
  if (ethertype === ETHERTYPE_VLAN) {
    if (buf.length < 18) fail('VLAN-tagged frame ends inside the tag', buf.length);
    vlan = buf.readUInt16BE(14) & 0x0fff;
    offset = 16;
    ethertype = buf.readUInt16BE(offset);
  }
  if (ethertype !== ETHERTYPE_HOMEPLUG) {
    fail(`not a HomePlug AV frame: EtherType 0x${ethertype.toString(16).padStart(4, '0')} (expected 0x88e1)`, offset, 'EtherType');
  }
  offset += 2;
  if (buf.length < offset + 3) fail(`frame ends inside the MME header (${buf.length} bytes)`, buf.length, 'MMV/MMTYPE');
  const mmv = buf[offset]!;
  const mmtype = buf.readUInt16LE(offset + 1);
  offset += 3;
  let fragmentation: Fragmentation | undefined;
  if (mmv !== 0) {
    if (buf.length < offset + 2) fail(`frame ends inside the fragmentation fields (${buf.length} bytes)`, buf.length, 'FMI');
    const fmi = buf[offset]!;
    fragmentation = { count: fmi >> 4, index: fmi & 0x0f, sequence: buf[offset + 1]! };
    offset += 2;
  }
  const name = mmtypeName(mmtype);
  const spec = SPECS_BY_MMTYPE.get(mmtype);
  const base = { dst, src, ...(vlan !== undefined ? { vlan } : {}), mmv, mmtype, name, ...(fragmentation ? { fragmentation } : {}), raw: buf };

  // A fragment of a longer message (or a later fragment) carries only part of the fields.
  if (fragmentation && (fragmentation.count > 0 || fragmentation.index > 0)) {
    return { ...base, fields: { payload: buf.subarray(offset).toString('hex') } };
  }
  if (!spec) {
    if (isVendorMmtype(mmtype) && buf.length >= offset + 3) {
      return { ...base, fields: { oui: buf.toString('hex', offset, offset + 3), data: buf.subarray(offset + 3).toString('hex') } };
    }
    return { ...base, fields: { payload: buf.subarray(offset).toString('hex') } };
  }
  const fields = decodeFields(spec, buf, offset);
  return { ...base, fields, message: { name: spec.name, ...fields } as unknown as SlacMessage };
}

function decodeFields(spec: MessageSpec, buf: Buffer, start: number): Record<string, FieldValue> {
  const fields: Record<string, FieldValue> = {};
  let offset = start;
  const need = (n: number, field: string, what = `${n} bytes`) => {
    if (offset + n > buf.length) {
      fail(`${spec.name} is truncated: field '${field}' needs ${what} but the frame has ${Math.max(0, buf.length - offset)} left`, offset, `field ${field} of ${spec.name}`);
    }
  };
  for (const { name, kind } of spec.fields) {
    switch (kind.t) {
      case 'u8':
        need(1, name);
        fields[name] = buf[offset]!;
        offset += 1;
        break;
      case 'u16':
        need(2, name);
        fields[name] = buf.readUInt16LE(offset);
        offset += 2;
        break;
      case 'mac':
        need(6, name);
        fields[name] = formatMac(buf, offset);
        offset += 6;
        break;
      case 'hex':
        need(kind.length, name);
        fields[name] = buf.toString('hex', offset, offset + kind.length);
        offset += kind.length;
        break;
      case 'u8list': {
        const count = fields[kind.countField] as number;
        need(count, name, `${count} bytes (${kind.countField} = ${count})`);
        fields[name] = Array.from(buf.subarray(offset, offset + count));
        offset += count;
        break;
      }
      case 'nibbles': {
        const count = fields[kind.countField] as number;
        const bytes = Math.ceil(count / 2);
        need(bytes, name, `${bytes} bytes (${kind.countField} = ${count} entries)`);
        const values: number[] = [];
        for (let i = 0; i < count; i++) {
          const byte = buf[offset + (i >> 1)]!;
          values.push(i % 2 === 0 ? byte & 0x0f : byte >> 4);
        }
        fields[name] = values;
        offset += bytes;
        break;
      }
      case 'text8': {
        need(1, name);
        const length = buf[offset]!;
        offset += 1;
        need(length, name, `${length} bytes of text`);
        fields[name] = buf.toString('latin1', offset, offset + length).replace(/\0.*$/s, '');
        offset += length;
        break;
      }
      case 'rest':
        fields[name] = buf.subarray(offset).toString('hex');
        offset = buf.length;
        break;
    }
  }
  return fields;
}

export interface FrameAddress {
  readonly dst: string;
  readonly src: string;
}

export interface EncodeOptions {
  /** Override the MMV (default: the message's). */
  readonly mmv?: number;
  /** FMSN for MMV ≥ 1 (default 0). */
  readonly fragmentSequence?: number;
  /** Pad to 60 bytes (default true). */
  readonly pad?: boolean;
}

/** Builds a complete Ethernet frame for a message, padded to the Ethernet minimum. */
export function encodeFrame<N extends MessageName>(
  name: N,
  fields: Readonly<MessageFields[N]>,
  address: FrameAddress,
  options: EncodeOptions = {},
): Buffer {
  const spec = SPECS_BY_NAME.get(name);
  if (!spec) throw new SlacEncodeError(name, '-', 'is not a known message');
  for (const [label, value] of [['dst', address.dst], ['src', address.src]] as const) {
    if (!isMac(value)) throw new SlacEncodeError(name, label, `is not a MAC address: '${value}'`);
  }
  const mmv = options.mmv ?? spec.mmv;
  const header = Buffer.alloc(mmv !== 0 ? 19 : 17);
  parseMac(address.dst).copy(header, 0);
  parseMac(address.src).copy(header, 6);
  header.writeUInt16BE(ETHERTYPE_HOMEPLUG, 12);
  header[14] = mmv;
  header.writeUInt16LE(spec.mmtype, 15);
  if (mmv !== 0) {
    header[17] = 0;
    header[18] = (options.fragmentSequence ?? 0) & 0xff;
  }
  const body = encodeFields(spec, fields as unknown as Record<string, unknown>);
  const frame = Buffer.concat([header, body]);
  return options.pad === false ? frame : padFrame(frame);
}

function encodeFields(spec: MessageSpec, fields: Record<string, unknown>): Buffer {
  const parts: Buffer[] = [];
  const bad = (field: string, reason: string): never => {
    throw new SlacEncodeError(spec.name, field, reason);
  };
  // Count fields are derived from their lists, so callers cannot get them out of step.
  const derivedCounts = new Map<string, number>();
  for (const { name, kind } of spec.fields) {
    if (kind.t === 'u8list' || kind.t === 'nibbles') {
      const list = fields[name];
      if (!Array.isArray(list)) bad(name, 'must be an array of numbers');
      derivedCounts.set(kind.countField, (list as unknown[]).length);
    }
  }
  for (const { name, kind } of spec.fields) {
    const value = derivedCounts.has(name) ? derivedCounts.get(name) : fields[name];
    switch (kind.t) {
      case 'u8':
        if (!isInt(value, 0xff)) bad(name, `must be an integer 0..255, got ${String(value)}`);
        parts.push(Buffer.of(value as number));
        break;
      case 'u16': {
        if (!isInt(value, 0xffff)) bad(name, `must be an integer 0..65535, got ${String(value)}`);
        const b = Buffer.alloc(2);
        b.writeUInt16LE(value as number);
        parts.push(b);
        break;
      }
      case 'mac':
        if (typeof value !== 'string' || !isMac(value)) bad(name, `must be a MAC address, got ${String(value)}`);
        parts.push(parseMac(value as string));
        break;
      case 'hex':
        if (typeof value !== 'string' || !/^([0-9a-f]{2})*$/i.test(value) || value.length !== kind.length * 2) {
          bad(name, `must be ${kind.length} bytes of hex (${kind.length * 2} digits), got '${String(value)}'`);
        }
        parts.push(Buffer.from(value as string, 'hex'));
        break;
      case 'u8list': {
        const values = value as unknown[];
        const max = name === 'aag' ? MAX_ATTENUATION_GROUPS : 0xff;
        if (values.length > max) bad(name, `has ${values.length} entries, at most ${max} allowed`);
        values.forEach((v, i) => {
          if (!isInt(v, 0xff)) bad(`${name}[${i}]`, `must be an integer 0..255, got ${String(v)}`);
        });
        parts.push(Buffer.from(values as number[]));
        break;
      }
      case 'nibbles': {
        const values = fields[name] as unknown[];
        const b = Buffer.alloc(Math.ceil(values.length / 2));
        values.forEach((v, i) => {
          if (!isInt(v, 0x0f)) bad(`${name}[${i}]`, `must be an integer 0..15, got ${String(v)}`);
          b[i >> 1]! |= i % 2 === 0 ? (v as number) : (v as number) << 4;
        });
        parts.push(b);
        break;
      }
      case 'text8': {
        if (typeof value !== 'string') bad(name, 'must be a string');
        const text = Buffer.from(value as string, 'latin1');
        if (text.length > 0xfe) bad(name, 'is longer than 254 characters');
        parts.push(Buffer.of(text.length + 1), text, Buffer.of(0));
        break;
      }
      case 'rest':
        if (typeof value !== 'string' || !/^([0-9a-f]{2})*$/i.test(value)) bad(name, 'must be hex');
        parts.push(Buffer.from(value as string, 'hex'));
        break;
    }
  }
  return Buffer.concat(parts);
}

function isInt(value: unknown, max: number): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max;
}

/** The fields of a Qualcomm vendor request (just the OUI). */
export const QCA_REQUEST = Object.freeze({ oui: QCA_OUI });

/** A frame as one JSON-friendly object: `mmtype`, `name`, header and the message fields (for `secc slac decode`). */
export function frameToJson(frame: DecodedFrame): Record<string, unknown> {
  return {
    mmtype: frame.mmtype,
    name: frame.name,
    mmv: frame.mmv,
    dst: frame.dst,
    src: frame.src,
    ...(frame.vlan !== undefined ? { vlan: frame.vlan } : {}),
    ...(frame.fragmentation ? { fragmentation: frame.fragmentation } : {}),
    ...frame.fields,
  };
}
