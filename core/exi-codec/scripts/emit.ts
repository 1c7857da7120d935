/**
 * Emits, for one schema set, straight-line TypeScript: a decoder and an encoder function per
 * complex type (a `switch` over grammar states, direct bit reads of each event code and value)
 * and the JSON document types.
 */
import { buildTypeGrammar, bitsFor, type Leaf, type Production, type TypeGrammar, type Variant, type State } from './grammar.js';
import { emitRelaxedFragments, typeIdentity } from './relaxed-fragment.js';
import { qkey, type ComplexType, type ElementDecl, type Particle, type QName, type SchemaSet, type SimpleInfo } from './xsd.js';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

type Repr =
  | { k: 'bool' }
  | { k: 'enum'; table: number; n: number; count: number; values: readonly string[] }
  | { k: 'nbit'; n: number; min: number; max: number }
  | { k: 'uint'; max: number }
  | { k: 'int'; min: number; max: number }
  | { k: 'big'; signed: boolean; min?: bigint; max?: bigint }
  | { k: 'binary'; maxLength: number }
  | { k: 'string'; maxLength: number }
  | { k: 'unsupported'; what: string };

const prop = (k: string): string => (/^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`);
const ident = (s: string): string => s.replace(/[^\w$]/g, '_');
const MAXLEN_UNBOUNDED = 'Infinity';

export interface EmittedSchema {
  readonly codec: string;
  readonly types: string;
  /** Global element local names in document-grammar order. */
  readonly globals: string[];
  readonly typeCount: number;
  /** A JSON description of the content models (for tests and tools that build documents). */
  readonly meta: string;
}

export function emitSchema(schema: SchemaSet, header: string, schemaName: string): EmittedSchema {
  // ---- collect complex types reachable from the global elements ----
  const grammars = new Map<ComplexType, TypeGrammar>();
  const order: ComplexType[] = [];
  const visit = (t: ComplexType | SimpleInfo): void => {
    if (t.kind !== 'complex' || grammars.has(t)) return;
    const g = buildTypeGrammar(t, schema);
    grammars.set(t, g);
    order.push(t);
    for (const l of g.leaves) if (l.kind === 'element') l.decls.forEach((d) => visit(d.type));
  };
  schema.globalElements.forEach((d) => visit(d.type));

  const names = new Map<ComplexType, string>();
  const used = new Set<string>();
  for (const t of order) {
    let base = ident(t.hint);
    let n = base;
    for (let i = 2; used.has(n); i++) n = `${base}_${i}`;
    used.add(n);
    names.set(t, n);
  }
  const fn = (t: ComplexType): string => names.get(t)!;

  // ---- string-table qname ids and enumeration tables ----
  const qids = new Map<string, number>();
  const qid = (q: QName): number => {
    const k = qkey(q);
    let id = qids.get(k);
    if (id === undefined) qids.set(k, (id = qids.size));
    return id;
  };
  const enumTables: string[][] = [];
  const enumIndex = new Map<string, number>();
  const enumTable = (values: readonly string[]): number => {
    const k = JSON.stringify(values);
    let id = enumIndex.get(k);
    if (id === undefined) {
      id = enumTables.length;
      enumTables.push([...values]);
      enumIndex.set(k, id);
    }
    return id;
  };

  const repr = (t: SimpleInfo): Repr => {
    if (t.enums && t.category !== 'other') {
      return { k: 'enum', table: enumTable(t.enums), n: bitsFor(t.enums.length), count: t.enums.length, values: t.enums };
    }
    switch (t.category) {
      case 'boolean':
        return { k: 'bool' };
      case 'binary':
        return { k: 'binary', maxLength: t.maxLength ?? Infinity };
      case 'string':
        return { k: 'string', maxLength: t.maxLength ?? Infinity };
      case 'integer': {
        const { min, max } = t;
        if (min !== undefined && max !== undefined && max - min + 1n <= 4096n) {
          return { k: 'nbit', n: bitsFor(Number(max - min + 1n)), min: Number(min), max: Number(max) };
        }
        if (min !== undefined && min >= 0n) {
          if (max !== undefined && max <= MAX_SAFE) return { k: 'uint', max: Number(max) };
          return { k: 'big', signed: false, ...(min !== undefined && { min }), ...(max !== undefined && { max }) };
        }
        if (min !== undefined && max !== undefined && min >= -MAX_SAFE && max <= MAX_SAFE) return { k: 'int', min: Number(min), max: Number(max) };
        return { k: 'big', signed: true, ...(min !== undefined && { min }), ...(max !== undefined && { max }) };
      }
      default:
        return { k: 'unsupported', what: `${t.builtin} values` };
    }
  };
  /**
   * The encoder's literal -> index lookup: a switch for short enumerations (string compares of
   * mostly internalized strings beat a Map lookup), the Map beyond SWITCH_MAX literals.
   */
  const SWITCH_MAX = 16;
  const enumIndexOf = (table: number, v: string): string =>
    enumTables[table]!.length <= SWITCH_MAX ? `EX${table}(w, ${v})` : `expectEnum(w, ${v}, EM${table})`;
  const len = (n: number): string => (n === Infinity ? MAXLEN_UNBOUNDED : String(n));
  const big = (v: bigint | undefined): string => (v === undefined ? 'undefined' : `${v}n`);
  /**
   * A 64-bit type's bounds as numbers too: safe-integer values compare against these (exact,
   * since a bound beyond the safe range rounds to a number still beyond it), not a BigInt.
   */
  const bigBounds = (min: bigint | undefined, max: bigint | undefined): string =>
    `${min === undefined ? '-Infinity' : String(Number(min))}, ${max === undefined ? 'Infinity' : String(Number(max))}, ${big(min)}, ${big(max)}`;

  const decodeValue = (t: SimpleInfo, q: QName): string => {
    const r = repr(t);
    switch (r.k) {
      case 'bool': return 'r.bits(1) === 1';
      case 'enum': return `EN${r.table}[r.enumIndex(${r.n}, ${r.count})]`;
      case 'nbit': return `r.nbit(${r.n}, ${r.min}, ${r.max})`;
      case 'uint': return `r.uint(${r.max})`;
      case 'int': return `r.int(${r.min}, ${r.max})`;
      case 'big': return `r.bigJson(${r.signed}, ${bigBounds(r.min, r.max)})`;
      case 'binary': return `r.hex(${len(r.maxLength)})`;
      case 'string': return `st.read(r, ${qid(q)}, ${len(r.maxLength)})`;
      case 'unsupported': return `r.fail('unsupported', ${JSON.stringify(`${r.what} are not supported`)})`;
    }
  };
  const encodeValue = (t: SimpleInfo, q: QName, v: string): string => {
    const r = repr(t);
    switch (r.k) {
      case 'bool': return `w.bits(expectBool(w, ${v}) ? 1 : 0, 1);`;
      case 'enum': return `w.bits(${enumIndexOf(r.table, v)}, ${r.n});`;
      case 'nbit': return `w.bits(expectInt(w, ${v}, ${r.min}, ${r.max})${r.min === 0 ? '' : ` - ${r.min}`}, ${r.n});`;
      case 'uint': return `w.uint(expectInt(w, ${v}, 0, ${r.max}));`;
      case 'int': return `w.int(expectInt(w, ${v}, ${r.min}, ${r.max}));`;
      case 'big': return `writeBig(w, ${v}, ${r.signed}, ${bigBounds(r.min, r.max)});`;
      case 'binary': return `writeHex(w, ${v}, ${len(r.maxLength)});`;
      case 'string': return `st.write(w, ${qid(q)}, expectString(w, ${v}), ${len(r.maxLength)});`;
      case 'unsupported': return `w.fail('unsupported', ${JSON.stringify(`${r.what} are not supported`)});`;
    }
  };
  const tsValue = (t: SimpleInfo): string => {
    const r = repr(t);
    switch (r.k) {
      case 'bool': return 'boolean';
      case 'enum': return r.values.map((v) => JSON.stringify(v)).join(' | ');
      case 'nbit': case 'uint': case 'int': return 'number';
      case 'big': return 'number | string';
      case 'binary': case 'string': return 'string';
      case 'unsupported': return 'unknown';
    }
  };
  const tsType = (t: ComplexType | SimpleInfo): string => (t.kind === 'complex' ? fn(t) : tsValue(t));

  // ---- decoder ----
  /**
   * A simple-typed element is CH (one 0 bit), the value, EE (one 0 bit). Inside complex types
   * the generated code folds those framing bits into the neighbouring event codes (the EE bit
   * is read with the next event code, the CH bit written with the event code that selects the
   * element); fixed-width values are read with their CH bit in one go.
   */
  const decodeOpen = (d: ElementDecl & { type: SimpleInfo }, codeBits = 0): string => {
    const rp = repr(d.type);
    // With codeBits, the event code after the value is read along (see fusedCodeBits).
    const framed = (n: number, min: number, max: number, isEnum = ''): string =>
      codeBits ? `r.framedCode(${n}, ${min}, ${max}, ${codeBits}${isEnum})` : `r.framedOpen(${n}, ${min}, ${max}${isEnum})`;
    if (rp.k === 'bool') return `${framed(1, 0, 1)} === 1`;
    if (rp.k === 'enum') return `EN${rp.table}[${framed(rp.n, 0, rp.count - 1, ', true')}]`;
    if (rp.k === 'nbit') return `${framed(rp.n, rp.min, rp.max)}`;
    if (rp.k === 'int') return `r.framedIntOpen(${rp.min}, ${rp.max})`;
    if (rp.k === 'uint') return `r.framedUintOpen(${rp.max})`;
    return `(r.ev0(), ${decodeValue(d.type, d.qname)})`;
  };
  /** The value of a simple-typed element without its framing bits. */
  const encodeBare = (d: ElementDecl & { type: SimpleInfo }, v: string): string => {
    const rp = repr(d.type);
    if (rp.k === 'bool') return `w.bits(expectBool(w, ${v}) ? 1 : 0, 1);`;
    if (rp.k === 'int') return `w.int(expectInt(w, ${v}, ${rp.min}, ${rp.max}));`;
    if (rp.k === 'uint') return `w.uint(expectInt(w, ${v}, 0, ${rp.max}));`;
    return encodeValue(d.type, d.qname, v);
  };
  /**
   * A fixed-width value (boolean, enumeration, n-bit integer) as an expression and its width:
   * the encoder writes it together with the event code that follows it (one write, not two).
   */
  const fixedValue = (d: ElementDecl & { type: SimpleInfo }, v: string): { expr: string; width: number } | undefined => {
    const rp = repr(d.type);
    if (rp.k === 'bool') return { expr: `expectBool(w, ${v}) ? 1 : 0`, width: 1 };
    if (rp.k === 'enum') return { expr: enumIndexOf(rp.table, v), width: rp.n };
    if (rp.k === 'nbit') return { expr: `expectInt(w, ${v}, ${rp.min}, ${rp.max})${rp.min === 0 ? '' : ` - ${rp.min}`}`, width: rp.n };
    return undefined;
  };
  const isSimpleDecl = (d: ElementDecl): d is ElementDecl & { type: SimpleInfo } => d.type.kind === 'simple';
  const decodeChild = (d: ElementDecl): string =>
    isSimpleDecl(d) ? `(v = ${decodeOpen(d)}, r.ev0(), v)` : `d_${fn(d.type as ComplexType)}(r, st)`;
  const encodeChild = (d: ElementDecl, v: string): string =>
    isSimpleDecl(d) ? `w.bits(0, 1); ${encodeBare(d, v)} w.bits(0, 1);` : `e_${fn(d.type as ComplexType)}(w, st, ${v});`;
  /** A particle whose elements are all simple-typed: its framing bits get folded. */
  const simpleLeaf = (l: Leaf | undefined): boolean => !!l && l.kind === 'element' && l.decls.every(isSimpleDecl);

  /**
   * Both directions share one layout per type: one block per grammar state, in particle order.
   * Entering state k means the item of particle k comes next, so block k first reads (writes)
   * that item, then its event code selects the next state. Transitions of sequences and
   * choices only go forward, so the blocks run top to bottom with no dispatch loop; a bounded
   * array repeats its own block (`while`), and only repeated groups need an outer loop.
   */
  const guardCond = (st: State, guard: Variant['guard'], counter: string): string => {
    const l = st.leaf!;
    switch (guard) {
      case 'below': return `${counter} < ${l.min}`;
      case 'mid': return l.max === Infinity ? 'true' : `${counter} < ${l.max}`;
      default: return 'true';
    }
  };
  /** Target state and, for substitution groups, the member index of a production. */
  const targetOf = (p: Production): { state: number; member: number } | undefined => {
    if (p.event === 'SE') return { state: p.leaf.id, member: p.leaf.decls.indexOf(p.decl) };
    if (p.event === 'AT' || p.event === 'CH') return { state: p.leaf.id, member: 0 };
    return undefined;
  };
  const hasBackEdge = (g: TypeGrammar): boolean =>
    g.states.some((st) => st.variants.some((v) => v.prods.some((p) => { const t = targetOf(p); return !!t && t.state < st.id; })));
  const selfLoop = (st: State): boolean => st.variants.some((v) => v.prods.some((p) => targetOf(p)?.state === st.id));

  const blocks = (g: TypeGrammar, content: (st: State) => string, dispatch: (v: Variant, ind: string, st: State) => string, ind: string): string => {
    return g.states
      .map((st) => {
        const head = selfLoop(st) ? `while (s === ${st.id})` : `if (s === ${st.id})`;
        const body: string[] = [];
        const c = content(st);
        if (c) body.push(`${ind}  ${c}`);
        if (st.variants.length === 1) body.push(dispatch(st.variants[0]!, `${ind}  `, st));
        else {
          st.variants.forEach((v, i) => {
            const last = i === st.variants.length - 1;
            const h = last ? '} else {' : i === 0 ? `if (${guardCond(st, v.guard, `n${st.id}`)}) {` : `} else if (${guardCond(st, v.guard, `n${st.id}`)}) {`;
            body.push(`${ind}  ${h}`);
            body.push(dispatch(v, `${ind}    `, st));
          });
          body.push(`${ind}  }`);
        }
        return `${ind}${head} {\n${body.join('\n')}\n${ind}}`;
      })
      .join('\n');
  };

  /**
   * A state whose fixed-width simple value (boolean, enumeration, n-bit integer) is read in one
   * go with the event code after it (its EE bit included): that code's width, else 0.
   */
  const fusedCodeBits = (st: State): number => {
    const l = st.leaf;
    if (!l || l.kind !== 'element' || l.decls.length !== 1 || !simpleLeaf(l) || st.variants.length !== 1) return 0;
    const rp = repr((l.decls[0] as ElementDecl & { type: SimpleInfo }).type);
    const n = rp.k === 'bool' ? 1 : rp.k === 'enum' || rp.k === 'nbit' ? rp.n : -1;
    const k = st.variants[0]!.bits + 1;
    // One read of at most 24 bits (CH, value, EE and code) is what BitReader.bits does fastest.
    return n >= 0 && n + 1 + k <= 24 ? k : 0;
  };
  const decoderFor = (t: ComplexType): string => {
    const g = grammars.get(t)!;
    const counters = g.leaves.filter((l) => l.counter).map((l) => `n${l.id} = 0`);
    const loop = hasBackEdge(g);
    const ind = loop ? '      ' : '    ';
    const content = (st: State): string => {
      const l = st.leaf;
      if (!l) return '';
      switch (l.kind) {
        case 'attr': {
          const k = l.attr.qname.local;
          return `at = ${JSON.stringify(k)}; o${prop(k)} = ${decodeValue(l.attr.type, l.attr.qname)}; at = '';`;
        }
        case 'chars':
          return `at = 'CONTENT'; o.CONTENT = ${decodeValue(l.type, { ns: '', local: '#content' })}; at = '';`;
        case 'any':
          return `r.fail('unsupported', 'wildcard element content (SE(*)) is not supported');`;
        case 'element': {
          const one = (d: ElementDecl): string => {
            const k = d.qname.local;
            const fk = fusedCodeBits(st);
            const val = simpleLeaf(l) ? decodeOpen(d as ElementDecl & { type: SimpleInfo }, fk) : decodeChild(d);
            return `at = ${JSON.stringify(k)}; ${l.array ? `(o${prop(k)} ??= []).push(${val});` : `o${prop(k)} = ${val};`}`;
          };
          const count = l.counter ? ` n${l.id}++;` : '';
          if (l.decls.length === 1) return `${one(l.decls[0]!)}${count} at = '';`;
          return `switch (a) {\n${l.decls.map((d, i) => `${ind}    case ${i}: ${one(d)} break;`).join('\n')}\n${ind}  }${count} at = '';`;
        }
      }
    };
    const dispatch = (v: Variant, i2: string, st: State): string => {
      const n = v.prods.length;
      // After a simple-typed element, its EE bit (0) is read together with this event code.
      const ee = simpleLeaf(st.leaf) ? 1 : 0;
      const bits = v.bits + ee;
      const bad = ee ? `r.badEventAfterValue(c, ${n}, ${v.bits})` : `r.badEvent(c, ${n}, ${v.bits})`;
      const arms = v.prods.map((p, code) => {
        if (p.event === 'EE') return [code, 'return o;'] as const;
        const tg = targetOf(p);
        if (tg) return [code, `s = ${tg.state};${p.event === 'SE' && p.leaf.decls.length > 1 ? ` a = ${tg.member};` : ''}`] as const;
        return [code, `r.fail('unsupported', ${JSON.stringify(p.event === 'SE*' ? 'wildcard element content (SE(*)) is not supported' : 'mixed character content is not supported')}, r.pos - ${v.bits});`] as const;
      });
      if (n <= 3) {
        // A fused state's code was read with its value (r.code, -1 when the stream ended first).
        const read = fusedCodeBits(st) ? 'r.code' : bits === 1 ? 'r.bit()' : `r.bits(${bits})`;
        return `${i2}c = ${read}; ${arms.map(([code, body]) => `if (c === ${code}) { ${body} }`).join(' else ')} else ${bad};`;
      }
      return `${i2}switch (c = ${fusedCodeBits(st) ? 'r.code' : `r.bits(${bits})`}) {\n${arms.map(([code, body]) => `${i2}  case ${code}: ${body}${body.startsWith('s =') ? ' break;' : ''}`).join('\n')}\n${i2}  default: ${bad};\n${i2}}`;
    };
    const body = blocks(g, content, dispatch, ind);
    return [
      `function d_${fn(t)}(r: BitReader, st: StringTable): any {`,
      `  const o: any = {};`,
      `  let s = 0, c = 0, a = 0, at = '', v: any;${counters.length ? `\n  let ${counters.join(', ')};` : ''}`,
      `  try {`,
      loop ? `    for (;;) {\n${body}\n    }` : `${body}\n    return o;`,
      `  } catch (e) { throw nest(e, at, r.pos); }`,
      `}`,
    ].join('\n');
  };

  // ---- encoder ----
  /** Width of the fixed-width value a state writes (fused with the next event code), else 0. */
  const fusedWidth = (st: State): number => {
    const l = st.leaf;
    if (!l || l.kind !== 'element' || l.decls.length !== 1 || !simpleLeaf(l)) return 0;
    const width = fixedValue(l.decls[0] as ElementDecl & { type: SimpleInfo }, '')?.width ?? 0;
    // The widest write of value and code (EE, code, CH) stays a plain 32-bit-safe shift.
    return width + Math.max(...st.variants.map((v) => v.bits + 2)) <= 24 ? width : 0;
  };
  const encoderFor = (t: ComplexType): string => {
    const g = grammars.get(t)!;
    const keys = [...g.keys.values()];
    const arrays = keys.filter((k) => k.array);
    const aVar = (k: string): string => `A_${ident(k)}`;
    const iVar = (k: string): string => `i_${ident(k)}`;
    const pending = (k: string): string => (g.keys.get(k)!.array ? `${iVar(k)} < ${aVar(k)}.length` : `o${prop(k)} !== undefined`);
    const take = (k: string): string => (g.keys.get(k)!.array ? `${aVar(k)}[${iVar(k)}++]` : `o${prop(k)}`);
    const useCount = (k: string): string => (g.keys.get(k)!.array ? `if (${iVar(k)} === 0) u++; ` : 'u++; ');
    const keyOfProd = (p: Production): string | undefined =>
      p.event === 'SE' ? p.decl.qname.local : p.event === 'AT' ? p.leaf.attr.qname.local : p.event === 'CH' ? 'CONTENT' : undefined;
    // Unknown keys: the keys counted here (inline, so that for-in sees one object shape per
    // type, not every shape through a shared helper) can only exceed u by unknown keys or keys
    // set to undefined; countKeys, which skips the latter, settles it only then.
    const leftover = [`kn !== u && countKeys(o) !== u`, ...arrays.map((a) => `${iVar(a.name)} !== ${aVar(a.name)}.length`)].join(' || ');
    const loop = hasBackEdge(g);
    const ind = loop ? '      ' : '    ';
    const content = (st: State): string => {
      const l = st.leaf;
      if (!l) return '';
      switch (l.kind) {
        case 'attr': {
          const k = l.attr.qname.local;
          return `at = ${JSON.stringify(k)}; u++; ${encodeValue(l.attr.type, l.attr.qname, take(k))} at = '';`;
        }
        case 'chars':
          return `at = 'CONTENT'; u++; ${encodeValue(l.type, { ns: '', local: '#content' }, 'o.CONTENT')} at = '';`;
        case 'any':
          return `w.fail('unsupported', 'wildcard element content is not supported');`;
        case 'element': {
          const fx = fusedWidth(st);
          const one = (d: ElementDecl): string => {
            const k = d.qname.local;
            const body = fx
              ? `x = ${fixedValue(d as ElementDecl & { type: SimpleInfo }, take(k))!.expr};`
              : simpleLeaf(l) ? encodeBare(d as ElementDecl & { type: SimpleInfo }, take(k)) : encodeChild(d, take(k));
            return `at = ${JSON.stringify(k)}; ${useCount(k)}${body}`;
          };
          const count = l.counter ? ` n${l.id}++;` : '';
          if (l.decls.length === 1) return `${one(l.decls[0]!)}${count} at = '';`;
          return `switch (a) {\n${l.decls.map((d, i) => `${ind}    case ${i}: ${one(d)} break;`).join('\n')}\n${ind}  }${count} at = '';`;
        }
      }
    };
    const dispatch = (v: Variant, i2: string, st: State): string => {
      const arms: string[] = [];
      let ee: string | undefined;
      // A fixed-width value of this state (in x) goes out with the event code after it; on the
      // failure paths it is written first, so that errors report the same bit offset.
      const fx = fusedWidth(st);
      const write = (code: number, n: number): string => (fx ? `w.bits(x << ${n}${code ? ` | ${code}` : ''}, ${fx + n});` : `w.bits(${code}, ${n});`);
      const flushValue = fx ? `w.bits(x, ${fx}); ` : '';
      // The EE bit (0) of a simple-typed element just written leads this event code, and the CH
      // bit (0) of a simple-typed element selected here follows it.
      const lead = simpleLeaf(st.leaf) ? 1 : 0;
      v.prods.forEach((p, code) => {
        const k = keyOfProd(p);
        const tg = targetOf(p);
        const ch = p.event === 'SE' && simpleLeaf(p.leaf) ? 1 : 0;
        if (k && tg) arms.push(`if (${pending(k)}) { ${write(code << ch, v.bits + lead + ch)} s = ${tg.state};${p.event === 'SE' && p.leaf.decls.length > 1 ? ` a = ${tg.member};` : ''} }`);
        // (After wildcard content, which always fails, TypeScript would type a loop's result never.)
        else if (p.event === 'EE') ee = `{ ${st.leaf?.kind === 'any' ? 'kn = countKeys(o);' : 'kn = 0; for (const _k in o) kn++;'} if (${leftover}) ${fx ? `{ ${flushValue}leftoverKeys(w, o, K_${fn(t)}); }` : `leftoverKeys(w, o, K_${fn(t)});`} ${write(code, v.bits + lead)} return; }`;
      });
      if (ee) arms.push(ee);
      else {
        const expected = [...new Set(v.prods.map(keyOfProd).filter((k): k is string => !!k))];
        const fail = `w.fail('missing-element', ${JSON.stringify(`missing ${expected.join(' or ')}`)});`;
        arms.push(fx ? `{ ${flushValue}${fail} }` : fail);
      }
      return `${i2}${arms.join(`\n${i2}else `)}`;
    };
    const arrayDecls = arrays.map((a) => `  const ${aVar(a.name)} = expectArray(w, o${prop(a.name)}, ${JSON.stringify(a.name)}); let ${iVar(a.name)} = 0;`);
    const counters = g.leaves.filter((l) => l.counter).map((l) => `n${l.id} = 0`);
    const body = blocks(g, content, dispatch, ind);
    return [
      `const K_${fn(t)}: readonly string[] = ${JSON.stringify(keys.map((k) => k.name))};`,
      `function e_${fn(t)}(w: BitWriter, st: StringTable, value: unknown): void {`,
      `  const o: any = expectObject(w, value);`,
      `  let s = 0, u = 0, a = 0, at = '', kn = 0;${g.states.some((st) => fusedWidth(st)) ? ' let x = 0;' : ''}${counters.length ? `\n  let ${counters.join(', ')};` : ''}`,
      ...arrayDecls,
      `  try {`,
      loop ? `    for (;;) {\n${body}\n    }` : body,
      `  } catch (e) { throw nest(e, at, w.bitLength); }`,
      `}`,
    ].join('\n');
  };

  // ---- document grammar: SE(G0..Gn-1), SE(*) ----
  const globals = schema.globalElements;
  const docBits = bitsFor(globals.length + 1);
  const docDecode = [
    `/** Decodes the body of an EXI document (after the header): one global element, then ED. */`,
    `export function decodeDocument(r: BitReader, st: StringTable): any {`,
    `  const c = r.bits(${docBits});`,
    `  let v: any;`,
    `  switch (c) {`,
    ...globals.map((d, i) => `    case ${i}: try { return { ${JSON.stringify(d.qname.local)}: ${decodeChild(d)} }; } catch (e) { throw nest(e, ${JSON.stringify(d.qname.local)}, r.pos); }`),
    `  }`,
    `  return r.fail(c === ${globals.length} ? 'unsupported' : 'invalid-event-code', c === ${globals.length} ? 'element not declared by the schema (SE(*))' : \`document event code \${c} undefined\`, r.pos - ${docBits});`,
    `}`,
  ].join('\n');
  const docEncode = [
    `const DOCUMENT_INDEX: ReadonlyMap<string, number> = new Map(GLOBAL_ELEMENTS.map((k, i) => [k, i] as [string, number]).reverse());`,
    `/** Encodes a document \`{ <global element>: value }\` (after the header). */`,
    `export function encodeDocument(w: BitWriter, st: StringTable, doc: unknown): void {`,
    `  const o: any = expectObject(w, doc);`,
    `  let k = '', n = 0;`,
    `  for (const key in o) { k = key; n++; }`,
    `  if (n !== 1) w.fail('invalid-value', \`a document has exactly one key (its root element), got \${n}\`);`,
    `  const i = DOCUMENT_INDEX.get(k);`,
    `  if (i === undefined) return w.fail('unexpected-element', \`\${k} is not a global element of this schema\`);`,
    `  w.bits(i, ${docBits});`,
    `  try {`,
    `    switch (i) {`,
    // A named load (o.V2G_Message) stays monomorphic where o[k] would be a keyed lookup.
    ...globals.map((d, i) => `      case ${i}: ${encodeChild(d, `o${prop(d.qname.local)}`)} return;`),
    `    }`,
    `  } catch (e) { throw nest(e, k, w.bitLength); }`,
    `}`,
  ].join('\n');

  // ---- fragment grammar (EXI 1.0 8.5.4.1.2): SE(F0..Fn-1), SE(*), ED over every element declaration ----
  const byQName = new Map<string, ElementDecl[]>();
  for (const d of schema.allElements) {
    const k = qkey(d.qname);
    if (!byQName.has(k)) byQName.set(k, []);
    byQName.get(k)!.push(d);
  }
  const fragmentDecls = [...byQName.values()].map((ds) => ds[0]!).sort((a, b) => (a.qname.local < b.qname.local ? -1 : a.qname.local > b.qname.local ? 1 : a.qname.ns < b.qname.ns ? -1 : a.qname.ns > b.qname.ns ? 1 : 0));
  /**
   * Declarations of one qname share a grammar when their types are the same (complex types by
   * identity, simple types by value space: every `xs:short` reference is one type) and they agree
   * on nillable. Otherwise a fragment has no context to pick one: EXI 1.0 8.5.3 codes the element
   * with the relaxed element fragment grammar (ISO 15118-2: eMAID, a string in PaymentDetailsReq
   * and an Id-carrying EMAIDType in CertificateInstallationRes).
   */
  const sameTypes = (ds: readonly ElementDecl[]): boolean =>
    ds.every((x) => typeIdentity(x.type) === typeIdentity(ds[0]!.type) && x.nillable === ds[0]!.nillable);
  const relaxed = (d: ElementDecl): boolean => !sameTypes(byQName.get(qkey(d.qname))!);
  // Only elements whose type the documents already use get fragment support: the rest (declared
  // in types no message reaches) would double the generated code for no message.
  const fragmentUsable = (d: ElementDecl): boolean =>
    !relaxed(d) && (d.type.kind === 'simple' || grammars.has(d.type));
  for (const t of order) if (!names.has(t)) {
    let n = ident(t.hint);
    for (let i = 2; used.has(n); i++) n = `${ident(t.hint)}_${i}`;
    used.add(n);
    names.set(t, n);
  }
  const relaxedCodecs = emitRelaxedFragments(schema, fragmentDecls.filter(relaxed), fragmentDecls.length, { decodeValue, encodeValue });
  const fragBits = bitsFor(fragmentDecls.length + 2);
  const unusable = fragmentDecls.map((d, i) => (fragmentUsable(d) || relaxed(d) ? -1 : i)).filter((i) => i >= 0);
  const UNUSABLE_MSG = `'fragment of an element that no message uses is not supported'`;
  const fragDecode = [
    `/** Decodes the body of an EXI fragment (after the header): elements until ED, as { name: content } in stream order. */`,
    `export function decodeFragment(r: BitReader, st: StringTable): any {`,
    `  const out: any = {};`,
    `  let v: any, k = '';`,
    `  for (;;) {`,
    `    const c = r.bits(${fragBits});`,
    `    if (c === ${fragmentDecls.length + 1}) return out;`,
    `    if (c >= ${fragmentDecls.length}) r.fail(c === ${fragmentDecls.length} ? 'unsupported' : 'invalid-event-code', c === ${fragmentDecls.length} ? 'element not declared by the schema (SE(*))' : \`fragment event code \${c} undefined\`, r.pos - ${fragBits});`,
    `    k = FRAGMENT_ELEMENTS[c]!;`,
    `    if (k in out) r.fail('unsupported', 'a fragment repeating an element is not supported');`,
    `    try {`,
    `      switch (c) {`,
    ...fragmentDecls.map((d, i) => (fragmentUsable(d) ? `        case ${i}: v = ${decodeChild(d)}; break;` : relaxed(d) ? `        case ${i}: v = ${relaxedCodecs.decodeCall(d)}; break;` : '')).filter(Boolean),
    ...(unusable.length ? [`        default: r.fail('unsupported', ${UNUSABLE_MSG});`] : []),
    `      }`,
    `    } catch (e) { throw nest(e, k, r.pos); }`,
    `    out[k] = v;`,
    `  }`,
    `}`,
  ].join('\n');
  const fragIndex = new Map<string, number>();
  fragmentDecls.forEach((d, i) => { if (!fragIndex.has(d.qname.local)) fragIndex.set(d.qname.local, i); });
  const fragEncode = [
    `const FRAGMENT_ELEMENTS: readonly string[] = ${JSON.stringify(fragmentDecls.map((d) => d.qname.local))};`,
    `const FRAGMENT_INDEX: ReadonlyMap<string, number> = new Map(FRAGMENT_ELEMENTS.map((k, i) => [k, i] as [string, number]).reverse());`,
    `/** Encodes a fragment \`{ name: content, ... }\` (keys in stream order), e.g. { SignedInfo: {...} }. */`,
    `export function encodeFragment(w: BitWriter, st: StringTable, doc: unknown): void {`,
    `  const o: any = expectObject(w, doc);`,
    `  for (const k of Object.keys(o)) {`,
    `    if (o[k] === undefined) continue;`,
    `    const i = FRAGMENT_INDEX.get(k);`,
    `    if (i === undefined) w.fail('unexpected-element', \`\${k} is not an element of this schema\`);`,
    `    try {`,
    `      switch (i) {`,
    ...[...fragIndex].map(([, i]) => {
      const d = fragmentDecls[i]!;
      if (fragmentUsable(d)) return `        case ${i}: w.bits(${i}, ${fragBits}); ${encodeChild(d, 'o[k]')} break;`;
      return relaxed(d) ? `        case ${i}: w.bits(${i}, ${fragBits}); ${relaxedCodecs.encodeCall(d, 'o[k]')} break;` : '';
    }).filter(Boolean),
    `        default: w.fail('unsupported', ${UNUSABLE_MSG});`,
    `      }`,
    `    } catch (e) { throw nest(e, k, w.bitLength); }`,
    `  }`,
    `  w.bits(${fragmentDecls.length + 1}, ${fragBits});`,
    `}`,
  ].join('\n');

  const decoders = order.map(decoderFor);
  const encoders = order.map(encoderFor);
  const relaxedCode = relaxedCodecs.code();
  const enumConsts = enumTables.map((v, i) => {
    const consts = `const EN${i} = ${JSON.stringify(v)};\nconst EM${i}: ReadonlyMap<string, number> = new Map(EN${i}.map((s, i) => [s, i]));`;
    if (v.length > SWITCH_MAX) return consts;
    // Same index as the Map (the last one, should a literal repeat); misses fail via expectEnum.
    const cases = [...new Map(v.map((s, k) => [s, k]))].map(([s, k]) => `    case ${JSON.stringify(s)}: return ${k};`);
    return `${consts}\nfunction EX${i}(w: BitWriter, v: unknown): number {\n  switch (v) {\n${cases.join('\n')}\n  }\n  return expectEnum(w, v, EM${i});\n}`;
  });

  const codec = [
    header,
    `/* eslint-disable */`,
    `import { BitReader, BitWriter, StringTable, nest, expectObject, expectArray, expectInt, writeBig, expectBool, expectString, expectEnum, writeHex, countKeys, leftoverKeys } from '../../runtime/index.js';`,
    ``,
    `export const SCHEMA = ${JSON.stringify(schemaName)};`,
    `export const GLOBAL_ELEMENTS: readonly string[] = ${JSON.stringify(globals.map((d) => d.qname.local))};`,
    ...enumConsts,
    ``,
    ...decoders,
    ``,
    ...encoders,
    ``,
    docDecode,
    ``,
    docEncode,
    ``,
    ...(relaxedCode ? [relaxedCode, ``] : []),
    fragDecode,
    ``,
    fragEncode,
    ``,
  ].join('\n');

  // ---- TypeScript document types ----
  const typeDecls = order.map((t) => {
    const g = grammars.get(t)!;
    const fields = [...g.keys.values()].map((k) => {
      const inner = [...new Set(k.types.map(tsType))].join(' | ');
      const ty = k.array ? `Array<${inner}>` : inner;
      return `  ${/^[A-Za-z_$][\w$]*$/.test(k.name) ? k.name : JSON.stringify(k.name)}${k.required ? '' : '?'}: ${ty};`;
    });
    return `export interface ${fn(t)} {\n${fields.join('\n')}\n}`;
  });
  const docUnion = globals.map((d) => `{ ${d.qname.local}: ${tsType(d.type)} }`);
  const types = [
    header,
    `/* eslint-disable */`,
    ...typeDecls,
    ``,
    `/** A document of this schema: one global element. */`,
    `export type Document =\n  | ${docUnion.join('\n  | ')};`,
    ``,
  ].join('\n');

  // ---- content-model description ----
  const valueMeta = (t: SimpleInfo): unknown => {
    const r = repr(t);
    switch (r.k) {
      case 'enum': return { k: 'enum', values: r.values };
      case 'nbit': case 'uint': case 'int': return { k: 'int', min: String(r.k === 'uint' ? 0 : r.min), max: String(r.max) };
      case 'big': return { k: 'int', ...(r.min !== undefined && { min: String(r.min) }), ...(r.max !== undefined && { max: String(r.max) }) };
      case 'binary': case 'string': return { k: r.k, ...(r.maxLength !== Infinity && { maxLength: r.maxLength }), ...(t.minLength !== undefined && { minLength: t.minLength }) };
      default: return { k: r.k };
    }
  };
  const refMeta = (t: ComplexType | SimpleInfo): unknown => (t.kind === 'complex' ? fn(t) : valueMeta(t));
  const particleMeta = (p: Particle): unknown => {
    const occ = { min: p.min, max: p.max === Infinity ? 'unbounded' : p.max };
    const term = p.term;
    if (term.kind === 'element') {
      const head = term.decl;
      const members = [head, ...(schema.substitutions.get(qkey(head.qname)) ?? [])];
      return { el: members.map((d) => ({ key: d.qname.local, type: refMeta(d.type), ...(d.abstract && { abstract: true }) })), ...occ };
    }
    if (term.kind === 'any') return { any: term.namespace, ...occ };
    return { [term.kind === 'choice' ? 'choice' : 'seq']: term.particles.map(particleMeta), ...occ };
  };
  const metaTypes: Record<string, unknown> = {};
  for (const t of order) {
    const g = grammars.get(t)!;
    metaTypes[fn(t)] = {
      attributes: t.attributes.map((a) => ({ key: a.qname.local, required: a.required, type: valueMeta(a.type) })),
      ...(t.content.kind === 'simple' && { simple: valueMeta(t.content.type) }),
      ...(t.content.kind === 'elements' && { particle: particleMeta(t.content.particle), mixed: t.content.mixed }),
      arrays: [...g.keys.values()].filter((k) => k.array).map((k) => k.name),
    };
  }
  const meta = `${JSON.stringify({ schema: schemaName, globals: globals.map((d) => ({ key: d.qname.local, ns: d.qname.ns, type: refMeta(d.type), ...(d.abstract && { abstract: true }) })), types: metaTypes })}\n`;

  return { codec, types, globals: globals.map((d) => d.qname.local), typeCount: order.length, meta };
}
