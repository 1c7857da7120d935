/**
 * The latched target values of seed 7.5: max_trials "1, empty string or unset" mean 1 and interval
 * "0, empty string or unset" mean 0. Values below those (and anything that is not an integer) are
 * read the same way, silently, as the seed asks.
 */
export function normalizeMaxTrials(value: unknown): number {
  const n = toInteger(value);
  return n === undefined || n < 1 ? 1 : n;
}

export function normalizeIntervalSeconds(value: unknown): number {
  const n = toInteger(value);
  return n === undefined || n < 0 ? 0 : n;
}

function toInteger(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value)) return Number.parseInt(value, 10);
  return undefined;
}

/** Whether a URL names a casync bundle that rauc must fetch itself (seed 7.6: path ends in .raucb). */
export function isCasyncUrl(url: string): boolean {
  try {
    return new URL(url).pathname.endsWith('.raucb');
  } catch {
    return url.endsWith('.raucb');
  }
}
