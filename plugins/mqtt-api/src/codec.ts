import type { JSONSchema } from '@opensecc/plugin-api';

/**
 * How a topic's value travels as an MQTT payload, derived from the JSON types its schema allows:
 *
 * - `text`: scalar topics (string, integer, number, boolean, or a mix of them, optionally null).
 *   Strings go raw (UTF-8, no quotes), numbers and booleans as their JSON text (`16`, `0.5`,
 *   `true`), and an empty payload means "unset": the empty string when the schema allows strings,
 *   else null. This is the form the Charge Control M firmware topics use (`max_trials` = `3`).
 * - `json`: topics whose value is an object or an array carry UTF-8 JSON.
 */
export type WireFormat = 'text' | 'json';

export type JsonType = 'string' | 'integer' | 'number' | 'boolean' | 'null' | 'object' | 'array';

const ALL_TYPES: readonly JsonType[] = ['string', 'integer', 'number', 'boolean', 'null', 'object', 'array'];
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** A payload that cannot be turned into a value for its topic (before schema validation). */
export class PayloadDecodeError extends Error {
  constructor(
    readonly topic: string,
    readonly reason: string,
  ) {
    super(`cannot decode payload of '${topic}': ${reason}`);
    this.name = 'PayloadDecodeError';
  }
}

function typeOfValue(value: unknown): JsonType {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value as JsonType;
}

/**
 * The JSON types a schema admits at its top level, read from `type`, `const`, `enum` and the
 * branches of `anyOf`/`oneOf` (all types when the schema does not say).
 */
export function allowedTypes(schema: JSONSchema): Set<JsonType> {
  const out = new Set<JsonType>();
  const { type } = schema;
  if (typeof type === 'string') out.add(type as JsonType);
  else if (Array.isArray(type)) for (const t of type) out.add(t as JsonType);
  if ('const' in schema) out.add(typeOfValue(schema.const));
  if (Array.isArray(schema.enum)) for (const v of schema.enum) out.add(typeOfValue(v));
  for (const key of ['anyOf', 'oneOf'] as const) {
    const branches = schema[key];
    if (Array.isArray(branches)) for (const branch of branches) for (const t of allowedTypes(branch as JSONSchema)) out.add(t);
  }
  if (out.size === 0) return new Set(ALL_TYPES);
  // JSON Schema's "number" includes integers.
  if (out.has('number')) out.add('integer');
  return out;
}

export function wireFormatOf(schema: JSONSchema): WireFormat {
  const types = allowedTypes(schema);
  return types.has('object') || types.has('array') ? 'json' : 'text';
}

/** Encoder and decoder for one topic. Values are validated against the schema elsewhere. */
export class TopicCodec {
  readonly format: WireFormat;
  private readonly types: Set<JsonType>;

  constructor(
    readonly topic: string,
    schema: JSONSchema,
  ) {
    this.types = allowedTypes(schema);
    this.format = this.types.has('object') || this.types.has('array') ? 'json' : 'text';
  }

  encode(value: unknown): Buffer {
    if (this.format === 'json') return Buffer.from(JSON.stringify(value), 'utf8');
    if (value === null || value === undefined) return Buffer.alloc(0);
    if (typeof value === 'string') return Buffer.from(value, 'utf8');
    if (typeof value === 'number' || typeof value === 'boolean') return Buffer.from(String(value), 'utf8');
    // A scalar topic holding a structured value is a schema bug; JSON keeps it readable.
    return Buffer.from(JSON.stringify(value), 'utf8');
  }

  decode(payload: Uint8Array): unknown {
    const text = decodeUtf8(this.topic, payload);
    if (this.format === 'json') {
      if (text.length === 0) return null;
      try {
        return JSON.parse(text);
      } catch (error) {
        throw new PayloadDecodeError(this.topic, `payload is not JSON (${(error as Error).message})`);
      }
    }
    if (text.length === 0) return this.types.has('string') ? '' : null;
    if (this.types.has('boolean') && (text === 'true' || text === 'false')) return text === 'true';
    if ((this.types.has('integer') || this.types.has('number')) && JSON_NUMBER.test(text)) {
      const n = Number(text);
      if (Number.isFinite(n)) return n;
      throw new PayloadDecodeError(this.topic, `number '${text}' is out of range`);
    }
    if (this.types.has('string')) return text;
    // Only numbers/booleans/null allowed and the text is neither: name what was expected.
    const expected = [...this.types].filter((t) => t !== 'null' && !(t === 'integer' && this.types.has('number'))).join(' or ');
    throw new PayloadDecodeError(this.topic, `expected ${expected} as plain text, got '${excerpt(text, 40)}'`);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeUtf8(topic: string, payload: Uint8Array): string {
  try {
    return utf8.decode(payload);
  } catch {
    throw new PayloadDecodeError(topic, 'payload is not valid UTF-8');
  }
}

/** The start of a payload for error reports: text when it is UTF-8, else hex. */
export function excerpt(payload: string | Uint8Array, max = 200): string {
  let text: string;
  if (typeof payload === 'string') text = payload;
  else {
    try {
      text = utf8.decode(payload);
    } catch {
      const hex = Buffer.from(payload.subarray(0, Math.ceil(max / 2))).toString('hex');
      return `hex:${hex}${payload.length * 2 > max ? '…' : ''}`;
    }
  }
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
