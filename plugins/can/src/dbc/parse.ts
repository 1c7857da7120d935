/**
 * A small, strict parser for the subset of the DBC format the EVSE controller database uses:
 * VERSION, NS_, BS_, BU_, BO_ / SG_ (Intel byte order, no multiplexing), CM_, BA_DEF_, BA_DEF_DEF_,
 * BA_ and VAL_. Anything else is an error naming the line, never silently skipped: a database the
 * plugin half understands would put wrong values on a charger's power electronics.
 */
import { readFileSync } from 'node:fs';
import { DbcError, EXTENDED_ID_FLAG, MAX_EXTENDED_ID, type AttributeValue, type CanDatabase, type CanMessage, type CanSignal } from './model.js';

type Token = { kind: 'word' | 'number' | 'string' | 'punct' | 'order'; text: string; line: number };

function tokenize(text: string, source: string): Token[] {
  const tokens: Token[] = [];
  // The NS_ block lists keywords on indented lines; drop it (keeping line numbers).
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    if (/^NS_\s*:/.test(lines[i]!)) {
      lines[i] = '';
      for (let j = i + 1; j < lines.length && /^\s+\S/.test(lines[j]!); j++) lines[j] = '';
    }
  }
  const body = lines.join('\n');
  let line = 1;
  let i = 0;
  while (i < body.length) {
    const c = body[i]!;
    if (c === '\n') {
      line++;
      i++;
      continue;
    }
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '"') {
      const start = line;
      let j = i + 1;
      let value = '';
      while (j < body.length && body[j] !== '"') {
        if (body[j] === '\\' && j + 1 < body.length) j++;
        if (body[j] === '\n') line++;
        value += body[j];
        j++;
      }
      if (j >= body.length) throw new DbcError(source, start, 'unterminated string');
      tokens.push({ kind: 'string', text: value, line: start });
      i = j + 1;
      continue;
    }
    if (c === '@') {
      const m = /^@([01])([+-])/.exec(body.slice(i, i + 3));
      if (!m) throw new DbcError(source, line, `bad byte order / sign '${body.slice(i, i + 3)}' (expected @1+ or @1-)`);
      tokens.push({ kind: 'order', text: m[0], line });
      i += 3;
      continue;
    }
    const number = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?/.exec(body.slice(i, i + 40));
    if (number && (/\d/.test(c) || ((c === '-' || c === '+') && !/[A-Za-z_]/.test(body[i + 1] ?? '')))) {
      tokens.push({ kind: 'number', text: number[0], line });
      i += number[0].length;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(body.slice(i, i + 200));
    if (word) {
      tokens.push({ kind: 'word', text: word[0], line });
      i += word[0].length;
      continue;
    }
    if (':;|,()[]'.includes(c)) {
      tokens.push({ kind: 'punct', text: c, line });
      i++;
      continue;
    }
    throw new DbcError(source, line, `unexpected character '${c}'`);
  }
  return tokens;
}

interface AttributeDefinition {
  readonly scope: 'network' | 'BU_' | 'BO_' | 'SG_';
  readonly type: 'INT' | 'HEX' | 'FLOAT' | 'STRING' | 'ENUM';
  readonly min?: number;
  readonly max?: number;
  readonly enumValues?: readonly string[];
  default?: AttributeValue;
}

interface SignalDraft extends Omit<CanSignal, 'values' | 'attributes' | 'comment' | 'sna'> {
  comment: string;
  values: Map<number, string>;
  attributes: Record<string, AttributeValue>;
  line: number;
}

interface MessageDraft extends Omit<CanMessage, 'signals' | 'attributes' | 'comment'> {
  comment: string;
  signals: SignalDraft[];
  attributes: Record<string, AttributeValue>;
  line: number;
}

class Parser {
  private pos = 0;
  version = '';
  nodes: string[] = [];
  readonly nodeComments = new Map<string, string>();
  comment = '';
  readonly messages: MessageDraft[] = [];
  readonly definitions = new Map<string, AttributeDefinition>();
  readonly networkAttributes: Record<string, AttributeValue> = {};

  constructor(
    private readonly tokens: Token[],
    private readonly source: string,
  ) {}

  private fail(reason: string, token = this.tokens[this.pos]): never {
    throw new DbcError(this.source, token?.line ?? this.tokens.at(-1)?.line, reason);
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  private next(what: string): Token {
    const token = this.tokens[this.pos];
    if (!token) this.fail(`unexpected end of file, expected ${what}`);
    this.pos++;
    return token;
  }

  private expect(kind: Token['kind'], what: string, text?: string): Token {
    const token = this.next(what);
    if (token.kind !== kind || (text !== undefined && token.text !== text)) this.fail(`expected ${what}, found '${token.text}'`, token);
    return token;
  }

  private number(what: string): number {
    const token = this.expect('number', what);
    const value = Number(token.text);
    if (!Number.isFinite(value)) this.fail(`${what} '${token.text}' is not a number`, token);
    return value;
  }

  private integer(what: string): number {
    const token = this.tokens[this.pos];
    const value = this.number(what);
    if (!Number.isSafeInteger(value)) this.fail(`${what} must be an integer, found '${token?.text}'`, token);
    return value;
  }

  private punct(text: string): void {
    this.expect('punct', `'${text}'`, text);
  }

  parse(): void {
    while (this.pos < this.tokens.length) {
      const keyword = this.next('a statement');
      if (keyword.kind !== 'word') this.fail(`expected a statement keyword, found '${keyword.text}'`, keyword);
      switch (keyword.text) {
        case 'VERSION':
          this.version = this.expect('string', 'version string').text;
          break;
        case 'BS_':
          this.punct(':');
          // Bit timing is obsolete in DBC and must be empty here (the bitrate is the Baudrate attribute).
          if (this.peek()?.line === keyword.line && this.peek()?.kind === 'number') this.fail('BS_ bit timing is not supported; use the Baudrate attribute');
          break;
        case 'BU_':
          this.punct(':');
          while (this.peek()?.kind === 'word' && this.peek()!.line === keyword.line) this.nodes.push(this.next('node').text);
          break;
        case 'BO_':
          this.message(keyword);
          break;
        case 'SG_':
          this.signal(keyword);
          break;
        case 'CM_':
          this.commentStatement();
          break;
        case 'BA_DEF_':
          this.attributeDefinition();
          break;
        case 'BA_DEF_DEF_':
          this.attributeDefault();
          break;
        case 'BA_':
          this.attribute();
          break;
        case 'VAL_':
          this.valueTable();
          break;
        default:
          this.fail(`unsupported DBC statement '${keyword.text}' (this parser reads VERSION, NS_, BS_, BU_, BO_, SG_, CM_, BA_DEF_, BA_DEF_DEF_, BA_, VAL_)`, keyword);
      }
    }
  }

  private message(keyword: Token): void {
    const rawId = this.integer('message id');
    const name = this.expect('word', 'message name').text;
    this.punct(':');
    const dlc = this.integer('message length (DLC)');
    const transmitter = this.expect('word', 'transmitter node').text;
    if ((rawId & EXTENDED_ID_FLAG) === 0 || rawId > EXTENDED_ID_FLAG + MAX_EXTENDED_ID) {
      this.fail(`message ${name}: id ${rawId} is not a 29-bit extended id (CAN 2.0B ids carry the DBC flag 0x80000000)`, keyword);
    }
    if (dlc < 0 || dlc > 8) this.fail(`message ${name}: length ${dlc} outside 0..8 (classic CAN)`, keyword);
    const id = rawId - EXTENDED_ID_FLAG;
    if (this.messages.some((m) => m.id === id)) this.fail(`message ${name}: id 0x${id.toString(16)} defined twice`, keyword);
    if (this.messages.some((m) => m.name === name)) this.fail(`message name ${name} defined twice`, keyword);
    this.messages.push({ id, name, dlc, transmitter, signals: [], comment: '', attributes: {}, line: keyword.line });
  }

  private signal(keyword: Token): void {
    const message = this.messages.at(-1);
    if (!message) this.fail('SG_ before any BO_', keyword);
    const name = this.expect('word', 'signal name').text;
    if (this.peek()?.kind === 'word') this.fail(`signal ${message.name}.${name}: multiplexed signals are not supported`);
    this.punct(':');
    const startBit = this.integer('start bit');
    this.punct('|');
    const length = this.integer('signal length');
    const order = this.expect('order', 'byte order and sign (@1+)');
    if (order.text[1] === '0') this.fail(`signal ${message.name}.${name}: big-endian (Motorola, @0) signals are not supported`, order);
    this.punct('(');
    const factor = this.number('factor');
    this.punct(',');
    const offset = this.number('offset');
    this.punct(')');
    this.punct('[');
    const min = this.number('minimum');
    this.punct('|');
    const max = this.number('maximum');
    this.punct(']');
    const unit = this.expect('string', 'unit').text;
    const receivers: string[] = [];
    const line = this.tokens[this.pos - 1]!.line;
    while (this.peek()?.line === line && (this.peek()!.kind === 'word' || this.peek()!.text === ',')) {
      const t = this.next('receiver');
      if (t.kind === 'word') receivers.push(t.text);
    }
    const where = `signal ${message.name}.${name}`;
    if (length < 1 || length > 64) this.fail(`${where}: length ${length} outside 1..64`, keyword);
    if (startBit < 0 || startBit + length > message.dlc * 8) this.fail(`${where}: bits ${startBit}..${startBit + length - 1} do not fit the ${message.dlc}-byte payload`, keyword);
    if (factor === 0) this.fail(`${where}: factor 0`, keyword);
    if (min > max) this.fail(`${where}: minimum ${min} above maximum ${max}`, keyword);
    for (const other of message.signals) {
      if (other.name === name) this.fail(`${where}: defined twice`, keyword);
      if (startBit < other.startBit + other.length && other.startBit < startBit + length) this.fail(`${where}: overlaps ${other.name}`, keyword);
    }
    message.signals.push({
      name,
      startBit,
      length,
      byteOrder: 'little_endian',
      signed: order.text[2] === '-',
      factor,
      offset,
      min,
      max,
      unit,
      receivers,
      comment: '',
      values: new Map(),
      attributes: {},
      line: keyword.line,
    });
  }

  private findMessage(id: number, token: Token): MessageDraft {
    const message = this.messages.find((m) => m.id === id - EXTENDED_ID_FLAG);
    if (!message) this.fail(`no message with id ${id}`, token);
    return message;
  }

  private findSignal(message: MessageDraft, name: string, token: Token): SignalDraft {
    const signal = message.signals.find((s) => s.name === name);
    if (!signal) this.fail(`message ${message.name} has no signal ${name}`, token);
    return signal;
  }

  private commentStatement(): void {
    const first = this.next('comment target or text');
    if (first.kind === 'string') this.comment = first.text;
    else if (first.text === 'BU_') {
      const node = this.expect('word', 'node name');
      if (!this.nodes.includes(node.text)) this.fail(`comment for unknown node ${node.text}`, node);
      this.nodeComments.set(node.text, this.expect('string', 'comment').text);
    } else if (first.text === 'BO_') {
      const idToken = this.peek()!;
      const message = this.findMessage(this.integer('message id'), idToken);
      message.comment = this.expect('string', 'comment').text;
    } else if (first.text === 'SG_') {
      const idToken = this.peek()!;
      const message = this.findMessage(this.integer('message id'), idToken);
      const nameToken = this.expect('word', 'signal name');
      this.findSignal(message, nameToken.text, nameToken).comment = this.expect('string', 'comment').text;
    } else this.fail(`unsupported comment target '${first.text}'`, first);
    this.punct(';');
  }

  private attributeDefinition(): void {
    let scope: AttributeDefinition['scope'] = 'network';
    if (this.peek()?.kind === 'word') {
      const t = this.next('object type');
      if (t.text !== 'BU_' && t.text !== 'BO_' && t.text !== 'SG_') this.fail(`unsupported attribute object type '${t.text}'`, t);
      scope = t.text;
    }
    const nameToken = this.expect('string', 'attribute name');
    const typeToken = this.expect('word', 'attribute type');
    const type = typeToken.text as AttributeDefinition['type'];
    let definition: AttributeDefinition;
    if (type === 'INT' || type === 'HEX' || type === 'FLOAT') definition = { scope, type, min: this.number('minimum'), max: this.number('maximum') };
    else if (type === 'STRING') definition = { scope, type };
    else if (type === 'ENUM') {
      const enumValues = [this.expect('string', 'enum value').text];
      while (this.peek()?.text === ',') {
        this.next(',');
        enumValues.push(this.expect('string', 'enum value').text);
      }
      definition = { scope, type, enumValues };
    } else this.fail(`unsupported attribute type '${typeToken.text}'`, typeToken);
    if (this.definitions.has(nameToken.text)) this.fail(`attribute ${nameToken.text} defined twice`, nameToken);
    this.definitions.set(nameToken.text, definition);
    this.punct(';');
  }

  private attributeValue(name: string, token: Token): AttributeValue {
    const definition = this.definitions.get(name);
    if (!definition) this.fail(`attribute ${name} is not defined (BA_DEF_)`, token);
    const valueToken = this.next('attribute value');
    if (definition.type === 'STRING') {
      if (valueToken.kind !== 'string') this.fail(`attribute ${name} takes a string`, valueToken);
      return valueToken.text;
    }
    if (definition.type === 'ENUM') {
      // DBC writes ENUM values as their index in BA_, and as the label in BA_DEF_DEF_; accept both.
      const values = definition.enumValues!;
      if (valueToken.kind === 'string' && values.includes(valueToken.text)) return valueToken.text;
      if (valueToken.kind === 'number' && Number.isInteger(Number(valueToken.text)) && values[Number(valueToken.text)] !== undefined) return values[Number(valueToken.text)]!;
      return this.fail(`attribute ${name}: '${valueToken.text}' is not one of ${values.join(', ')}`, valueToken);
    }
    if (valueToken.kind !== 'number') this.fail(`attribute ${name} takes a number`, valueToken);
    const value = Number(valueToken.text);
    if ((definition.type !== 'FLOAT' && !Number.isInteger(value)) || value < definition.min! || value > definition.max!) {
      this.fail(`attribute ${name}: ${valueToken.text} outside ${definition.type} ${definition.min}..${definition.max}`, valueToken);
    }
    return value;
  }

  private attributeDefault(): void {
    const nameToken = this.expect('string', 'attribute name');
    const definition = this.definitions.get(nameToken.text);
    if (!definition) this.fail(`default for undefined attribute ${nameToken.text}`, nameToken);
    definition.default = this.attributeValue(nameToken.text, nameToken);
    this.punct(';');
  }

  private attribute(): void {
    const nameToken = this.expect('string', 'attribute name');
    const name = nameToken.text;
    const definition = this.definitions.get(name);
    if (!definition) this.fail(`attribute ${name} is not defined (BA_DEF_)`, nameToken);
    const target = this.peek()?.kind === 'word' ? this.next('object type') : undefined;
    const scope = target?.text ?? 'network';
    if (scope !== definition.scope) this.fail(`attribute ${name} is defined for ${definition.scope}, used on ${scope}`, nameToken);
    if (scope === 'network') this.networkAttributes[name] = this.attributeValue(name, nameToken);
    else if (scope === 'BO_') {
      const idToken = this.peek()!;
      const message = this.findMessage(this.integer('message id'), idToken);
      message.attributes[name] = this.attributeValue(name, nameToken);
    } else if (scope === 'SG_') {
      const idToken = this.peek()!;
      const message = this.findMessage(this.integer('message id'), idToken);
      const signalToken = this.expect('word', 'signal name');
      this.findSignal(message, signalToken.text, signalToken).attributes[name] = this.attributeValue(name, nameToken);
    } else this.fail(`attribute ${name}: object type ${scope} is not supported`, nameToken);
    this.punct(';');
  }

  private valueTable(): void {
    const idToken = this.peek()!;
    const message = this.findMessage(this.integer('message id'), idToken);
    const signalToken = this.expect('word', 'signal name');
    const signal = this.findSignal(message, signalToken.text, signalToken);
    while (this.peek()?.kind === 'number') {
      const rawToken = this.peek()!;
      const raw = this.integer('raw value');
      const label = this.expect('string', 'value label').text;
      if (raw < 0 || raw >= 2 ** signal.length) this.fail(`${message.name}.${signal.name}: value ${raw} does not fit ${signal.length} bits`, rawToken);
      if (signal.values.has(raw)) this.fail(`${message.name}.${signal.name}: value ${raw} described twice`, rawToken);
      if ([...signal.values.values()].includes(label)) this.fail(`${message.name}.${signal.name}: label '${label}' used twice`, rawToken);
      signal.values.set(raw, label);
    }
    this.punct(';');
  }
}

/** The raw value all ones ("not available") for signals of two bits or more; 1-bit signals have none. */
function snaOf(signal: SignalDraft): number | undefined {
  return signal.length >= 2 ? 2 ** signal.length - 1 : undefined;
}

/** Parse DBC text. `source` names it in errors (a file path). */
export function parseDbc(text: string, source = '<dbc>'): CanDatabase {
  const parser = new Parser(tokenize(text, source), source);
  parser.parse();
  const defaults = (scope: AttributeDefinition['scope']) =>
    Object.fromEntries([...parser.definitions].filter(([, d]) => d.scope === scope && d.default !== undefined).map(([name, d]) => [name, d.default!]));
  const messages: CanMessage[] = parser.messages.map((m) => {
    if (!parser.nodes.includes(m.transmitter) && m.transmitter !== 'Vector__XXX') throw new DbcError(source, m.line, `message ${m.name}: transmitter ${m.transmitter} is not a node (BU_)`);
    return {
      id: m.id,
      name: m.name,
      dlc: m.dlc,
      transmitter: m.transmitter,
      comment: m.comment,
      attributes: { ...defaults('BO_'), ...m.attributes },
      signals: m.signals.map((s) => {
        const sna = snaOf(s);
        const where = `signal ${m.name}.${s.name}`;
        for (const r of s.receivers) if (!parser.nodes.includes(r) && r !== 'Vector__XXX') throw new DbcError(source, s.line, `${where}: receiver ${r} is not a node (BU_)`);
        // The physical range must be representable, and must leave the SNA raw value free.
        const rawLimits = [(s.min - s.offset) / s.factor, (s.max - s.offset) / s.factor];
        const rawMin = Math.min(...rawLimits);
        const rawMax = Math.max(...rawLimits);
        const lowest = s.signed ? -(2 ** (s.length - 1)) : 0;
        const highest = s.signed ? 2 ** (s.length - 1) - 1 : 2 ** s.length - 1;
        if (rawMin < lowest - 1e-9 || rawMax > highest + 1e-9) throw new DbcError(source, s.line, `${where}: range [${s.min}|${s.max}] does not fit ${s.length} bits with factor ${s.factor}`);
        if (sna !== undefined && !s.signed && rawMax >= sna - 1e-9) throw new DbcError(source, s.line, `${where}: range [${s.min}|${s.max}] reaches raw ${sna}, which is reserved for 'not available'`);
        for (const [raw, label] of s.values) {
          if (raw === sna && label !== 'SNA') throw new DbcError(source, s.line, `${where}: raw ${raw} is 'not available' and must be labelled "SNA"`);
          if (raw !== sna && (raw < rawMin - 1e-9 || raw > rawMax + 1e-9)) throw new DbcError(source, s.line, `${where}: value description ${raw} '${label}' lies outside the range [${s.min}|${s.max}]`);
        }
        return { ...s, values: new Map(s.values), attributes: { ...defaults('SG_'), ...s.attributes }, sna } satisfies CanSignal;
      }),
    };
  });
  return {
    version: parser.version,
    nodes: parser.nodes,
    nodeComments: parser.nodeComments,
    comment: parser.comment,
    messages,
    attributes: { ...defaults('network'), ...parser.networkAttributes },
    source,
  };
}

export function loadDbc(path: string): CanDatabase {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new DbcError(path, undefined, `cannot read the CAN database: ${(error as Error).message}`);
  }
  return parseDbc(text, path);
}
