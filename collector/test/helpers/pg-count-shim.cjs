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

/** The CTEs of the buffered writes (postgres-tx.ts flush), alone or carried by the derived events' insert. */
const FLUSH_PARTS = '(id_back|f_clear|f_add|r_take|r_add|s_add|s_set|lk_add|st_logged|st_soft) AS';
const CARRIES_FLUSH = new RegExp(`\\b${FLUSH_PARTS} \\(`);
const IS_FLUSH = new RegExp(`^WITH ${FLUSH_PARTS}`);

/** "INSERT INTO events …" → a short, stable class name for a statement. */
function classOf(text) {
  const t = String(text).replace(/\s+/g, ' ').trim();
  if (t.startsWith('WITH input AS')) return CARRIES_FLUSH.test(t) ? 'INSERT_EVENTS+FLUSH' : 'INSERT_EVENTS';
  if (t.includes('AS open_reservations')) return 'PREFETCH';
  if (t.startsWith('WITH pooled AS')) return 'LOCK_IDS';
  if (IS_FLUSH.test(t)) return 'FLUSH';
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
  // Key locks held: from the key-lock statement's answer to COMMIT's answer, per connection.
  const lockedAt = c === 'COMMIT' ? this.__lockedAt : undefined;
  if (c === 'COMMIT' || c === 'ROLLBACK') this.__lockedAt = undefined;
  const h = held;
  const done = () => {
    const now = process.hrtime.bigint();
    e.ms += Number(now - t0) / 1e6;
    if (lockedAt !== undefined) {
      h.n++;
      h.ms += Number(now - lockedAt) / 1e6;
    }
    if (c.startsWith('SELECT authwatch_lock_keys') && this.__lockedAt === undefined) this.__lockedAt = now;
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
