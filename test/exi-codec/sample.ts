/**
 * Test helper: builds populated documents from the generated content-model description
 * (core/exi-codec/src/generated/<schema>/meta.json). `full` mode fills every optional field and
 * repeats arrays up to their bound; `minimal` mode writes only what the schema requires.
 * Values sit at the edges of their types (maximum/minimum, longest strings and binaries).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_DIR } from './helpers.js';

type Value =
  | { k: 'enum'; values: string[] }
  | { k: 'int'; min?: string; max?: string }
  | { k: 'bool' }
  | { k: 'binary' | 'string'; maxLength?: number; minLength?: number }
  | { k: string };
type Ref = string | Value;
type ParticleMeta =
  | { el: { key: string; type: Ref; abstract?: boolean }[]; min: number; max: number | 'unbounded' }
  | { any: string; min: number; max: number | 'unbounded' }
  | { seq: ParticleMeta[]; min: number; max: number | 'unbounded' }
  | { choice: ParticleMeta[]; min: number; max: number | 'unbounded' };
interface TypeMeta {
  attributes: { key: string; required: boolean; type: Value }[];
  simple?: Value;
  particle?: ParticleMeta;
  mixed?: boolean;
  arrays: string[];
}
export interface SchemaMeta {
  schema: string;
  globals: { key: string; ns: string; type: Ref; abstract?: boolean }[];
  types: Record<string, TypeMeta>;
}

export function loadMeta(schema: string): SchemaMeta {
  return JSON.parse(readFileSync(join(PACKAGE_DIR, 'src', 'generated', schema, 'meta.json'), 'utf8')) as SchemaMeta;
}

export type Mode = 'full' | 'minimal';
const IMPOSSIBLE = Symbol('impossible');

export class SampleBuilder {
  private budget = 8000;
  private counter = 0;
  constructor(
    private readonly meta: SchemaMeta,
    private readonly mode: Mode,
    /** Picks the choice alternative (and enumeration literal) by this index, modulo the count. */
    private readonly variant = 0,
  ) {}

  /** A document for the global element `key`, or undefined if the schema makes it unbuildable (wildcards). */
  document(key: string): Record<string, unknown> | undefined {
    const g = this.meta.globals.find((x) => x.key === key);
    if (!g) throw new Error(`no global element ${key}`);
    this.budget = 8000;
    const v = this.ref(g.type, 0);
    return v === IMPOSSIBLE ? undefined : { [key]: v };
  }

  /** Builds a complex-type value. */
  typeValue(typeName: string, depth = 0): unknown {
    const t = this.meta.types[typeName];
    if (!t) throw new Error(`no type ${typeName}`);
    if (depth > 12) return IMPOSSIBLE;
    const o: Record<string, unknown> = {};
    for (const a of t.attributes) if (a.required || this.mode === 'full') o[a.key] = this.value(a.type, a.key);
    if (t.simple) o.CONTENT = this.value(t.simple, 'CONTENT');
    if (t.particle && this.particle(t.particle, o, new Set(t.arrays), depth) === IMPOSSIBLE) return IMPOSSIBLE;
    return o;
  }

  private ref(r: Ref, depth: number): unknown {
    return typeof r === 'string' ? this.typeValue(r, depth + 1) : this.value(r, 'v');
  }

  private occurrences(min: number, max: number | 'unbounded'): number {
    if (this.mode === 'minimal') return min;
    const bound = max === 'unbounded' ? 3 : max;
    // Arrays at their bound while the budget lasts, then the smallest useful count.
    const n = this.budget > bound * 4 ? bound : Math.max(min, 1);
    return Math.max(n, min);
  }

  private particle(p: ParticleMeta, o: Record<string, unknown>, arrays: Set<string>, depth: number): unknown {
    const n = this.occurrences(p.min, p.max);
    for (let i = 0; i < n; i++) {
      const r = this.term(p, o, arrays, depth, i);
      if (r === IMPOSSIBLE) {
        if (i < p.min) return IMPOSSIBLE;
        break;
      }
    }
    return undefined;
  }

  private term(p: ParticleMeta, o: Record<string, unknown>, arrays: Set<string>, depth: number, _i: number): unknown {
    if ('any' in p) return IMPOSSIBLE;
    if ('seq' in p) {
      const snapshot = JSON.stringify(o);
      for (const c of p.seq) {
        if (this.particle(c, o, arrays, depth) === IMPOSSIBLE) {
          Object.keys(o).forEach((k) => delete o[k]);
          Object.assign(o, JSON.parse(snapshot));
          return IMPOSSIBLE;
        }
      }
      return undefined;
    }
    if ('choice' in p) {
      const alts = p.choice;
      for (let k = 0; k < alts.length; k++) {
        const alt = alts[(this.variant + k) % alts.length]!;
        // A choice alternative that may be empty is not a choice of content at all: skip it in full mode.
        if (this.mode === 'full' && alt.min === 0 && alts.length > 1 && k < alts.length - 1) continue;
        if (this.particle({ ...alt, min: Math.max(alt.min, 1) } as ParticleMeta, o, arrays, depth) !== IMPOSSIBLE) return undefined;
      }
      return IMPOSSIBLE;
    }
    const members = p.el.filter((m) => !m.abstract);
    const pick = members[this.variant % Math.max(members.length, 1)] ?? p.el[0]!;
    this.budget--;
    const v = this.ref(pick.type, depth);
    if (v === IMPOSSIBLE) return IMPOSSIBLE;
    if (arrays.has(pick.key)) ((o[pick.key] ??= []) as unknown[]).push(v);
    else o[pick.key] = v;
    return undefined;
  }

  value(t: Value, key: string): unknown {
    const high = this.mode === 'full';
    this.counter++;
    switch (t.k) {
      case 'enum': {
        const values = (t as { values: string[] }).values;
        return values[(this.variant + (high ? values.length - 1 : 0)) % values.length];
      }
      case 'int': {
        const { min, max } = t as { min?: string; max?: string };
        const pickBig = high ? (max !== undefined ? BigInt(max) : 123456789012345678901234567890n) : min !== undefined ? BigInt(min) : -98765432109876543210n;
        return pickBig >= BigInt(Number.MIN_SAFE_INTEGER) && pickBig <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(pickBig) : pickBig.toString();
      }
      case 'bool':
        return high;
      case 'binary': {
        const { maxLength, minLength } = t as { maxLength?: number; minLength?: number };
        const n = high ? Math.min(maxLength ?? 40, 3000) : (minLength ?? 1);
        let s = '';
        for (let i = 0; i < n; i++) s += ((i * 37 + this.counter) & 255).toString(16).padStart(2, '0');
        return s;
      }
      case 'string': {
        const { maxLength, minLength } = t as { maxLength?: number; minLength?: number };
        const n = high ? Math.min(maxLength ?? 24, 500) : Math.max(minLength ?? 1, 1);
        // Non-ASCII and astral characters exercise the code-point encoding.
        const seed = `${key}-é€😀-${this.counter % 3}`;
        let s = '';
        for (const ch of seed.repeat(Math.ceil(n / 4) + 1)) {
          if ([...s].length >= n) break;
          s += ch;
        }
        return s;
      }
      default:
        return undefined;
    }
  }
}
