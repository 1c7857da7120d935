import type { PhysicalUnit, PhysicalValue } from './topics.js';

/** A physical value as the EXI documents of DIN 70121 / ISO 15118-2 carry it. */
export interface ExiPhysicalValue {
  readonly Multiplier: number;
  readonly Unit?: string;
  readonly Value: number;
}

export function pv(value: number, multiplier: number, unit: PhysicalUnit): PhysicalValue {
  return { value, multiplier, unit };
}

/** The number a physical value stands for (value × 10^multiplier). */
export function magnitude(value: { value: number; multiplier: number } | undefined): number {
  if (!value) return Number.NaN;
  return value.value * 10 ** value.multiplier;
}

export function exiMagnitude(value: ExiPhysicalValue | undefined): number {
  if (!value) return Number.NaN;
  return value.Value * 10 ** value.Multiplier;
}

export function toExi(value: PhysicalValue): ExiPhysicalValue {
  return { Multiplier: value.multiplier, Unit: value.unit, Value: value.value };
}

/** From the EXI form; an absent unit (optional in DIN 70121) takes the expected one. */
export function fromExi(value: ExiPhysicalValue, unit: PhysicalUnit): PhysicalValue {
  return { value: value.Value, multiplier: value.Multiplier, unit };
}

/**
 * A number as a physical value that fits xs:short with the fewest decimals lost: the smallest
 * multiplier in -1..3 that keeps |value| ≤ 32767 (e.g. 400.5 V → 4005 × 10^-1 V, 150000 W → 1500 × 10^2 W).
 */
export function fromNumber(amount: number, unit: PhysicalUnit, minMultiplier = -1): PhysicalValue {
  for (let multiplier = minMultiplier; multiplier <= 3; multiplier++) {
    const value = Math.round(amount / 10 ** multiplier);
    if (Math.abs(value) <= 32767) return { value, multiplier, unit };
  }
  return { value: Math.sign(amount) * 32767, multiplier: 3, unit };
}
