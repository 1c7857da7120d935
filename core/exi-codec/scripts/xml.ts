/**
 * A minimal XML reader for XSD files: elements, attributes, comments, processing instructions.
 * XSDs carry no DTDs or mixed text that matters to the generator, so text nodes are dropped.
 */
export interface XmlElement {
  /** Qualified name as written, e.g. `xs:element`. */
  readonly name: string;
  readonly attrs: Record<string, string>;
  readonly children: XmlElement[];
  /** Namespace declarations in scope (prefix -> uri; '' for the default namespace). */
  readonly ns: Map<string, string>;
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function unescape(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (m, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(parseInt(e.slice(1), 10));
    return ENTITIES[e] ?? m;
  });
}

export function parseXml(text: string, file = '<xml>'): XmlElement {
  let i = 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  const fail = (why: string): never => {
    throw new Error(`${file}: ${why} at offset ${i}`);
  };
  while (i < text.length) {
    const lt = text.indexOf('<', i);
    if (lt < 0) break;
    i = lt;
    if (text.startsWith('<!--', i)) {
      const end = text.indexOf('-->', i);
      if (end < 0) fail('unterminated comment');
      i = end + 3;
    } else if (text.startsWith('<?', i)) {
      const end = text.indexOf('?>', i);
      if (end < 0) fail('unterminated processing instruction');
      i = end + 2;
    } else if (text.startsWith('<![CDATA[', i)) {
      const end = text.indexOf(']]>', i);
      if (end < 0) fail('unterminated CDATA');
      i = end + 3;
    } else if (text.startsWith('<!', i)) {
      const end = text.indexOf('>', i);
      i = end + 1;
    } else if (text.startsWith('</', i)) {
      const end = text.indexOf('>', i);
      const name = text.slice(i + 2, end).trim();
      const open = stack.pop();
      if (!open || open.name !== name) fail(`unexpected </${name}>`);
      i = end + 1;
    } else {
      const m = /^<([A-Za-z_][\w.:-]*)/.exec(text.slice(i, i + 200));
      if (!m) fail('bad start tag');
      const name = m![1]!;
      i += m![0].length;
      const attrs: Record<string, string> = {};
      const attrRe = /\s*([A-Za-z_][\w.:-]*)\s*=\s*("([^"]*)"|'([^']*)')/y;
      for (;;) {
        attrRe.lastIndex = i;
        const a = attrRe.exec(text);
        if (!a) break;
        attrs[a[1]!] = unescape(a[3] ?? a[4] ?? '');
        i = attrRe.lastIndex;
      }
      while (/\s/.test(text[i] ?? '')) i++;
      const selfClosing = text[i] === '/';
      if (selfClosing) i++;
      if (text[i] !== '>') fail(`bad tag <${name}>`);
      i++;
      const parent = stack[stack.length - 1];
      const ns = new Map(parent?.ns ?? []);
      for (const [k, v] of Object.entries(attrs)) {
        if (k === 'xmlns') ns.set('', v);
        else if (k.startsWith('xmlns:')) ns.set(k.slice(6), v);
      }
      const el: XmlElement = { name, attrs, children: [], ns };
      if (parent) parent.children.push(el);
      else if (!root) root = el;
      if (!selfClosing) stack.push(el);
    }
  }
  if (stack.length) fail(`unclosed <${stack[stack.length - 1]!.name}>`);
  if (!root) fail('no root element');
  return root!;
}

/** Local part of a qualified name: `xs:element` -> `element`. */
export function localOf(qname: string): string {
  const c = qname.indexOf(':');
  return c < 0 ? qname : qname.slice(c + 1);
}
