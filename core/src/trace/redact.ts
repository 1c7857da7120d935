/**
 * Secret redaction for the support bundle: values under keys that name a secret are replaced,
 * and the replaced values are returned so that they can be scrubbed from logs and traces too.
 */

export const REDACTED = '[REDACTED]';

/** Words (case-insensitive) that make a key a secret when they occur anywhere in it. */
export const DEFAULT_SECRET_KEYS = ['password', 'passwd', 'passphrase', 'secret', 'token', 'credential', 'privatekey', 'private_key', 'apikey', 'api_key', 'nmk'] as const;

/** Whole keys, or keys ending in 'key' (clientKey, tls_key), that hold secrets. */
const SECRET_KEY_NAME = /^(key|pin|psk|auth|authorization|cookie)$|(^|[_-]|[a-z])(key|Key|KEY)$/;
/** Keys that look like secrets but hold none (public material, ids). */
const NOT_SECRET = /^(keyring|publickey|public_key|publicKey|keyid|key_id|keyId)$/i;

export function isSecretKey(key: string, words: readonly string[] = DEFAULT_SECRET_KEYS): boolean {
  if (NOT_SECRET.test(key)) return false;
  if (SECRET_KEY_NAME.test(key)) return true;
  const lower = key.toLowerCase();
  return words.some((word) => lower.includes(word.toLowerCase()));
}

export interface Redaction<T> {
  readonly value: T;
  /** Every string value that was replaced (4 characters or more), longest first. */
  readonly secrets: string[];
}

export function redactSecrets<T>(value: T, words: readonly string[] = DEFAULT_SECRET_KEYS): Redaction<T> {
  const secrets = new Set<string>();
  const collect = (node: unknown) => {
    if (node === null || node === undefined) return;
    if (typeof node === 'object') {
      for (const child of Array.isArray(node) ? node : Object.values(node)) collect(child);
      return;
    }
    // Only strings are scrubbed from logs: replacing a number like 1883 everywhere would garble them.
    if (typeof node === 'string' && node.length >= 4) secrets.add(node);
  };
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (node === null || typeof node !== 'object') return node;
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(node)) {
      if (isSecretKey(key, words) && child !== null && child !== '' && typeof child !== 'boolean') {
        collect(child);
        out[key] = REDACTED;
      } else {
        out[key] = walk(child);
      }
    }
    return out;
  };
  return { value: walk(value) as T, secrets: [...secrets].sort((a, b) => b.length - a.length) };
}

/** Replace every occurrence of the secrets in a text (logs, traces). */
export function scrubText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  return out;
}
