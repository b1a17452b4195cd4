// Free-text search (`q`) for SQLite without scanning events. Every distinct value of the searchable
// columns is a row of search_terms, trigram-indexed (FTS5) so a substring finds the matching values
// in a table of distinct values instead of millions of events; each event carries one opaque token
// per (column, value) in event_terms (FTS5, contentless), so the matching values lead straight to
// their events. A full trigram index over the events' text would cost ingest about 3x (measured);
// one token per column costs about 8 %.
import { hash } from 'node:crypto';
import type Database from 'better-sqlite3';
import { LRUCache } from 'lru-cache';
import type { StoredEvent } from '../schema/stored-event';
import { all, type Clause, type Plan } from './engine/plan';

/** The columns migration 5 indexes (filter-sql TEXT_COLUMNS when it shipped). */
export const TERM_COLUMNS = ['user', 'email', 'ip', 'reason', 'user_agent', 'service'] as const;
export type TermColumn = (typeof TERM_COLUMNS)[number];

/** More matching values than this: the search is not selective, scanning the events is as fast. */
export const MAX_SEARCH_TERMS = 1000;

/**
 * The token an event carries for one column value: 80 bits of SHA-1 over column and value, so two
 * values share a token only by an (accidental) 2^-80 collision. Alphanumeric, so FTS5's unicode61
 * tokenizer keeps it whole.
 */
export function termToken(col: string, value: string): string {
  return 'h' + hash('sha1', `${col}\u0000${value}`, 'hex').slice(0, 20);
}

/** SQL functions the migrations use to backfill; registered on every connection that migrates. */
export function registerTermFunctions(db: Database.Database): void {
  // A backfill sees the same users, agents and addresses over and over: hash each value once.
  const tokens = new LRUCache<string, string>({ max: 200_000 });
  db.function('authwatch_terms', { deterministic: true, varargs: true }, (...values: unknown[]) => {
    let out = '';
    values.forEach((v, i) => {
      if (typeof v !== 'string' || i >= TERM_COLUMNS.length) return;
      const key = `${TERM_COLUMNS[i]}\u0000${v}`;
      let t = tokens.get(key);
      if (t === undefined) tokens.set(key, (t = termToken(TERM_COLUMNS[i], v)));
      out += (out ? ' ' : '') + t;
    });
    return out;
  });
}

/** Values remembered per column before the memory starts over (a plain Map: no LRU bookkeeping per event). */
const KNOWN_PER_COLUMN = 50_000;

/**
 * Keeps search_terms and event_terms current on the write connection. Remembers (bounded) which
 * values are already stored and their tokens, so a repeated user or user agent costs no statement
 * and no hash. The memory must forget whatever a rollback undid: the store calls forget() on every
 * rollback.
 */
export class TermIndexer {
  private readonly known: Map<string, string>[] = TERM_COLUMNS.map(() => new Map());
  private readonly addTerm: Database.Statement;
  private readonly addEventTerms: Database.Statement;
  private readonly dropEventTerms: Database.Statement;

  constructor(db: Database.Database) {
    this.addTerm = db.prepare('INSERT OR IGNORE INTO search_terms (col, value) VALUES (?, ?)');
    this.addEventTerms = db.prepare('INSERT INTO event_terms (rowid, t) VALUES (?, ?)');
    this.dropEventTerms = db.prepare('DELETE FROM event_terms WHERE rowid IN (SELECT seq FROM events WHERE time < ?)');
  }

  /** Indexes one inserted event (seq = its rowid). */
  add(seq: number, e: StoredEvent): void {
    let text = '';
    for (let i = 0; i < TERM_COLUMNS.length; i++) {
      const col = TERM_COLUMNS[i];
      const v = e[col];
      if (v === null || v === undefined) continue;
      const known = this.known[i];
      let token = known.get(v);
      if (token === undefined) {
        this.addTerm.run(col, v);
        token = termToken(col, v);
        if (known.size >= KNOWN_PER_COLUMN) known.clear();
        known.set(v, token);
      }
      text = text ? `${text} ${token}` : token;
    }
    if (text) this.addEventTerms.run(seq, text);
  }

  /** Before events older than `before` are deleted: drops their tokens. */
  purgeBefore(before: number): void {
    this.dropEventTerms.run(before);
  }

  forget(): void {
    for (const m of this.known) m.clear();
  }
}

/**
 * Looks `q` up in search_terms (values of `columns` containing q, ASCII case-insensitive as LIKE)
 * and returns the events clause; null when the term index cannot answer (q shorter than a trigram,
 * a column it does not index, or so many matching values that a scan is as good).
 */
export function* termClause(q: string, columns: readonly string[], likePattern: string): Plan<Clause | null> {
  // Shorter than a trigram, or a character FTS5 query text cannot carry: scan instead.
  if ([...q].length < 3 || q.includes('\u0000')) return null;
  if (!columns.every((c) => (TERM_COLUMNS as readonly string[]).includes(c))) return null;
  if (!columns.length) return { sql: '0', params: [] };
  // "+col": the matching ids drive the lookup; the (col, value) index would walk every value of the columns.
  const rows = (yield* all(
    `SELECT col, value FROM search_terms
     WHERE id IN (SELECT rowid FROM search_terms_fts WHERE search_terms_fts MATCH ?)
       AND +col IN (${columns.map(() => '?').join(', ')}) AND value LIKE ? ESCAPE '\\' LIMIT ?`,
    [`"${q.replace(/"/g, '""')}"`, ...columns, likePattern, MAX_SEARCH_TERMS + 1],
  )) as { col: string; value: string }[];
  if (rows.length > MAX_SEARCH_TERMS) return null;
  if (!rows.length) return { sql: '0', params: [] };
  const match = rows.map((r) => termToken(r.col, r.value)).join(' OR ');
  return { sql: 'seq IN (SELECT rowid FROM event_terms WHERE event_terms MATCH ?)', params: [match] };
}
