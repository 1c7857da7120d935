import type { Bus } from './bus.js';

/**
 * Trace topics the kernel owns. The timing-critical subsystems publish one non-retained message
 * per frame on them (through the helpers below); the logging plugin subscribes and
 * writes them to disk. Nobody subscribed means the publish costs one map lookup.
 */
export const TRACE_TOPIC = {
  v2g: 'ci/trace/v2g',
  slac: 'ci/trace/slac',
  can: 'ci/trace/can',
  /** Which traces are being recorded (retained; written by the logging plugin). */
  enabled: 'ci/trace/enabled',
} as const;

export type TraceKind = 'v2g' | 'slac' | 'mqtt' | 'can';
export type TraceSwitches = Readonly<Record<TraceKind, boolean>>;

/** One V2GTP message as the SECC saw it. `hex` is the whole V2GTP message: 8-byte header + payload. */
export interface V2gTraceRecord {
  /** Milliseconds since the epoch (fractions allowed). */
  readonly at: number;
  /** The V2G session ID (hex) once known, else a connection id the V2G layer chooses. */
  readonly session: string;
  /** Seen from the SECC: rx = from the EV, tx = to the EV. */
  readonly direction: 'rx' | 'tx';
  /** 'apphand', 'din', 'iso2', 'iso20', 'iso20-dc', ... (the exi-codec schema names). */
  readonly protocol: string;
  /** V2GTP payload type (0x8001 EXI, 0x9000 SDP request, 0x9001 SDP response, 0x8002.. ISO-20). */
  readonly payloadType: number;
  readonly hex: string;
  /** The decoded document (CONTRACTS.md JSON form), when the layer has it at hand. */
  readonly decoded?: unknown;
  /** TCP endpoints, so an export can rebuild the real addresses (else synthetic link-local ones). */
  readonly tcp?: { readonly local: string; readonly localPort: number; readonly remote: string; readonly remotePort: number };
  /** The whole Ethernet frame (hex) when the raw link captured it; exported as is. */
  readonly frame?: string;
}

/** One SLAC (HomePlug AV management) Ethernet frame, destination MAC first. */
export interface SlacTraceRecord {
  readonly at: number;
  readonly direction: 'rx' | 'tx';
  readonly hex: string;
}

/** One CAN frame. `id` is the arbitration id (extended ids above 0x7ff), `data` hex. */
export interface CanTraceRecord {
  readonly at: number;
  readonly direction: 'rx' | 'tx';
  readonly iface?: string;
  readonly id: number;
  readonly data: string;
}

/**
 * The calls the V2G, SLAC and CAN code make for every frame. They cost a retained-value lookup
 * when the trace is off (the logging plugin publishes the switches on ci/trace/enabled), so they
 * may sit on the charging path. Pass a function instead of a record to build it (hex, decoded
 * JSON) only when the trace is on. Returns whether the record was published.
 */

type Timed<T> = Omit<T, 'at'> & { readonly at?: number };
type WithBytes<T> = Omit<Timed<T>, 'hex'> & ({ readonly hex: string } | { readonly bytes: Uint8Array });
type Lazy<T> = T | (() => T);

export type V2gTraceInput = WithBytes<V2gTraceRecord>;
export type SlacTraceInput = WithBytes<SlacTraceRecord>;
export type CanTraceInput = Omit<Timed<CanTraceRecord>, 'data'> & ({ readonly data: string } | { readonly bytes: Uint8Array });

/** Milliseconds since the epoch with sub-millisecond resolution. */
export function traceNow(): number {
  return performance.timeOrigin + performance.now();
}

export function isTraceOn(bus: Pick<Bus, 'get'>, kind: keyof TraceSwitches): boolean {
  return bus.get<TraceSwitches>(TRACE_TOPIC.enabled)?.[kind] === true;
}

function resolve<T>(input: Lazy<T>): T {
  return typeof input === 'function' ? (input as () => T)() : input;
}

function hexOf(input: { hex?: string; bytes?: Uint8Array }): string {
  return input.hex !== undefined ? input.hex.toLowerCase() : Buffer.from(input.bytes!.buffer, input.bytes!.byteOffset, input.bytes!.byteLength).toString('hex');
}

export function traceV2g(bus: Bus, input: Lazy<V2gTraceInput>): boolean {
  if (!isTraceOn(bus, 'v2g')) return false;
  const value = resolve(input) as V2gTraceInput & { bytes?: Uint8Array; hex?: string };
  // Field by field rather than rest/spread: this runs twice per charging loop.
  const record: { -readonly [K in keyof V2gTraceRecord]: V2gTraceRecord[K] } = {
    at: value.at ?? traceNow(),
    session: value.session,
    direction: value.direction,
    protocol: value.protocol,
    payloadType: value.payloadType,
    hex: hexOf(value),
  };
  if (value.decoded !== undefined) record.decoded = value.decoded;
  if (value.tcp !== undefined) record.tcp = value.tcp;
  if (value.frame !== undefined) record.frame = value.frame;
  bus.publish(TRACE_TOPIC.v2g, record, { retain: false });
  return true;
}

export function traceSlac(bus: Bus, input: Lazy<SlacTraceInput>): boolean {
  if (!isTraceOn(bus, 'slac')) return false;
  const value = resolve(input) as SlacTraceInput & { bytes?: Uint8Array; hex?: string };
  const record: SlacTraceRecord = { at: value.at ?? traceNow(), direction: value.direction, hex: hexOf(value) };
  bus.publish(TRACE_TOPIC.slac, record, { retain: false });
  return true;
}

export function traceCan(bus: Bus, input: Lazy<CanTraceInput>): boolean {
  if (!isTraceOn(bus, 'can')) return false;
  const value = resolve(input) as CanTraceInput & { bytes?: Uint8Array; data?: string };
  const data = hexOf(value.data !== undefined ? { hex: value.data } : { bytes: value.bytes! });
  const record: CanTraceRecord = { at: value.at ?? traceNow(), direction: value.direction, id: value.id, data, ...(value.iface ? { iface: value.iface } : {}) };
  bus.publish(TRACE_TOPIC.can, record, { retain: false });
  return true;
}
