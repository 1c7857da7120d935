/**
 * The schema registry: schema name -> generated document codec.
 *
 * The app handshake, DIN 70121, ISO 15118-2 and xmldsig codecs load with the package: that is
 * what a charger speaks today. The five ISO 15118-20 codecs (several MiB of code and heap
 * together) load on demand with `loadSchema()`, so that a daemon on a small device that never
 * meets an -20 car does not carry them. Coding stays synchronous: a call naming a schema that is
 * not loaded yet fails with `schema-not-loaded`.
 */
import type { BitReader } from './runtime/bit-reader.js';
import type { BitWriter } from './runtime/bit-writer.js';
import type { StringTable } from './runtime/string-table.js';
import { ExiError } from './runtime/errors.js';
import * as apphand from './generated/apphand/codec.js';
import * as din from './generated/din/codec.js';
import * as iso2 from './generated/iso2/codec.js';
import * as xmldsig from './generated/xmldsig/codec.js';

export interface SchemaCodec {
  readonly SCHEMA: string;
  readonly GLOBAL_ELEMENTS: readonly string[];
  decodeDocument(r: BitReader, st: StringTable): unknown;
  encodeDocument(w: BitWriter, st: StringTable, doc: unknown): void;
  decodeFragment(r: BitReader, st: StringTable): unknown;
  encodeFragment(w: BitWriter, st: StringTable, doc: unknown): void;
}

/** Every schema, in the order `SCHEMA_NAMES` has always listed them. */
export const SCHEMA_NAMES = ['apphand', 'din', 'iso2', 'iso20', 'iso20-dc', 'iso20-ac', 'iso20-acdp', 'iso20-wpt', 'xmldsig'] as const;
export type SchemaName = (typeof SCHEMA_NAMES)[number];

const EAGER: ReadonlyArray<readonly [SchemaName, SchemaCodec]> = [
  ['apphand', apphand],
  ['din', din],
  ['iso2', iso2],
  ['xmldsig', xmldsig],
];

/** The schemas loaded on demand (literal specifiers, so bundlers and tsc see them). */
const LAZY: Readonly<Record<Exclude<SchemaName, 'apphand' | 'din' | 'iso2' | 'xmldsig'>, () => Promise<SchemaCodec>>> = {
  iso20: () => import('./generated/iso20/codec.js'),
  'iso20-dc': () => import('./generated/iso20-dc/codec.js'),
  'iso20-ac': () => import('./generated/iso20-ac/codec.js'),
  'iso20-acdp': () => import('./generated/iso20-acdp/codec.js'),
  'iso20-wpt': () => import('./generated/iso20-wpt/codec.js'),
};

const loaded = new Map<string, SchemaCodec>(EAGER);
const loading = new Map<string, Promise<void>>();

export function isSchemaName(s: string): s is SchemaName {
  return (SCHEMA_NAMES as readonly string[]).includes(s);
}

/** Whether coding with this schema works synchronously now. */
export function isSchemaLoaded(name: SchemaName | string): boolean {
  return loaded.has(name);
}

/** The codec of a schema, or a typed error: unknown name, or known but not loaded yet. */
export function codecFor(name: string): SchemaCodec {
  const codec = loaded.get(name);
  if (codec) return codec;
  if (isSchemaName(name)) {
    throw new ExiError('schema-not-loaded', 0, `schema "${name}" is not loaded yet: await loadSchema('${name}') first`);
  }
  throw new ExiError('unknown-schema', 0, `unknown schema "${name}" (known: ${SCHEMA_NAMES.join(', ')})`);
}

/**
 * Loads a schema's codec so that encode/decode can use it. Resolves at once for the schemas
 * loaded with the package; concurrent calls share one import. Rejects with `unknown-schema`
 * for a name that is not a schema.
 */
export function loadSchema(name: SchemaName | string): Promise<void> {
  if (loaded.has(name)) return Promise.resolve();
  if (!Object.hasOwn(LAZY, name)) return Promise.reject(new ExiError('unknown-schema', 0, `unknown schema "${name}" (known: ${SCHEMA_NAMES.join(', ')})`));
  let p = loading.get(name);
  if (!p) {
    p = LAZY[name as keyof typeof LAZY]().then(
      (codec) => {
        loaded.set(name, codec);
        loading.delete(name);
      },
      (e: unknown) => {
        loading.delete(name);
        throw new ExiError('internal', 0, `loading schema "${name}" failed: ${String((e as Error)?.message ?? e)}`);
      },
    );
    loading.set(name, p);
  }
  return p;
}

/** Loads every schema (tools and tests that handle any of them). */
export async function loadAllSchemas(): Promise<void> {
  await Promise.all(SCHEMA_NAMES.map((n) => loadSchema(n)));
}
