/**
 * MQTT-style topic pattern matching: `+` matches one level, a trailing `#` matches the rest (and
 * the parent level itself: `a/#` matches `a`). The bus runs this for every publish and every
 * wildcard subscription, so it walks both strings in place instead of splitting them.
 */
export function topicMatches(pattern: string, topic: string): boolean {
  if (pattern === topic || pattern === '#') return true;
  let p = 0; // start of the current pattern level
  let t = 0; // start of the current topic level
  for (;;) {
    const pSlash = pattern.indexOf('/', p);
    const pEnd = pSlash < 0 ? pattern.length : pSlash;
    if (pEnd - p === 1 && pattern.charCodeAt(p) === HASH) return pSlash < 0;
    if (t < 0) return false; // the topic has no level left for this one
    const tSlash = topic.indexOf('/', t);
    const tEnd = tSlash < 0 ? topic.length : tSlash;
    if (!(pEnd - p === 1 && pattern.charCodeAt(p) === PLUS) && !sameLevel(pattern, p, pEnd, topic, t, tEnd)) return false;
    if (pSlash < 0) return tSlash < 0;
    p = pSlash + 1;
    t = tSlash < 0 ? -1 : tSlash + 1;
  }
}

const HASH = 0x23;
const PLUS = 0x2b;

function sameLevel(a: string, aStart: number, aEnd: number, b: string, bStart: number, bEnd: number): boolean {
  if (aEnd - aStart !== bEnd - bStart) return false;
  for (let i = 0; i < aEnd - aStart; i++) if (a.charCodeAt(aStart + i) !== b.charCodeAt(bStart + i)) return false;
  return true;
}

/** True when every topic `inner` can match is also matched by `outer` (used to fence plugins). */
export function patternCovers(outer: string, inner: string): boolean {
  const o = outer.split('/');
  const n = inner.split('/');
  for (let i = 0; i < o.length; i++) {
    if (o[i] === '#') return true;
    if (i >= n.length) return false;
    if (n[i] === '#') return false;
    if (o[i] !== '+' && (n[i] === '+' || o[i] !== n[i])) return false;
  }
  return o.length === n.length;
}
