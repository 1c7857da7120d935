/**
 * The EVSE controller interface read from the message database: which messages the stack sends
 * and which it expects from the controller, each signal's bus topic, how its value is carried and
 * in which HLC session states it is valid (the Charge Control M guide's section 10.2 table).
 */
import { DbcError, type CanDatabase, type CanMessage, type CanSignal } from '../dbc/model.js';

export const STACK_NODE = 'SECC';
export const CONTROLLER_NODE = 'EVSE_CTRL';
/** The bus topic whose value selects the valid signals; its signal's labels are the state names. */
export const SESSION_STATE_TOPIC = 'ci/hlc/session/state';
export const PHYSICAL_UNITS = ['h', 'm', 's', 'A', 'Ah', 'V', 'VA', 'W', 'W/s', 'Wh'] as const;

export type ValueKind = 'number' | 'physical' | 'boolean' | 'label' | 'hex';

export interface ApiSignal {
  readonly signal: CanSignal;
  readonly topic: string;
  readonly kind: ValueKind;
  /** States the value is valid in, or '*' for all. */
  readonly validStates: '*' | ReadonlySet<string>;
}

export interface ApiMessage {
  readonly message: CanMessage;
  /** tx: the stack sends it; rx: the controller sends it. */
  readonly direction: 'tx' | 'rx';
  readonly cycleMs: number;
  /** rx only: missing longer than this → error shutdown (0: not supervised). */
  readonly timeoutMs: number;
  readonly signals: readonly ApiSignal[];
}

export interface CanApi {
  readonly database: CanDatabase;
  readonly messages: readonly ApiMessage[];
  readonly byId: ReadonlyMap<number, ApiMessage>;
  /** The ids the stack owns: a frame in this range that is not a controller message is a bad frame. */
  readonly idRange: { readonly min: number; readonly max: number };
  readonly baudrate: number;
  readonly sessionStates: readonly string[];
}

function kindOf(signal: CanSignal, where: string, source: string): ValueKind {
  const declared = String(signal.attributes.TopicValue ?? 'auto');
  const labels = [...signal.values.values()].filter((l) => l !== 'SNA');
  if (declared !== 'auto') {
    if (!['number', 'physical', 'boolean', 'label', 'hex'].includes(declared)) throw new DbcError(source, undefined, `${where}: TopicValue '${declared}' unknown`);
    return declared as ValueKind;
  }
  if (labels.length > 0) return 'label';
  if (signal.length === 1) return 'boolean';
  if ((PHYSICAL_UNITS as readonly string[]).includes(signal.unit)) return 'physical';
  return 'number';
}

/** Resolve and check the database: every signal has a topic, every valid state is a session state. */
export function canApiFrom(database: CanDatabase): CanApi {
  const source = database.source;
  const fail = (reason: string): never => {
    throw new DbcError(source, undefined, reason);
  };
  for (const node of [STACK_NODE, CONTROLLER_NODE]) if (!database.nodes.includes(node)) fail(`node ${node} missing from BU_`);
  const stateSignal = database.messages.flatMap((m) => m.signals).find((s) => s.attributes.Topic === SESSION_STATE_TOPIC);
  if (!stateSignal) fail(`no signal carries ${SESSION_STATE_TOPIC} (its value descriptions name the session states)`);
  const sessionStates = [...stateSignal!.values.values()].filter((l) => l !== 'SNA');
  const min = Number(database.attributes.IdRangeMin ?? 0);
  const max = Number(database.attributes.IdRangeMax ?? 0);
  if (!(max >= min && max > 0)) fail('network attributes IdRangeMin / IdRangeMax must name the stack\'s id range');
  const messages = database.messages.map((message): ApiMessage => {
    if (message.transmitter !== STACK_NODE && message.transmitter !== CONTROLLER_NODE) fail(`message ${message.name}: transmitter must be ${STACK_NODE} or ${CONTROLLER_NODE}`);
    if (message.id < min || message.id > max) fail(`message ${message.name}: id 0x${message.id.toString(16)} outside the id range 0x${min.toString(16)}..0x${max.toString(16)}`);
    const direction = message.transmitter === STACK_NODE ? 'tx' : 'rx';
    const cycleMs = Number(message.attributes.GenMsgCycleTime ?? 0);
    const timeoutMs = Number(message.attributes.TimeoutMs ?? 0);
    if (!(cycleMs > 0)) fail(`message ${message.name}: GenMsgCycleTime missing (every message of this interface is cyclic)`);
    if (direction === 'rx' && !(timeoutMs > cycleMs)) fail(`message ${message.name}: TimeoutMs ${timeoutMs} must exceed its cycle time ${cycleMs}`);
    const topics = new Set<string>();
    const signals = message.signals.map((signal): ApiSignal => {
      const where = `signal ${message.name}.${signal.name}`;
      const topic = String(signal.attributes.Topic ?? '');
      if (!/^[a-z0-9_]+(\/[a-z0-9_]+)+$/.test(topic)) fail(`${where}: attribute Topic missing or not a bus topic ('${topic}')`);
      if (topics.has(topic)) fail(`${where}: topic ${topic} carried twice in one message`);
      topics.add(topic);
      const kind = kindOf(signal, where, source);
      if (kind === 'boolean' && signal.length !== 1) fail(`${where}: a boolean signal is 1 bit long`);
      if (kind === 'label' && signal.values.size === 0) fail(`${where}: a label signal needs value descriptions (VAL_)`);
      const states = String(signal.attributes.ValidStates ?? '*').trim();
      let validStates: ApiSignal['validStates'] = '*';
      if (states !== '*') {
        const names = states.split(',').map((s) => s.trim());
        for (const name of names) if (!sessionStates.includes(name)) fail(`${where}: ValidStates names '${name}', which is not a session state (${sessionStates.join(', ')})`);
        validStates = new Set(names);
      }
      return { signal, topic, kind, validStates };
    });
    return { message, direction, cycleMs, timeoutMs, signals };
  });
  return {
    database,
    messages,
    byId: new Map(messages.map((m) => [m.message.id, m])),
    idRange: { min, max },
    baudrate: Number(database.attributes.Baudrate ?? 1_000_000),
    sessionStates,
  };
}

export function isValidIn(signal: ApiSignal, state: string | undefined): boolean {
  return signal.validStates === '*' || (state !== undefined && signal.validStates.has(state));
}
