/**
 * Loads a set of XSD files (following xs:import/xs:include) into the resolved schema model the
 * grammar builder needs: element declarations, complex types with their content particles and
 * attribute uses, simple types reduced to a built-in base plus facets.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseXml, localOf, type XmlElement } from './xml.js';

export const XS = 'http://www.w3.org/2001/XMLSchema';

export interface QName {
  readonly ns: string;
  readonly local: string;
}
export const qkey = (q: QName): string => `{${q.ns}}${q.local}`;
/** EXI orders qualified names by local name, then by namespace URI. */
export const qcompare = (a: QName, b: QName): number =>
  a.local < b.local ? -1 : a.local > b.local ? 1 : a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0;

export type Category = 'string' | 'boolean' | 'binary' | 'integer' | 'decimal' | 'float' | 'other';

export interface SimpleInfo {
  readonly kind: 'simple';
  /** The built-in type the derivation chain starts from, e.g. `unsignedShort`. */
  readonly builtin: string;
  readonly category: Category;
  readonly enums?: readonly string[];
  readonly min?: bigint;
  readonly max?: bigint;
  readonly minLength?: number;
  readonly maxLength?: number;
  /** Local name when the type is named. */
  readonly name?: string;
}

export interface AttributeUse {
  readonly qname: QName;
  readonly type: SimpleInfo;
  readonly required: boolean;
}

export type Term =
  | { readonly kind: 'element'; readonly decl: ElementDecl }
  | { readonly kind: 'sequence' | 'choice' | 'all'; readonly particles: Particle[] }
  | { readonly kind: 'any'; readonly namespace: string };

export interface Particle {
  readonly min: number;
  /** Infinity when unbounded. */
  readonly max: number;
  readonly term: Term;
}

export type Content =
  | { readonly kind: 'empty' }
  | { readonly kind: 'simple'; readonly type: SimpleInfo }
  | { readonly kind: 'elements'; readonly particle: Particle; readonly mixed: boolean };

export interface ComplexType {
  readonly kind: 'complex';
  /** Qualified name for named types; undefined for anonymous ones. */
  readonly qname?: QName;
  /** Suggested identifier for generated code. */
  hint: string;
  attributes: AttributeUse[];
  content: Content;
  abstract: boolean;
}

export interface ElementDecl {
  readonly qname: QName;
  type: ComplexType | SimpleInfo;
  readonly global: boolean;
  readonly abstract: boolean;
  readonly substitutionGroup?: QName;
  readonly nillable: boolean;
}

export interface SchemaSet {
  readonly globalElements: ElementDecl[];
  /** Every element declaration, global and local (for the fragment grammar). */
  readonly allElements: ElementDecl[];
  /** Every attribute declaration, global and local (the relaxed element fragment grammar numbers them). */
  readonly allAttributes: AttributeUse[];
  /**
   * Members of the substitution group headed by the key (transitively), head excluded. Abstract
   * ones stay: the V2G codecs (OpenV2G, cbexigen) give them event codes too, and real streams
   * depend on that numbering.
   */
  readonly substitutions: Map<string, ElementDecl[]>;
}

interface SchemaDoc {
  readonly root: XmlElement;
  readonly tns: string;
  readonly qualifiedElements: boolean;
  readonly qualifiedAttributes: boolean;
}

const TWO = 2n;
const BUILTIN_INTEGER_RANGES: Record<string, [bigint | undefined, bigint | undefined]> = {
  integer: [undefined, undefined],
  nonNegativeInteger: [0n, undefined],
  positiveInteger: [1n, undefined],
  nonPositiveInteger: [undefined, 0n],
  negativeInteger: [undefined, -1n],
  long: [-(TWO ** 63n), TWO ** 63n - 1n],
  int: [-(TWO ** 31n), TWO ** 31n - 1n],
  short: [-32768n, 32767n],
  byte: [-128n, 127n],
  unsignedLong: [0n, TWO ** 64n - 1n],
  unsignedInt: [0n, TWO ** 32n - 1n],
  unsignedShort: [0n, 65535n],
  unsignedByte: [0n, 255n],
};
const STRING_TYPES = new Set([
  'string', 'normalizedString', 'token', 'language', 'Name', 'NCName', 'NMTOKEN', 'NMTOKENS', 'ID', 'IDREF',
  'IDREFS', 'ENTITY', 'ENTITIES', 'anyURI', 'QName', 'NOTATION', 'anySimpleType',
]);

function builtinInfo(local: string): SimpleInfo {
  if (local in BUILTIN_INTEGER_RANGES) {
    const [min, max] = BUILTIN_INTEGER_RANGES[local]!;
    return { kind: 'simple', builtin: local, category: 'integer', ...(min !== undefined && { min }), ...(max !== undefined && { max }) };
  }
  if (STRING_TYPES.has(local)) return { kind: 'simple', builtin: local, category: 'string' };
  if (local === 'boolean') return { kind: 'simple', builtin: local, category: 'boolean' };
  if (local === 'hexBinary' || local === 'base64Binary') return { kind: 'simple', builtin: local, category: 'binary' };
  if (local === 'decimal') return { kind: 'simple', builtin: local, category: 'decimal' };
  if (local === 'float' || local === 'double') return { kind: 'simple', builtin: local, category: 'float' };
  return { kind: 'simple', builtin: local, category: 'other' };
}

const occurs = (el: XmlElement, attr: 'minOccurs' | 'maxOccurs'): number => {
  const v = el.attrs[attr];
  if (v === undefined) return 1;
  return v === 'unbounded' ? Infinity : Number(v);
};

export function loadSchemaSet(entryFiles: string[]): SchemaSet {
  const docs = new Map<string, SchemaDoc>();
  const load = (file: string): void => {
    const path = resolve(file);
    if (docs.has(path)) return;
    const root = parseXml(readFileSync(path, 'utf8'), path);
    const doc: SchemaDoc = {
      root,
      tns: root.attrs.targetNamespace ?? '',
      qualifiedElements: root.attrs.elementFormDefault === 'qualified',
      qualifiedAttributes: root.attrs.attributeFormDefault === 'qualified',
    };
    docs.set(path, doc);
    for (const c of root.children) {
      const l = localOf(c.name);
      if ((l === 'import' || l === 'include') && c.attrs.schemaLocation) load(resolve(dirname(path), c.attrs.schemaLocation));
    }
  };
  entryFiles.forEach(load);

  // Index the global components by qualified name.
  const globalEls = new Map<string, { el: XmlElement; doc: SchemaDoc }>();
  const globalTypes = new Map<string, { el: XmlElement; doc: SchemaDoc }>();
  const globalAttrs = new Map<string, { el: XmlElement; doc: SchemaDoc }>();
  const groups = new Map<string, { el: XmlElement; doc: SchemaDoc }>();
  for (const doc of docs.values()) {
    for (const c of doc.root.children) {
      const l = localOf(c.name);
      const name = c.attrs.name;
      if (!name) continue;
      const key = qkey({ ns: doc.tns, local: name });
      if (l === 'element') globalEls.set(key, { el: c, doc });
      else if (l === 'complexType' || l === 'simpleType') globalTypes.set(key, { el: c, doc });
      else if (l === 'attribute') globalAttrs.set(key, { el: c, doc });
      else if (l === 'group') groups.set(key, { el: c, doc });
    }
  }

  const resolveQName = (el: XmlElement, value: string): QName => {
    const c = value.indexOf(':');
    const prefix = c < 0 ? '' : value.slice(0, c);
    const ns = el.ns.get(prefix);
    if (ns === undefined && prefix !== '') throw new Error(`unknown prefix in ${value}`);
    return { ns: ns ?? '', local: c < 0 ? value : value.slice(c + 1) };
  };
  const kids = (el: XmlElement, ...names: string[]): XmlElement[] =>
    el.children.filter((c) => names.includes(localOf(c.name)));
  const kid = (el: XmlElement, ...names: string[]): XmlElement | undefined => kids(el, ...names)[0];

  const namedTypes = new Map<string, ComplexType | SimpleInfo>();
  const globalDecls = new Map<string, ElementDecl>();
  const allElements: ElementDecl[] = [];
  const allAttributes: AttributeUse[] = [];

  const typeByName = (q: QName): ComplexType | SimpleInfo => {
    if (q.ns === XS) {
      if (q.local === 'anyType') return anyType();
      return builtinInfo(q.local);
    }
    const key = qkey(q);
    const done = namedTypes.get(key);
    if (done) return done;
    const g = globalTypes.get(key);
    if (!g) throw new Error(`unknown type ${key}`);
    if (localOf(g.el.name) === 'simpleType') {
      const info = { ...simpleType(g.el), name: q.local };
      namedTypes.set(key, info);
      return info;
    }
    // Register before building so recursive references resolve.
    const ct: ComplexType = { kind: 'complex', qname: q, hint: q.local, attributes: [], content: { kind: 'empty' }, abstract: false };
    namedTypes.set(key, ct);
    complexType(g.el, g.doc, ct);
    return ct;
  };

  const anyType = (): ComplexType => ({
    kind: 'complex', hint: 'anyType', attributes: [], abstract: false,
    content: { kind: 'elements', mixed: true, particle: { min: 0, max: Infinity, term: { kind: 'any', namespace: '##any' } } },
  });

  const simpleType = (el: XmlElement): SimpleInfo => {
    const r = kid(el, 'restriction');
    if (r) {
      let base: SimpleInfo;
      if (r.attrs.base) {
        const t = typeByName(resolveQName(r, r.attrs.base));
        if (t.kind !== 'simple') throw new Error(`simple type restricts complex type ${r.attrs.base}`);
        base = t;
      } else {
        base = simpleType(kid(r, 'simpleType')!);
      }
      let out: { -readonly [K in keyof SimpleInfo]: SimpleInfo[K] } = { ...base };
      delete out.name;
      const enums = kids(r, 'enumeration').map((e) => e.attrs.value ?? '');
      if (enums.length) out.enums = enums;
      for (const f of r.children) {
        const v = f.attrs.value;
        if (v === undefined) continue;
        switch (localOf(f.name)) {
          case 'minInclusive': out.min = BigInt(v); break;
          case 'maxInclusive': out.max = BigInt(v); break;
          case 'minExclusive': out.min = BigInt(v) + 1n; break;
          case 'maxExclusive': out.max = BigInt(v) - 1n; break;
          case 'length': out.minLength = Number(v); out.maxLength = Number(v); break;
          case 'minLength': out.minLength = Number(v); break;
          case 'maxLength': out.maxLength = Number(v); break;
        }
      }
      return out;
    }
    if (kid(el, 'list') || kid(el, 'union')) return { kind: 'simple', builtin: 'string', category: 'other' };
    throw new Error('unsupported simpleType');
  };

  const attributeUse = (a: XmlElement, doc: SchemaDoc): AttributeUse => {
    if (a.attrs.ref) {
      const q = resolveQName(a, a.attrs.ref);
      const g = globalAttrs.get(qkey(q));
      if (!g) throw new Error(`unknown attribute ${qkey(q)}`);
      const inner = attributeUse(g.el, { ...g.doc, qualifiedAttributes: true });
      return { ...inner, qname: q, required: a.attrs.use === 'required' };
    }
    const qualified = a.attrs.form ? a.attrs.form === 'qualified' : doc.qualifiedAttributes;
    const inline = kid(a, 'simpleType');
    const type = inline ? simpleType(inline) : a.attrs.type ? typeByName(resolveQName(a, a.attrs.type)) : builtinInfo('anySimpleType');
    if (type.kind !== 'simple') throw new Error('attribute with complex type');
    const use: AttributeUse = { qname: { ns: qualified ? doc.tns : '', local: a.attrs.name! }, type, required: a.attrs.use === 'required' };
    allAttributes.push(use);
    return use;
  };

  const particle = (el: XmlElement, doc: SchemaDoc, owner: string): Particle | undefined => {
    const l = localOf(el.name);
    const min = occurs(el, 'minOccurs');
    const max = occurs(el, 'maxOccurs');
    if (max === 0) return undefined;
    if (l === 'element') return { min, max, term: { kind: 'element', decl: elementDecl(el, doc, false, owner) } };
    if (l === 'any') return { min, max, term: { kind: 'any', namespace: el.attrs.namespace ?? '##any' } };
    if (l === 'group') {
      const g = groups.get(qkey(resolveQName(el, el.attrs.ref!)));
      if (!g) throw new Error(`unknown group ${el.attrs.ref}`);
      const inner = kid(g.el, 'sequence', 'choice', 'all')!;
      const p = particle(inner, g.doc, owner)!;
      return { min, max, term: p.term };
    }
    if (l === 'sequence' || l === 'choice' || l === 'all') {
      const particles: Particle[] = [];
      for (const c of el.children) {
        if (['element', 'any', 'group', 'sequence', 'choice'].includes(localOf(c.name))) {
          const p = particle(c, doc, owner);
          if (p) particles.push(p);
        }
      }
      return { min, max, term: { kind: l, particles } };
    }
    return undefined;
  };

  const contentParticle = (el: XmlElement, doc: SchemaDoc, owner: string): Particle | undefined => {
    const p = kid(el, 'sequence', 'choice', 'all', 'group');
    return p ? particle(p, doc, owner) : undefined;
  };
  const isEmptyParticle = (p: Particle | undefined): boolean =>
    !p || ((p.term.kind === 'sequence' || p.term.kind === 'choice' || p.term.kind === 'all') && p.term.particles.length === 0);

  const complexType = (el: XmlElement, doc: SchemaDoc, ct: ComplexType): void => {
    ct.abstract = el.attrs.abstract === 'true';
    let mixed = el.attrs.mixed === 'true';
    const attrs: AttributeUse[] = [];
    const addAttrs = (from: XmlElement): void => {
      for (const a of kids(from, 'attribute')) if (a.attrs.use !== 'prohibited') attrs.push(attributeUse(a, doc));
    };
    const cc = kid(el, 'complexContent');
    const sc = kid(el, 'simpleContent');
    if (cc) {
      if (cc.attrs.mixed === 'true') mixed = true;
      const ext = kid(cc, 'extension');
      const res = kid(cc, 'restriction');
      const d = (ext ?? res)!;
      const base = typeByName(resolveQName(d, d.attrs.base!));
      if (base.kind !== 'complex') throw new Error('complexContent over a simple type');
      const own = contentParticle(d, doc, ct.hint);
      if (ext) {
        attrs.push(...base.attributes);
        addAttrs(d);
        const baseP = base.content.kind === 'elements' ? base.content.particle : undefined;
        if (base.content.kind === 'elements' && base.content.mixed) mixed = true;
        const parts = [baseP, own].filter((p) => !isEmptyParticle(p)) as Particle[];
        ct.content = parts.length === 0 ? { kind: 'empty' }
          : { kind: 'elements', mixed, particle: parts.length === 1 ? parts[0]! : { min: 1, max: 1, term: { kind: 'sequence', particles: parts } } };
      } else {
        addAttrs(d);
        ct.content = isEmptyParticle(own) ? { kind: 'empty' } : { kind: 'elements', mixed, particle: own! };
      }
    } else if (sc) {
      const d = kid(sc, 'extension', 'restriction')!;
      const base = typeByName(resolveQName(d, d.attrs.base!));
      let simple: SimpleInfo;
      if (base.kind === 'simple') simple = base;
      else {
        if (base.content.kind !== 'simple') throw new Error('simpleContent over non-simple complex type');
        simple = base.content.type;
        attrs.push(...base.attributes);
      }
      addAttrs(d);
      ct.content = { kind: 'simple', type: simple };
    } else {
      addAttrs(el);
      const own = contentParticle(el, doc, ct.hint);
      ct.content = isEmptyParticle(own) ? (mixed ? { kind: 'elements', mixed, particle: { min: 1, max: 1, term: { kind: 'sequence', particles: [] } } } : { kind: 'empty' })
        : { kind: 'elements', mixed, particle: own! };
    }
    // Attribute uses are identified by name: a later declaration overrides an inherited one.
    const byKey = new Map<string, AttributeUse>();
    for (const a of attrs) byKey.set(qkey(a.qname), a);
    ct.attributes = [...byKey.values()].sort((a, b) => qcompare(a.qname, b.qname));
  };

  const elementDecl = (el: XmlElement, doc: SchemaDoc, global: boolean, owner: string): ElementDecl => {
    if (el.attrs.ref) {
      const q = resolveQName(el, el.attrs.ref);
      return globalDecl(q);
    }
    const qualified = global || (el.attrs.form ? el.attrs.form === 'qualified' : doc.qualifiedElements);
    const qname = { ns: qualified ? doc.tns : '', local: el.attrs.name! };
    const decl: ElementDecl = {
      qname,
      type: builtinInfo('anySimpleType'),
      global,
      abstract: el.attrs.abstract === 'true',
      ...(el.attrs.substitutionGroup && { substitutionGroup: resolveQName(el, el.attrs.substitutionGroup) }),
      nillable: el.attrs.nillable === 'true',
    };
    if (global) globalDecls.set(qkey(qname), decl);
    allElements.push(decl);
    const inlineC = kid(el, 'complexType');
    const inlineS = kid(el, 'simpleType');
    if (inlineC) {
      const hint = global ? qname.local : `${owner}_${qname.local}`;
      const ct: ComplexType = { kind: 'complex', hint, attributes: [], content: { kind: 'empty' }, abstract: false };
      decl.type = ct;
      complexType(inlineC, doc, ct);
    } else if (inlineS) {
      decl.type = simpleType(inlineS);
    } else if (el.attrs.type) {
      decl.type = typeByName(resolveQName(el, el.attrs.type));
    } else if (decl.substitutionGroup) {
      decl.type = globalDecl(decl.substitutionGroup).type;
    } else {
      decl.type = anyType();
    }
    return decl;
  };

  const globalDecl = (q: QName): ElementDecl => {
    const key = qkey(q);
    const done = globalDecls.get(key);
    if (done) return done;
    const g = globalEls.get(key);
    if (!g) throw new Error(`unknown element ${key}`);
    return elementDecl(g.el, g.doc, true, '');
  };

  // Named types nobody references still declare local elements (they count for fragments).
  for (const g of globalTypes.values()) typeByName({ ns: g.doc.tns, local: g.el.attrs.name! });
  // So do global attributes nobody references (global attributes are always qualified).
  for (const [key, g] of globalAttrs) if (!allAttributes.some((a) => qkey(a.qname) === key)) attributeUse(g.el, { ...g.doc, qualifiedAttributes: true });

  const globalElements = [...globalEls.keys()].map((k) => {
    const g = globalEls.get(k)!;
    return globalDecl({ ns: g.doc.tns, local: g.el.attrs.name! });
  });
  globalElements.sort((a, b) => qcompare(a.qname, b.qname));

  const substitutions = new Map<string, ElementDecl[]>();
  const direct = new Map<string, ElementDecl[]>();
  for (const d of globalElements) {
    if (!d.substitutionGroup) continue;
    const k = qkey(d.substitutionGroup);
    if (!direct.has(k)) direct.set(k, []);
    direct.get(k)!.push(d);
  }
  for (const d of globalElements) {
    const out: ElementDecl[] = [];
    const walk = (k: string): void => {
      for (const m of direct.get(k) ?? []) {
        out.push(m);
        walk(qkey(m.qname));
      }
    };
    walk(qkey(d.qname));
    if (out.length) substitutions.set(qkey(d.qname), out.sort((a, b) => qcompare(a.qname, b.qname)));
  }
  return { globalElements, allElements, allAttributes, substitutions };
}
