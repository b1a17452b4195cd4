// PostgreSQL text and jsonb cannot hold U+0000, which SQLite stores and the collector uses as a
// separator (failure keys "ui:<user>\0<ip>", the self-view "no match" filter). Every string sent
// to PostgreSQL has U+0000 replaced by U+FFFD, on writes and in filters alike, so lookups stay
// consistent instead of failing the whole batch.
const NUL = /\u0000/g;

const needsCleaning = (v: unknown): boolean => (typeof v === 'string' ? v.includes('\u0000') : Array.isArray(v) && v.some(needsCleaning));

export function pgParam(v: unknown): unknown {
  if (typeof v === 'string') return v.includes('\u0000') ? v.replace(NUL, '\ufffd') : v;
  // Batches pass arrays of thousands of values: copied only when one of them needs it.
  if (Array.isArray(v)) return v.some(needsCleaning) ? v.map(pgParam) : v;
  return v;
}

/** JSON text for a jsonb parameter (jsonb also rejects the \u0000 escape). */
export function pgJson(value: unknown): string {
  const plain = JSON.stringify(value);
  // JSON.stringify writes U+0000 as the escape \u0000: only then is the slower walk needed.
  if (!plain.includes('\\u0000')) return plain;
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'string' && v.includes('\u0000') ? v.replace(NUL, '\ufffd') : v));
}
