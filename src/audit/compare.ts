const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null;
const show = (x: unknown): string => {
  const s = JSON.stringify(x) ?? 'undefined';
  return s.length > 40 ? `${s.slice(0, 37)}…` : s;
};

/**
 * Where two JSON values differ (at most `limit` places), each as
 * `path (a vs b)`, so a check's detail says what differs.
 */
export function jsonDiff(a: unknown, b: unknown, limit = 5, at = ''): string[] {
  if (Object.is(a, b)) return [];
  if (!isObj(a) || !isObj(b) || Array.isArray(a) !== Array.isArray(b)) return [`${at || '(whole)'} (${show(a)} vs ${show(b)})`];
  const out: string[] = [];
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (out.length >= limit) break;
    out.push(...jsonDiff(a[k], b[k], limit - out.length, Array.isArray(a) ? `${at}[${k}]` : at ? `${at}.${k}` : k));
  }
  return out;
}
