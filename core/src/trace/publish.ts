import type { Bus } from '@opensecc/plugin-api';
import { TRACE_TOPIC, type CanTraceRecord, type SlacTraceRecord, type TraceSwitches, type V2gTraceRecord } from './topics.js';

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
  const data = value.data !== undefined ? value.data.toLowerCase() : Buffer.from(value.bytes!).toString('hex');
  const record: CanTraceRecord = { at: value.at ?? traceNow(), direction: value.direction, id: value.id, data, ...(value.iface ? { iface: value.iface } : {}) };
  bus.publish(TRACE_TOPIC.can, record, { retain: false });
  return true;
}
