/** Between a signal's raw value and the value its bus topic carries (label, boolean, physical value …). */
import { physicalOf, rawInRange, rawOf } from '../dbc/codec.js';
import type { ApiSignal } from './api.js';

export interface PhysicalValue {
  readonly value: number;
  readonly multiplier: number;
  readonly unit: string;
}

export type Decoded = { readonly ok: true; readonly sna: true } | { readonly ok: true; readonly sna: false; readonly value: unknown } | { readonly ok: false; readonly reason: string };

/** The multiplier that shows the signal's resolution: factor 0.1 → -1, factor 10 → 1, factor 1 → 0. */
function resolutionOf(factor: number): number {
  return Math.max(-3, Math.min(3, Math.floor(Math.log10(Math.abs(factor)) + 1e-9)));
}

/** A number as { value, multiplier } with value an xs:short, keeping the signal's resolution where it fits. */
export function toPhysicalValue(amount: number, unit: string, minMultiplier: number): PhysicalValue {
  for (let multiplier = Math.min(minMultiplier, 0); multiplier <= 3; multiplier++) {
    const value = Math.round(amount / 10 ** multiplier);
    if (Math.abs(value) <= 32767) return { value, multiplier, unit };
  }
  return { value: Math.sign(amount) * 32767, multiplier: 3, unit };
}

function isPhysicalValue(value: unknown): value is PhysicalValue {
  return typeof value === 'object' && value !== null && typeof (value as PhysicalValue).value === 'number' && typeof (value as PhysicalValue).multiplier === 'number';
}

export function decodeSignal(api: ApiSignal, raw: number): Decoded {
  const { signal } = api;
  if (signal.sna !== undefined && raw === signal.sna) return { ok: true, sna: true };
  if (!rawInRange(signal, raw)) return { ok: false, reason: `${signal.name} raw ${raw} (${physicalOf(signal, raw)} ${signal.unit}) outside [${signal.min}|${signal.max}]` };
  switch (api.kind) {
    case 'label': {
      const label = signal.values.get(raw);
      if (label === undefined) return { ok: false, reason: `${signal.name} raw ${raw} has no meaning (value descriptions: ${[...signal.values].map(([r, l]) => `${r}=${l}`).join(', ')})` };
      return { ok: true, sna: false, value: label };
    }
    case 'boolean':
      return { ok: true, sna: false, value: raw === 1 };
    case 'physical':
      return { ok: true, sna: false, value: toPhysicalValue(physicalOf(signal, raw), signal.unit, resolutionOf(signal.factor)) };
    case 'hex':
      return { ok: true, sna: false, value: raw.toString(16).padStart(Math.ceil(signal.length / 4), '0') };
    case 'number':
      return { ok: true, sna: false, value: physicalOf(signal, raw) };
  }
}

/** The raw value for a topic value; undefined when there is nothing valid to send (the frame then carries SNA). */
export function encodeSignal(api: ApiSignal, value: unknown): number | undefined {
  const { signal } = api;
  if (value === undefined || value === null) return undefined;
  const clamp = (raw: number) => {
    const lo = rawOf(signal, signal.min);
    const hi = rawOf(signal, signal.max);
    return Math.min(Math.max(raw, Math.min(lo, hi)), Math.max(lo, hi));
  };
  switch (api.kind) {
    case 'label': {
      for (const [raw, label] of signal.values) if (label === value && raw !== signal.sna) return raw;
      return undefined;
    }
    case 'boolean':
      return typeof value === 'boolean' ? (value ? 1 : 0) : undefined;
    case 'physical':
      return isPhysicalValue(value) ? clamp(rawOf(signal, value.value * 10 ** value.multiplier)) : undefined;
    case 'hex': {
      if (typeof value !== 'string' || !/^[0-9a-f]+$/i.test(value)) return undefined;
      const raw = Number.parseInt(value, 16);
      return raw < 2 ** signal.length - 1 ? raw : undefined;
    }
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? clamp(rawOf(signal, value)) : undefined;
  }
}

/** Whether two topic values are the same (physical values by their fields). */
export function sameTopicValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (isPhysicalValue(a) && isPhysicalValue(b)) {
    const x = a.value * 10 ** a.multiplier;
    const y = b.value * 10 ** b.multiplier;
    return a.unit === b.unit && Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(x), Math.abs(y));
  }
  return false;
}
