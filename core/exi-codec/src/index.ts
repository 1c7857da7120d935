/**
 * @opensecc/exi-codec: EXI 1.0 (schema-informed, bit-packed, non-strict, default options) for the
 * V2G schemas: ISO 15118-2 app handshake, DIN 70121, ISO 15118-2, ISO 15118-20.
 * Documents are JSON objects as described in CONTRACTS.md ("EXI and JSON").
 */
import { BitReader } from './runtime/bit-reader.js';
import { BitWriter } from './runtime/bit-writer.js';
import { ExiError, nest } from './runtime/errors.js';
import { StringTable } from './runtime/string-table.js';
import { codecFor, type SchemaCodec, type SchemaName } from './schemas.js';

export { ExiError, type ExiErrorKind } from './runtime/errors.js';
export { SCHEMA_NAMES, isSchemaName, isSchemaLoaded, loadSchema, loadAllSchemas, type SchemaName } from './schemas.js';
export type * as AppHand from './generated/apphand/types.js';
export type * as Din from './generated/din/types.js';
export type * as Iso2 from './generated/iso2/types.js';
export type * as Iso20 from './generated/iso20/types.js';
export type * as Iso20Dc from './generated/iso20-dc/types.js';
export type * as Iso20Ac from './generated/iso20-ac/types.js';
export type * as Iso20Acdp from './generated/iso20-acdp/types.js';
export type * as Iso20Wpt from './generated/iso20-wpt/types.js';
export type * as XmlDsig from './generated/xmldsig/types.js';

/** A decoded document: `{ <root element local name>: content }`. */
export type ExiDocument = Record<string, unknown>;

// A session uses one schema for most messages: remembering the last lookup skips the Map.
let lastSchema = '';
let lastCodec: SchemaCodec | undefined;

function codecOf(schema: string): SchemaCodec {
  if (schema === lastSchema) return lastCodec!;
  const codec = codecFor(schema);
  lastSchema = schema;
  lastCodec = codec;
  return codec;
}

/**
 * One reader, writer and string table serve every call: coding is synchronous, so a call can
 * only overlap another if a document's getter calls encode() itself; such a nested call gets
 * fresh ones (`busy`).
 */
const sharedReader = new BitReader(new Uint8Array(0));
const sharedWriter = new BitWriter(true);
const sharedTable = new StringTable();
let busy = false;

function readerFor(bytes: Uint8Array): BitReader {
  return busy ? new BitReader(bytes) : sharedReader.reset(bytes);
}
function writer(): BitWriter {
  return busy ? new BitWriter() : sharedWriter.reset();
}
function table(useHits: boolean): StringTable {
  return busy ? new StringTable(useHits) : sharedTable.reset(useHits);
}

/** EXI header without options: distinguishing bits 10, no options, final version 1. */
const HEADER_BYTE = 0x80;

/** Reads the EXI header; returns the bit position of the body. */
function readHeader(r: BitReader): void {
  if (r.buf[0] === HEADER_BYTE) {
    r.pos = 8;
    return;
  }
  if (r.buf.length >= 4 && r.buf[0] === 0x24 && r.buf[1] === 0x45 && r.buf[2] === 0x58 && r.buf[3] === 0x49) r.pos = 32; // "$EXI" cookie
  const start = r.pos;
  if (r.bits(2) !== 2) r.fail('invalid-header', 'not an EXI stream (distinguishing bits are not 10)', start);
  if (r.bits(1) !== 0) r.fail('unsupported', 'EXI options in the header are not supported (V2G uses the defaults)', start + 2);
  if (r.bits(1) !== 0) r.fail('unsupported', 'preview EXI format versions are not supported', start + 3);
  const version = r.bits(4);
  if (version !== 0) r.fail('unsupported', `EXI format version ${version + 1} is not supported`, start + 4);
}

/**
 * Some EV stacks (seen on a Tesla Model Y) append a zero byte when the stream ends on a byte
 * boundary. Decoding accepts such whole zero bytes and records their number on the document
 * (non-enumerable, so JSON never shows it) so that encode() reproduces the exact bytes.
 */
export const EXI_PADDING: unique symbol = Symbol.for('opensecc.exi.padding') as never;

/** After ED only the padding of the last byte, and whole zero bytes, may follow. */
function finish(r: BitReader, doc: ExiDocument): void {
  r.pos = (r.pos + 7) & ~7;
  const extra = r.remaining >>> 3;
  if (extra === 0) return;
  for (let i = r.pos >>> 3; i < r.buf.length; i++) {
    if (r.buf[i] !== 0) r.fail('trailing-data', `${extra} byte(s) after the end of the document`);
  }
  Object.defineProperty(doc, EXI_PADDING, { value: extra, enumerable: false });
}

function asExiError(e: unknown, bitOffset: number): ExiError {
  return e instanceof ExiError ? e : nest(e, '', bitOffset);
}

/**
 * Decodes an EXI stream (header included) of the given schema into its JSON document.
 * `T` names the expected document type, e.g. `decode<Din.Document>('din', bytes)`.
 */
export function decode<T extends object = ExiDocument>(schema: SchemaName | string, bytes: Uint8Array): T {
  const codec = codecOf(schema);
  const r = readerFor(bytes);
  const st = table(false);
  const outer = busy;
  busy = true;
  try {
    readHeader(r);
    const doc = codec.decodeDocument(r, st) as ExiDocument;
    finish(r, doc);
    return doc as T;
  } catch (e) {
    throw asExiError(e, r.pos);
  } finally {
    busy = outer;
  }
}

export interface EncodeOptions {
  /**
   * Use string-table hits for repeated string values (EXIficient style). Off by default: the
   * V2G reference codecs write every string as a literal, and signatures depend on the bytes.
   */
  readonly stringTableHits?: boolean;
}

/** Encodes a JSON document of the given schema into an EXI stream (header included). */
export function encode(schema: SchemaName | string, document: unknown, options?: EncodeOptions): Uint8Array {
  const codec = codecOf(schema);
  const w = writer();
  const st = table(options?.stringTableHits === true);
  const outer = busy;
  busy = true;
  try {
    w.bits(HEADER_BYTE, 8);
    codec.encodeDocument(w, st, document);
    const padding = (document as { [EXI_PADDING]?: unknown })[EXI_PADDING];
    if (typeof padding === 'number' && padding > 0 && padding <= 16) {
      w.bits(0, (8 - (w.bitLength & 7)) & 7);
      for (let i = 0; i < padding; i++) w.bits(0, 8);
    }
    return w.finish();
  } catch (e) {
    throw asExiError(e, w.bitLength);
  } finally {
    busy = outer;
  }
}

/**
 * Decodes an EXI fragment (header, then elements until ED) as used for ISO 15118 signatures:
 * `{ SignedInfo: {...} }` or `{ AuthorizationReq: {...} }`, keys in stream order.
 */
export function decodeFragment(schema: SchemaName | string, bytes: Uint8Array): ExiDocument {
  const codec = codecOf(schema);
  const r = readerFor(bytes);
  const st = table(false);
  const outer = busy;
  busy = true;
  try {
    readHeader(r);
    const doc = codec.decodeFragment(r, st) as ExiDocument;
    finish(r, doc);
    return doc;
  } catch (e) {
    throw asExiError(e, r.pos);
  } finally {
    busy = outer;
  }
}

/**
 * Encodes elements as an EXI fragment (the bytes ISO 15118 signs and digests): the header, then
 * each key of `fragment` in order as SE(element) with its content, then ED.
 */
export function encodeFragment(schema: SchemaName | string, fragment: unknown, options?: EncodeOptions): Uint8Array {
  const codec = codecOf(schema);
  const w = writer();
  const st = table(options?.stringTableHits === true);
  const outer = busy;
  busy = true;
  try {
    w.bits(HEADER_BYTE, 8);
    codec.encodeFragment(w, st, fragment);
    return w.finish();
  } catch (e) {
    throw asExiError(e, w.bitLength);
  } finally {
    busy = outer;
  }
}

/** Lowercase hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Bytes of a hex string; an ExiError for odd lengths or non-hex characters. */
export function fromHex(hex: string): Uint8Array {
  const s = hex.trim();
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) throw new ExiError('invalid-value', 0, 'input is not an even-length hex string');
  return new Uint8Array(Buffer.from(s, 'hex'));
}
