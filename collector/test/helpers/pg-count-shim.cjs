// Preloaded into a collector (NODE_OPTIONS=--require …) to count the statements it sends to
// PostgreSQL: wraps pg's Client#query, groups statements by their first words, and on SIGUSR2
// writes the counts since the last signal to AUTHWATCH_PG_COUNT_FILE (then starts again).
// Used by the round-trip test and `node bench/p8-postgres.mjs --count`.
const { writeFileSync, renameSync } = require('node:fs');
const { join } = require('node:path');

const out = process.env.AUTHWATCH_PG_COUNT_FILE;
const pgPath = require.resolve('pg', { paths: [process.env.AUTHWATCH_PG_COUNT_FROM || join(__dirname, '..', '..')] });
const { Client } = require(pgPath);
let counts = new Map();
// Time key locks were held (not a statement: kept apart from the counts).
let held = { n: 0, ms: 0 };

/** "INSERT INTO events …" → a short, stable class name for a statement. */
function classOf(text) {
  const t = String(text).replace(/\s+/g, ' ').trim();
  // The derived events' insert that carries the buffered writes (postgres-tx.ts insertEvents).
  if (t.startsWith('WITH input AS')) return /\b(id_back|f_clear|f_add|r_take|r_add|s_add|s_set|lk_add|st_logged|st_soft) AS \(/.test(t) ? 'INSERT_EVENTS+FLUSH' : 'INSERT_EVENTS';
  if (t.includes('AS open_reservations')) return 'PREFETCH';
  if (t.startsWith('WITH pooled AS')) return 'LOCK_IDS';
  if (/^WITH (id_back|f_clear|f_add|r_take|r_add|s_add|s_set|lk_add|st_logged|st_soft) AS/.test(t)) return 'FLUSH';
  if (/^(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT)/.test(t)) return t.split(' sp')[0];
  return t.slice(0, 60);
}

const query = Client.prototype.query;
Client.prototype.query = function (config, values, cb) {
  const text = typeof config === 'string' ? config : config && config.text;
  if (typeof text !== 'string') return query.call(this, config, values, cb);
  const c = classOf(text);
  const e = counts.get(c) || { n: 0, ms: 0 };
  counts.set(c, e);
  e.n++;
  const t0 = process.hrtime.bigint();
  if (c === 'ROLLBACK') this.__lockedAt = undefined;
  // Key locks held: from the key-lock statement's answer to COMMIT's answer, per connection.
  if (c === 'COMMIT' && this.__lockedAt !== undefined) {
    const from = this.__lockedAt;
    this.__lockedAt = undefined;
    const r = query.call(this, config, values, cb);
    const h = held;
    const end = () => {
      h.n++;
      h.ms += Number(process.hrtime.bigint() - from) / 1e6;
      e.ms += Number(process.hrtime.bigint() - t0) / 1e6;
    };
    if (r && typeof r.then === 'function') r.then(end, end);
    return r;
  }
  const done = () => {
    e.ms += Number(process.hrtime.bigint() - t0) / 1e6;
    if (c.startsWith('SELECT authwatch_lock_keys') && this.__lockedAt === undefined) this.__lockedAt = process.hrtime.bigint();
  };
  const r = query.call(this, config, values, cb);
  if (r && typeof r.then === 'function') r.then(done, done);
  return r;
};

process.on('SIGUSR2', () => {
  if (!out) return;
  const rows = [...counts].map(([statement, e]) => ({ statement, n: e.n, ms: Math.round(e.ms * 100) / 100 })).sort((a, b) => b.n - a.n);
  writeFileSync(`${out}.tmp`, JSON.stringify({ at: Date.now(), rows, key_locks_held: { n: held.n, ms: Math.round(held.ms * 100) / 100 } }));
  renameSync(`${out}.tmp`, out);
  counts = new Map();
  held = { n: 0, ms: 0 };
});
