/** MQTT-style topic pattern matching: `+` matches one level, a trailing `#` matches the rest. */
export function topicMatches(pattern: string, topic: string): boolean {
  if (pattern === topic || pattern === '#') return true;
  const p = pattern.split('/');
  const t = topic.split('/');
  for (let i = 0; i < p.length; i++) {
    const level = p[i];
    if (level === '#') return i === p.length - 1;
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return p.length === t.length;
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
