/** Raw signal values in and out of a classic CAN payload (Intel byte order, as the database allows). */
import type { CanMessage, CanSignal } from './model.js';

function payloadToBigInt(data: Uint8Array): bigint {
  let value = 0n;
  for (let i = data.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(data[i]!);
  return value;
}

/** The raw (unscaled) value of a signal; signed signals are sign-extended. */
export function readRaw(signal: CanSignal, data: Uint8Array): number {
  const mask = (1n << BigInt(signal.length)) - 1n;
  let raw = (payloadToBigInt(data) >> BigInt(signal.startBit)) & mask;
  if (signal.signed && raw >> BigInt(signal.length - 1) === 1n) raw -= 1n << BigInt(signal.length);
  return Number(raw);
}

/** Write a raw value into the payload (in place). The caller keeps it within the signal's bits. */
export function writeRaw(signal: CanSignal, data: Uint8Array, raw: number): void {
  const length = BigInt(signal.length);
  const mask = (1n << length) - 1n;
  let value = BigInt(Math.trunc(raw)) & mask;
  value <<= BigInt(signal.startBit);
  const clear = ~(mask << BigInt(signal.startBit));
  let payload = (payloadToBigInt(data) & clear) | value;
  for (let i = 0; i < data.length; i++) {
    data[i] = Number(payload & 0xffn);
    payload >>= 8n;
  }
}

export function physicalOf(signal: CanSignal, raw: number): number {
  // Round away binary noise of the factor (0.1 × 3 = 0.30000000000000004).
  return Number((raw * signal.factor + signal.offset).toPrecision(12));
}

export function rawOf(signal: CanSignal, physical: number): number {
  return Math.round((physical - signal.offset) / signal.factor);
}

/** Whether a raw value lies within the signal's physical range [min|max]. */
export function rawInRange(signal: CanSignal, raw: number): boolean {
  const physical = physicalOf(signal, raw);
  return physical >= signal.min - 1e-9 && physical <= signal.max + 1e-9;
}

/** A payload of the message's length with every signal at its raw value from `raws` (missing: SNA, else 0). */
export function encodeMessage(message: CanMessage, raws: ReadonlyMap<string, number>): Uint8Array {
  const data = new Uint8Array(message.dlc);
  for (const signal of message.signals) writeRaw(signal, data, raws.get(signal.name) ?? signal.sna ?? 0);
  return data;
}
