/** Polling waits: a hang guard that names what was awaited, not a timing check. */

/** Resolve with the first truthy value of `check`; reject after `timeoutMs` naming `what`. */
export async function waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs = 5000, intervalMs = 20): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
