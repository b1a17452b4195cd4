// PostgreSQL text and jsonb cannot hold U+0000, which SQLite stores and the collector uses as a
// separator (failure keys "ui:<user>\0<ip>", the self-view "no match" filter). Every string sent
// to PostgreSQL has U+0000 replaced by U+FFFD, on writes and in filters alike, so lookups stay
// consistent instead of failing the whole batch.
const NUL = /\u0000/g;

export function pgParam(v: unknown): unknown {
  if (typeof v === 'string') return v.includes('\u0000') ? v.replace(NUL, '\ufffd') : v;
  if (Array.isArray(v)) return v.map(pgParam);
  return v;
}

/** JSON text for a jsonb parameter (jsonb also rejects the \u0000 escape). */
export function pgJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'string' && v.includes('\u0000') ? v.replace(NUL, '\ufffd') : v));
}
