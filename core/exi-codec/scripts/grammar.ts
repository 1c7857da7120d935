/**
 * Builds the EXI 1.0 schema-informed element grammar of a complex type (non-strict, as used by
 * ISO 15118 and DIN 70121) as a position automaton: a state is the last attribute or child
 * particle read, or the start tag. Each state lists its first-level productions in event-code
 * order (AT sorted by qname, SE in schema order, wildcards, EE, CH); non-strict grammars always
 * reserve one more first-level code for the second level (xsi:type, xsi:nil, undeclared items).
 *
 * Bounded repetitions of one element keep a counter instead of unrolling copies: the states
 * for occurrence 1..max-1 share their productions, only count < min and count == max differ.
 */
import { qcompare, type ComplexType, type ElementDecl, type Particle, type SchemaSet, type SimpleInfo, type AttributeUse, qkey } from './xsd.js';

export type Leaf =
  | { id: number; kind: 'attr'; attr: AttributeUse; min: number; max: number; counter: boolean; array: boolean }
  | { id: number; kind: 'element'; decls: ElementDecl[]; min: number; max: number; counter: boolean; array: boolean }
  | { id: number; kind: 'any'; namespace: string; min: number; max: number; counter: boolean; array: boolean }
  | { id: number; kind: 'chars'; type: SimpleInfo; min: number; max: number; counter: boolean; array: boolean };

export type Production =
  | { event: 'AT'; leaf: Leaf & { kind: 'attr' } }
  | { event: 'SE'; leaf: Leaf & { kind: 'element' }; decl: ElementDecl }
  | { event: 'SE*'; leaf: Leaf }
  | { event: 'EE' }
  | { event: 'CH'; leaf: Leaf & { kind: 'chars' } }
  | { event: 'CH*' };

/** `all`: no counter; `below`: count < min; `mid`: min <= count < max; `full`: count == max. */
export type Guard = 'all' | 'below' | 'mid' | 'full';

export interface Variant {
  readonly guard: Guard;
  readonly prods: Production[];
  /** Bits of the first event-code part (productions + 1 for the second level). */
  readonly bits: number;
}

export interface State {
  readonly id: number;
  readonly leaf?: Leaf;
  readonly variants: Variant[];
}

export interface JsonKey {
  readonly name: string;
  array: boolean;
  required: boolean;
  readonly types: (ComplexType | SimpleInfo)[];
  /** Leaves that carry this key (a key may come from several particles). */
  readonly leaves: Leaf[];
}

export interface TypeGrammar {
  readonly type: ComplexType;
  readonly states: State[];
  readonly leaves: Leaf[];
  readonly keys: Map<string, JsonKey>;
}

type Node =
  | { k: 'leaf'; leaf: Leaf }
  | { k: 'seq'; items: Node[] }
  | { k: 'choice'; items: Node[] }
  | { k: 'opt'; item: Node }
  | { k: 'plus'; item: Node };

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export const bitsFor = (n: number): number => (n <= 1 ? 0 : Math.ceil(Math.log2(n)));

export function buildTypeGrammar(type: ComplexType, schema: SchemaSet): TypeGrammar {
  const leaves: Leaf[] = [];
  const keys = new Map<string, JsonKey>();
  const newLeaf = <L extends Leaf>(l: DistributiveOmit<L, 'id'>): L => {
    const leaf = { ...l, id: leaves.length + 1 } as unknown as L;
    leaves.push(leaf);
    return leaf;
  };
  const addKey = (name: string, t: ComplexType | SimpleInfo, leaf: Leaf, array: boolean, required: boolean): void => {
    const k = keys.get(name);
    if (!k) {
      keys.set(name, { name, array, required, types: [t], leaves: [leaf] });
      return;
    }
    // The same local name from a second particle: the values share one JSON array.
    k.array = true;
    k.required = k.required || required;
    if (!k.types.includes(t)) k.types.push(t);
    if (!k.leaves.includes(leaf)) k.leaves.push(leaf);
  };

  // `repeated`: inside a group that may occur more than once, so values become arrays.
  // `required`: every enclosing particle is mandatory.
  const toNode = (p: Particle, repeated: boolean, required: boolean): Node | undefined => {
    const t = p.term;
    const req = required && p.min >= 1;
    if (t.kind === 'element' || t.kind === 'any') {
      const counter = p.max > 1 && !repeated;
      const array = p.max > 1 || repeated;
      let leaf: Leaf;
      if (t.kind === 'element') {
        const head = t.decl;
        const members = [head, ...(schema.substitutions.get(qkey(head.qname)) ?? [])];
        members.sort((a, b) => qcompare(a.qname, b.qname));
        leaf = newLeaf({ kind: 'element', decls: members, min: p.min, max: p.max, counter, array });
        for (const d of members) addKey(d.qname.local, d.type, leaf, array, req && members.length === 1);
      } else {
        leaf = newLeaf({ kind: 'any', namespace: t.namespace, min: p.min, max: p.max, counter, array });
      }
      const base: Node = p.max > 1 ? { k: 'plus', item: { k: 'leaf', leaf } } : { k: 'leaf', leaf };
      return p.min === 0 ? { k: 'opt', item: base } : base;
    }
    const group = (rep: boolean, reqInner: boolean): Node | undefined => {
      const items = t.particles.map((c) => toNode(c, rep, reqInner && t.kind !== 'choice')).filter((n): n is Node => !!n);
      if (items.length === 0) return undefined;
      return { k: t.kind === 'choice' ? 'choice' : 'seq', items };
    };
    if (p.max === 1) {
      const g = group(repeated, req);
      if (!g) return undefined;
      return p.min === 0 ? { k: 'opt', item: g } : g;
    }
    if (p.min <= 1 && p.max === Infinity) {
      const g = group(true, req);
      if (!g) return undefined;
      return p.min === 0 ? { k: 'opt', item: { k: 'plus', item: g } } : { k: 'plus', item: g };
    }
    // A bounded repeated group: unroll its copies (fresh leaves for each copy).
    const copies: Node[] = [];
    for (let i = 0; i < p.min; i++) {
      const g = group(true, req);
      if (g) copies.push(g);
    }
    if (p.max === Infinity) {
      const g = group(true, false);
      if (g) copies.push({ k: 'opt', item: { k: 'plus', item: g } });
    } else {
      let tail: Node | undefined;
      for (let i = p.max - p.min; i > 0; i--) {
        const g = group(true, false);
        if (!g) continue;
        tail = { k: 'opt', item: tail ? { k: 'seq', items: [g, tail] } : g };
      }
      if (tail) copies.push(tail);
    }
    return copies.length ? { k: 'seq', items: copies } : undefined;
  };

  const parts: Node[] = [];
  for (const a of type.attributes) {
    const leaf = newLeaf<Leaf & { kind: 'attr' }>({ kind: 'attr', attr: a, min: a.required ? 1 : 0, max: 1, counter: false, array: false });
    addKey(a.qname.local, a.type, leaf, false, a.required);
    parts.push(a.required ? { k: 'leaf', leaf } : { k: 'opt', item: { k: 'leaf', leaf } });
  }
  const c = type.content;
  if (c.kind === 'simple') {
    const leaf = newLeaf<Leaf & { kind: 'chars' }>({ kind: 'chars', type: c.type, min: 1, max: 1, counter: false, array: false });
    addKey('CONTENT', c.type, leaf, false, true);
    parts.push({ k: 'leaf', leaf });
  } else if (c.kind === 'elements') {
    const n = toNode(c.particle, false, true);
    if (n) parts.push(n);
  }
  const mixed = c.kind === 'elements' && c.mixed;

  // Glushkov construction: nullable / first / last / follow.
  const follow = new Map<number, Set<number>>();
  for (const l of leaves) follow.set(l.id, new Set());
  interface Info { nullable: boolean; first: Set<number>; last: Set<number> }
  const visit = (n: Node): Info => {
    switch (n.k) {
      case 'leaf':
        return { nullable: false, first: new Set([n.leaf.id]), last: new Set([n.leaf.id]) };
      case 'opt': {
        const i = visit(n.item);
        return { ...i, nullable: true };
      }
      case 'plus': {
        const i = visit(n.item);
        for (const l of i.last) for (const f of i.first) follow.get(l)!.add(f);
        return i;
      }
      case 'choice': {
        const out: Info = { nullable: false, first: new Set(), last: new Set() };
        for (const it of n.items) {
          const i = visit(it);
          out.nullable ||= i.nullable;
          i.first.forEach((x) => out.first.add(x));
          i.last.forEach((x) => out.last.add(x));
        }
        return out;
      }
      case 'seq': {
        let acc: Info = { nullable: true, first: new Set(), last: new Set() };
        for (const it of n.items) {
          const i = visit(it);
          for (const l of acc.last) for (const f of i.first) follow.get(l)!.add(f);
          const first = new Set(acc.first);
          if (acc.nullable) i.first.forEach((x) => first.add(x));
          const last = new Set(i.last);
          if (i.nullable) acc.last.forEach((x) => last.add(x));
          acc = { nullable: acc.nullable && i.nullable, first, last };
        }
        return acc;
      }
    }
  };
  const root = visit({ k: 'seq', items: parts });

  const leafById = (id: number): Leaf => leaves[id - 1]!;
  // Mixed content adds CH [untyped] to the content grammar's states only: a state gets it when
  // the content can start from it (no required attribute left to read).
  const attrLeaves = leaves.filter((l) => l.kind === 'attr');
  const contentReachable = (stateId: number): boolean => {
    const l = stateId === 0 ? undefined : leaves[stateId - 1];
    if (l && l.kind !== 'attr') return true;
    return attrLeaves.every((a) => a.id <= stateId || a.min === 0);
  };
  const productions = (targets: Iterable<number>, withEE: boolean, stateId: number): Production[] => {
    const ids = [...targets].sort((a, b) => a - b).map(leafById);
    const at: Production[] = [];
    const se: Production[] = [];
    const wild: Production[] = [];
    const ch: Production[] = [];
    for (const l of ids) {
      if (l.kind === 'attr') at.push({ event: 'AT', leaf: l });
      else if (l.kind === 'element') for (const d of l.decls) se.push({ event: 'SE', leaf: l, decl: d });
      else if (l.kind === 'any') wild.push({ event: 'SE*', leaf: l });
      else ch.push({ event: 'CH', leaf: l });
    }
    at.sort((a, b) => qcompare((a as { leaf: { attr: AttributeUse } }).leaf.attr.qname, (b as { leaf: { attr: AttributeUse } }).leaf.attr.qname));
    const out = [...at, ...se, ...wild];
    if (withEE) out.push({ event: 'EE' });
    out.push(...ch);
    if (mixed && contentReachable(stateId)) out.push({ event: 'CH*' });
    return out;
  };
  const variant = (guard: Guard, prods: Production[]): Variant => ({ guard, prods, bits: bitsFor(prods.length + 1) });

  const states: State[] = [{ id: 0, variants: [variant('all', productions(root.first, root.nullable, 0))] }];
  for (const l of leaves) {
    const f = follow.get(l.id)!;
    const final = root.last.has(l.id);
    if (!l.counter) {
      states.push({ id: l.id, leaf: l, variants: [variant('all', productions(f, final, l.id))] });
      continue;
    }
    const others = [...f].filter((x) => x !== l.id);
    const variants: Variant[] = [];
    if (l.min > 1) variants.push(variant('below', productions([l.id], false, l.id)));
    variants.push(variant('mid', productions(f, final, l.id)));
    if (l.max !== Infinity) variants.push(variant('full', productions(others, final, l.id)));
    states.push({ id: l.id, leaf: l, variants });
  }
  return { type, states, leaves, keys };
}
