/**
 * The schema-informed element fragment grammar of EXI 1.0 section 8.5.3 (the "relaxed" one):
 * inside a fragment there is no parent to say which type an element has, so an element whose
 * qname is declared with different types (or nillable values) is coded with a grammar numbered
 * over every attribute qname (A, n of them) and every element qname (F, m of them) of the
 * schema, both sorted by local name, then namespace:
 *
 *   ElementFragment_0: AT(A_0..A_n-1) 0..n-1, AT(*) n, SE(F_0..F_m-1) n+1..n+m, SE(*) n+m+1,
 *                      EE n+m+2, CH [untyped value] n+m+3
 *   after CH or SE:    SE(F_0..F_m-1) 0..m-1, SE(*) m, EE m+1, CH [untyped value] m+2
 *
 * As every schema-informed element grammar in non-strict mode, each reserves one more
 * first-level code for its second level (EXIficient does; for ISO 15118-2 the widths, 9 and 8
 * bits, are the same either way). The one such element in the V2G schemas is ISO 15118-2 eMAID
 * (a string in PaymentDetailsReq, an EMAIDType with an Id attribute in CertificateInstallationRes),
 * which the certificate provisioning service signs; EXIficient (RISE-V2G) and cbexigen code it so.
 *
 * What is generated per element: the attributes its declared types carry (AT in qname order,
 * values typed when every declaration of that attribute qname has one type, else strings), and
 * one CH with the content as a string, then EE. JSON: the content alone as a string when there
 * are no attributes, else `{ <attribute>: ..., CONTENT: '...' }` as for simple content. Child
 * elements, AT(*), a second CH and second-level events fail with `unsupported`.
 */
import { bitsFor } from './grammar.js';
import { qcompare, qkey, type AttributeUse, type ComplexType, type ElementDecl, type QName, type SchemaSet, type SimpleInfo } from './xsd.js';

const complexIds = new WeakMap<ComplexType, number>();
let lastComplexId = 0;
/**
 * A key equal for declarations that share a grammar: complex types by identity, simple types by
 * what the codec does with them (every reference to `xs:short` is the same type).
 */
export function typeIdentity(t: ComplexType | SimpleInfo): string {
  if (t.kind === 'complex') {
    let id = complexIds.get(t);
    if (id === undefined) complexIds.set(t, (id = ++lastComplexId));
    return `complex#${id}`;
  }
  return JSON.stringify([t.builtin, t.category, t.enums ?? null, String(t.min), String(t.max), t.minLength ?? null, t.maxLength ?? null]);
}

const STRING: SimpleInfo = { kind: 'simple', builtin: 'string', category: 'string' };

export interface ValueEmitters {
  /** An expression decoding a value of `t` (string values use the table partition of `q`). */
  decodeValue(t: SimpleInfo, q: QName): string;
  /** A statement encoding the value expression `v`. */
  encodeValue(t: SimpleInfo, q: QName, v: string): string;
}

export interface RelaxedFragments {
  /**
   * The generated functions. Called after the type codecs are emitted, so that the string-table
   * ids the values use are numbered as without relaxed elements.
   */
  code(): string;
  decodeCall(d: ElementDecl): string;
  encodeCall(d: ElementDecl, v: string): string;
}

const ident = (s: string): string => s.replace(/[^\w$]/g, '_');
const prop = (k: string): string => (/^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`);

/**
 * @param elements one declaration per relaxed qname (the fragment grammar's entry)
 * @param elementCount m, the number of element qnames of the schema (the fragment grammar's F)
 */
export function emitRelaxedFragments(schema: SchemaSet, elements: readonly ElementDecl[], elementCount: number, values: ValueEmitters): RelaxedFragments {
  const names = new Map<string, string>();
  if (elements.length === 0) return { code: () => '', decodeCall: () => '', encodeCall: () => '' };

  // A: every attribute qname of the schema, sorted; its value type if all declarations agree.
  const attrTypes = new Map<string, { qname: QName; types: SimpleInfo[] }>();
  for (const a of schema.allAttributes) {
    const k = qkey(a.qname);
    const e = attrTypes.get(k) ?? { qname: a.qname, types: [] };
    e.types.push(a.type);
    attrTypes.set(k, e);
  }
  const attrs = [...attrTypes.values()].sort((a, b) => qcompare(a.qname, b.qname));
  const attrIndex = new Map(attrs.map((a, i) => [qkey(a.qname), i]));
  const attrType = (q: QName): SimpleInfo => {
    const { types } = attrTypes.get(qkey(q))!;
    return types.every((t) => typeIdentity(t) === typeIdentity(types[0]!)) ? types[0]! : STRING;
  };

  const n = attrs.length;
  const m = elementCount;
  const startBits = bitsFor(n + m + 4 + 1);
  const contentBits = bitsFor(m + 3 + 1);
  const EE0 = n + m + 2;
  const CH0 = n + m + 3;
  const EE2 = m + 1;

  elements.forEach((d, i) => names.set(qkey(d.qname), `RF_${ident(d.qname.local)}${i ? `_${i}` : ''}`));
  const code = (): string => {
  const out: string[] = [
    `/** An event of the relaxed element fragment grammar (EXI 1.0 8.5.3) this codec does not take. */`,
    `function relaxedEvent(r: BitReader, c: number, bits: number, start: boolean): never {`,
    `  const at = r.pos - bits;`,
    `  const n = ${n}, m = ${m};`,
    `  if (!start) c += n + 1;`,
    `  if (c < n) r.fail('unsupported', 'an attribute the element does not declare', at);`,
    `  if (c === n) r.fail('unsupported', 'an attribute not declared by the schema (AT(*))', at);`,
    `  if (c <= n + m + 1) r.fail('unsupported', 'element content in a relaxed element fragment', at);`,
    `  if (c === n + m + 3) r.fail('unsupported', 'a second character event in a relaxed element fragment', at);`,
    `  if (c === n + m + 4) r.fail('unsupported', 'second-level event (xsi:type, xsi:nil or undeclared content) is not supported', at);`,
    `  return r.fail('invalid-event-code', \`event code \${start ? c : c - n - 1} undefined here\`, at);`,
    `}`,
  ];

  for (const d of elements) {
    const decls = schema.allElements.filter((x) => qkey(x.qname) === qkey(d.qname));
    // The attributes the element's declared types carry, in event order.
    const own = new Map<string, AttributeUse>();
    for (const x of decls) if (x.type.kind === 'complex') for (const a of x.type.attributes) own.set(qkey(a.qname), a);
    const owned = [...own.values()].sort((a, b) => qcompare(a.qname, b.qname));
    const locals = owned.map((a) => a.qname.local);
    if (new Set(locals).size !== locals.length || locals.includes('CONTENT')) throw new Error(`relaxed fragment of ${qkey(d.qname)}: attribute local names collide`);
    const name = names.get(qkey(d.qname))!;
    const typeNames = [...new Set(decls.map((x) => (x.type.kind === 'complex' ? x.type.qname?.local ?? x.type.hint : x.type.name ?? x.type.builtin)))].join(', ');
    const content = (v: string): string => values.encodeValue(STRING, d.qname, v);

    out.push(
      `/** ${d.qname.local} in a fragment (declared as ${typeNames}): the relaxed element fragment grammar, EXI 1.0 8.5.3. */`,
      `function d_${name}(r: BitReader, st: StringTable): any {`,
      `  const o: any = {};`,
      `  let at = '', c = 0, k = 0;`,
      `  try {`,
      `    for (;;) {`,
      `      c = r.bits(${startBits});`,
      ...owned.map((a) => {
        const key = a.qname.local;
        return `      if (c === ${attrIndex.get(qkey(a.qname))}) { if (o${prop(key)} !== undefined) r.fail('unsupported', 'attribute ${key} repeated', r.pos - ${startBits}); at = ${JSON.stringify(key)}; o${prop(key)} = ${values.decodeValue(attrType(a.qname), a.qname)}; at = ''; k++; continue; }`;
      }),
      `      if (c === ${EE0}) return o;`,
      `      if (c === ${CH0}) break;`,
      `      relaxedEvent(r, c, ${startBits}, true);`,
      `    }`,
      `    at = 'CONTENT'; const v = ${values.decodeValue(STRING, d.qname)}; at = '';`,
      `    c = r.bits(${contentBits}); if (c !== ${EE2}) relaxedEvent(r, c, ${contentBits}, false);`,
      `    if (k === 0) return v;`,
      `    o.CONTENT = v;`,
      `    return o;`,
      `  } catch (e) { throw nest(e, at, r.pos); }`,
      `}`,
      `const K_${name}: readonly string[] = ${JSON.stringify([...locals, 'CONTENT'])};`,
      `function e_${name}(w: BitWriter, st: StringTable, value: unknown): void {`,
      `  let at = '';`,
      `  try {`,
      `    if (typeof value === 'string') { w.bits(${CH0}, ${startBits}); at = 'CONTENT'; ${content('value')} at = ''; w.bits(${EE2}, ${contentBits}); return; }`,
      `    const o: any = expectObject(w, value);`,
      `    let u = o.CONTENT !== undefined ? 1 : 0;`,
      ...locals.map((key) => `    if (o${prop(key)} !== undefined) u++;`),
      `    if (countKeys(o) !== u) leftoverKeys(w, o, K_${name});`,
      ...owned.map((a) => {
        const key = a.qname.local;
        return `    if (o${prop(key)} !== undefined) { w.bits(${attrIndex.get(qkey(a.qname))}, ${startBits}); at = ${JSON.stringify(key)}; ${values.encodeValue(attrType(a.qname), a.qname, `o${prop(key)}`)} at = ''; }`;
      }),
      `    if (o.CONTENT === undefined) { w.bits(${EE0}, ${startBits}); return; }`,
      `    w.bits(${CH0}, ${startBits}); at = 'CONTENT'; ${content('o.CONTENT')} at = ''; w.bits(${EE2}, ${contentBits});`,
      `  } catch (e) { throw nest(e, at, w.bitLength); }`,
      `}`,
    );
  }
  return out.join('\n');
  };
  return {
    code,
    decodeCall: (d) => `d_${names.get(qkey(d.qname))!}(r, st)`,
    encodeCall: (d, v) => `e_${names.get(qkey(d.qname))!}(w, st, ${v});`,
  };
}
