/** The schema registry: schema name -> generated document codec. */
import type { BitReader } from './runtime/bit-reader.js';
import type { BitWriter } from './runtime/bit-writer.js';
import type { StringTable } from './runtime/string-table.js';
import * as apphand from './generated/apphand/codec.js';
import * as din from './generated/din/codec.js';
import * as iso2 from './generated/iso2/codec.js';
import * as iso20 from './generated/iso20/codec.js';
import * as iso20dc from './generated/iso20-dc/codec.js';
import * as iso20ac from './generated/iso20-ac/codec.js';
import * as iso20acdp from './generated/iso20-acdp/codec.js';
import * as iso20wpt from './generated/iso20-wpt/codec.js';
import * as xmldsig from './generated/xmldsig/codec.js';

export interface SchemaCodec {
  readonly SCHEMA: string;
  readonly GLOBAL_ELEMENTS: readonly string[];
  decodeDocument(r: BitReader, st: StringTable): unknown;
  encodeDocument(w: BitWriter, st: StringTable, doc: unknown): void;
  decodeFragment(r: BitReader, st: StringTable): unknown;
  encodeFragment(w: BitWriter, st: StringTable, doc: unknown): void;
}

export const SCHEMA_CODECS = {
  apphand,
  din,
  iso2,
  iso20,
  'iso20-dc': iso20dc,
  'iso20-ac': iso20ac,
  'iso20-acdp': iso20acdp,
  'iso20-wpt': iso20wpt,
  xmldsig,
} as const satisfies Record<string, SchemaCodec>;

export type SchemaName = keyof typeof SCHEMA_CODECS;
export const SCHEMA_NAMES = Object.keys(SCHEMA_CODECS) as SchemaName[];
