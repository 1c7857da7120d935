/**
 * Proximity pilot (PP): on a socket-outlet EVSE (IEC 61851-1 case B), the resistor between PP
 * and PE inside the cable's plug codes the cable's current rating (IEC 61851-1 Table B.2 /
 * IEC 62196-2). The EVSE must never offer more than the cable carries.
 */

export interface PpReading {
  /** none: no cable (open); ok: a valid coding; invalid: a resistance that codes nothing. */
  readonly status: 'none' | 'ok' | 'invalid';
  /** The cable's rating in amperes when status is ok, else null. */
  readonly maxCurrentA: number | null;
  /** The measured resistance in ohms, when the board measures it (Infinity when open). */
  readonly ohms?: number;
}

/** Resistance bands (ohms, lower bound inclusive) and the rating each codes. */
const PP_BANDS: ReadonlyArray<{ readonly minOhms: number; readonly maxOhms: number; readonly amps: number }> = [
  { minOhms: 1000, maxOhms: 2200, amps: 13 }, // nominal 1.5 kΩ
  { minOhms: 330, maxOhms: 1000, amps: 20 }, // nominal 680 Ω
  { minOhms: 150, maxOhms: 330, amps: 32 }, // nominal 220 Ω
  { minOhms: 75, maxOhms: 150, amps: 63 }, // nominal 100 Ω (70 A single-phase cables use the same coding)
];

/** Above this the PP line counts as open: no cable. */
export const PP_OPEN_MIN_OHMS = 4500;

/** Nominal coding resistors, for simulators and tests. */
export const PP_NOMINAL_OHMS: Readonly<Record<13 | 20 | 32 | 63, number>> = { 13: 1500, 20: 680, 32: 220, 63: 100 };

export function ppFromOhms(ohms: number): PpReading {
  if (Number.isNaN(ohms) || ohms < 0) return { status: 'invalid', maxCurrentA: null, ohms };
  if (ohms >= PP_OPEN_MIN_OHMS) return { status: 'none', maxCurrentA: null, ohms };
  for (const band of PP_BANDS) {
    if (ohms >= band.minOhms && ohms < band.maxOhms) return { status: 'ok', maxCurrentA: band.amps, ohms };
  }
  return { status: 'invalid', maxCurrentA: null, ohms };
}
