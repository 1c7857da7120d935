/**
 * Payloads generated from a topic's JSON Schema, for the "every publishable topic rejects an
 * invalid payload" test. The wire rules of docs/mqtt-api.md are re-stated here independently of
 * the plugin's codec (`documentedDecode`), and a separate ajv decides what is valid, so the test
 * does not grade the plugin with its own code.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { JSONSchema } from '@opensecc/plugin-api';

const ajv = new Ajv2020({ strict: false });
const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const NOT_UTF8 = Buffer.from([0xc3, 0x28, 0xff]);

function types(schema: JSONSchema): Set<string> {
  const out = new Set<string>();
  const add = (v: unknown) => out.add(v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'number' ? 'number' : typeof v);
  if (typeof schema.type === 'string') out.add(schema.type);
  if (Array.isArray(schema.type)) schema.type.forEach((t) => out.add(String(t)));
  if ('const' in schema) add(schema.const);
  if (Array.isArray(schema.enum)) schema.enum.forEach(add);
  for (const key of ['anyOf', 'oneOf']) if (Array.isArray(schema[key])) for (const b of schema[key] as JSONSchema[]) types(b).forEach((t) => out.add(t));
  if (out.has('integer')) out.add('number');
  return out;
}

const isJsonTopic = (schema: JSONSchema) => {
  const t = types(schema);
  return t.size === 0 || t.has('object') || t.has('array');
};

/** What docs/mqtt-api.md says a payload means for a topic with this schema; undefined = undecodable. */
export function documentedDecode(schema: JSONSchema, payload: Buffer): { value: unknown } | undefined {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(payload);
  } catch {
    return undefined;
  }
  const t = types(schema);
  if (isJsonTopic(schema)) {
    if (text === '') return { value: null };
    try {
      return { value: JSON.parse(text) };
    } catch {
      return undefined;
    }
  }
  if (text === '') return { value: t.has('string') ? '' : null };
  if (t.has('boolean') && (text === 'true' || text === 'false')) return { value: text === 'true' };
  if (t.has('number') && NUMBER.test(text)) return { value: Number(text) };
  if (t.has('string')) return { value: text };
  return undefined;
}

export function isValid(schema: JSONSchema, payload: Buffer): boolean {
  const decoded = documentedDecode(schema, payload);
  return decoded !== undefined && ajv.validate(schema, decoded.value);
}

/** Candidate wire payloads of every kind; the invalid ones for a schema are kept. */
function candidates(schema: JSONSchema): Buffer[] {
  const text: string[] = ['', 'not-a-valid-value', 'true', '1.5', '-1', '-1000000', '1000000', '{"unexpected":1}', '[1]', '{', 'null'];
  const num = (k: string) => (typeof schema[k] === 'number' ? (schema[k] as number) : undefined);
  const min = num('minimum') ?? num('exclusiveMinimum');
  const max = num('maximum') ?? num('exclusiveMaximum');
  if (min !== undefined) text.push(String(min - 1), String(min - 0.5));
  if (max !== undefined) text.push(String(max + 1), String(max + 0.5));
  const maxLength = num('maxLength');
  if (maxLength !== undefined) text.push('x'.repeat(maxLength + 1));
  if (Array.isArray(schema.enum)) text.push(`${String(schema.enum[0])}-not-in-enum`);
  return [NOT_UTF8, ...text.map((t) => Buffer.from(t, 'utf8'))];
}

/** Payloads that fail the schema under the documented wire rules (never empty: non-UTF-8 always fails). */
export function invalidPayloads(schema: JSONSchema): Buffer[] {
  return candidates(schema).filter((payload) => !isValid(schema, payload));
}

/** A payload the schema accepts, when one of the usual shapes fits (to give the topic a state first). */
export function validPayload(schema: JSONSchema): Buffer | undefined {
  const options: unknown[] = [];
  if (Array.isArray(schema.enum)) options.push(...schema.enum);
  if ('const' in schema) options.push(schema.const);
  if (typeof schema.minimum === 'number') options.push(schema.minimum, schema.minimum + 1);
  options.push(16, 1, 0, true, 'http://example.invalid/update.image', '', [], {});
  for (const value of options) {
    const payload = Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8');
    if (isValid(schema, payload)) return payload;
  }
  return undefined;
}
