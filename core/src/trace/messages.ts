/** Reading decoded V2G documents (CONTRACTS.md JSON form) without knowing the schema. */

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The message's name: the body element of a V2G_Message (`CurrentDemandReq`), else the root
 * element (`supportedAppProtocolReq`, ISO-20's `SessionSetupReq`). undefined when not decoded.
 */
export function messageNameOf(decoded: unknown): string | undefined {
  if (!isObject(decoded)) return undefined;
  const root = Object.keys(decoded)[0];
  if (root === undefined) return undefined;
  if (root === 'V2G_Message') {
    const body = (decoded[root] as Json | undefined)?.Body;
    if (isObject(body)) return Object.keys(body)[0] ?? root;
  }
  return root;
}

/** The message element itself (the object under its name), or undefined. */
export function messageBodyOf(decoded: unknown): Json | undefined {
  if (!isObject(decoded)) return undefined;
  const root = Object.keys(decoded)[0];
  if (root === undefined) return undefined;
  if (root === 'V2G_Message') {
    const body = (decoded[root] as Json | undefined)?.Body;
    if (isObject(body)) {
      const name = Object.keys(body)[0];
      const inner = name === undefined ? undefined : body[name];
      return isObject(inner) ? inner : {};
    }
    return undefined;
  }
  const inner = decoded[root];
  return isObject(inner) ? inner : undefined;
}

/**
 * A physical value in any of the schemas' forms: DIN / ISO-2 `{Multiplier, Unit, Value}`,
 * ISO-20 `{Exponent, Value}`, or a plain number. undefined when absent or not a value.
 */
export function physicalValue(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (!isObject(value)) return undefined;
  const raw = value.Value;
  const exponent = value.Multiplier ?? value.Exponent ?? 0;
  if (typeof raw !== 'number' && typeof raw !== 'string') return undefined;
  const number = Number(raw) * 10 ** Number(exponent);
  return Number.isFinite(number) ? number : undefined;
}

/** Depth-first search for the first key with this name (message layouts differ between schemas). */
export function findKey(node: unknown, key: string, depth = 0): unknown {
  if (depth > 8 || node === null || typeof node !== 'object') return undefined;
  if (!Array.isArray(node) && key in (node as Json)) return (node as Json)[key];
  for (const child of Array.isArray(node) ? node : Object.values(node as Json)) {
    const found = findKey(child, key, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}
