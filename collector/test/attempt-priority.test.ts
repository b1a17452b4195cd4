// Attempt reservations (`/v1/check` with "attempt": true) on the SQLite worker store go ahead of
// the group commits already queued in the writer thread, and all that arrive while it is busy
// share one transaction. Before, each reservation was its own write transaction behind every
// queued group and every earlier check: with 2 connections of 1,000-event batches ingesting,
// attempt checks took p50 3.2 s, past any application's timeout (the client's is 300 ms), so
// guarded logins failed open exactly while the collector was busy.
import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { IngestProcessorConfig } from '../src/pipeline/group-commit';
import { reserveInTx } from '../src/pipeline/reserve-group';
import { parseDetectionConfig } from '../src/processors/detections/config';
import { blankEvent, type StoredEvent } from '../src/schema/stored-event';
import { SqliteStore } from '../src/store/sqlite';
import { SqliteWorkerStore } from '../src/store/sqlite-worker';
import type { CoreWriteTx } from '../src/store/store';
import { tempDir } from './helpers/server';

const config: IngestProcessorConfig = {
  truncate: false,
  detections: parseDetectionConfig({}),
};
const T0 = Date.parse('2026-03-01T00:00:00Z');

/** n failed logins of n different users from n addresses (each a lockout count and a detection window). */
function group(tag: string, n: number): StoredEvent[] {
  return Array.from({ length: n }, (_, i) =>
    blankEvent({
      id: `${tag}-${i}`,
      time: T0 + i,
      type: 'login',
      outcome: 'failure',
      reason: 'invalid_password',
      user: `${tag}-user-${i}`,
      ip: `10.${(i >> 8) & 255}.${i & 255}.1`,
    }),
  );
}

let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('a reservation is answered after the group commit under way, not after the groups queued behind it', async () => {
  const store = await SqliteWorkerStore.open(join(dir, 'w.db'), {
    ingest: config,
  });
  try {
    const order: string[] = [];
    const done = <T>(name: string, p: Promise<T>) => p.then((v) => (order.push(name), v));
    // Three groups queued in the writer thread, in this order; the first takes a good while (its
    // events go over in slices first, so the next ones are sent once it runs).
    const g1 = done('g1', store.ingestGroup!({ batches: [group('g1', 20_000)], now: T0 }));
    await new Promise((r) => setTimeout(r, 300));
    const later = [done('g2', store.ingestGroup!({ batches: [group('g2', 2_000)], now: T0 })), done('g3', store.ingestGroup!({ batches: [group('g3', 2_000)], now: T0 }))];
    await new Promise((r) => setTimeout(r, 100));
    const groups = [g1, ...later];
    expect(order).toEqual([]);
    const answer = await done(
      'reservation',
      store.reserveAttempts!({
        reservations: [{ user: 'alice', ip: '192.0.2.1' }],
        now: T0,
      }),
    );
    expect(answer.answers).toEqual([
      {
        ok: true,
        answer: {
          allowed: true,
          attempt_id: expect.stringMatching(/^[A-Za-z0-9_-]{16,64}$/),
        },
      },
    ]);
    await Promise.all(groups);
    // Before g2: one group waited for at most (the one under way), the later ones not at all.
    expect(order.indexOf('reservation')).toBeLessThan(order.indexOf('g2'));
    expect(order.filter((n) => n !== 'reservation')).toEqual(['g1', 'g2', 'g3']);
  } finally {
    await store.close();
  }
});

test('50 reservations for one user arriving while a group commits: exactly max_failed_attempts + 1 allowed, one reservation row each', async () => {
  const file = join(dir, 'w.db');
  const store = await SqliteWorkerStore.open(file, { ingest: config });
  try {
    const busy = store.ingestGroup!({
      batches: [group('busy', 10_000)],
      now: T0,
    });
    await new Promise((r) => setTimeout(r, 100));
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        store.reserveAttempts!({
          reservations: [{ user: i % 2 ? 'Mallory' : 'mallory', ip: `198.51.100.${i}` }],
          now: T0,
        }),
      ),
    );
    await busy;
    const answers = results.map((r) => r.answers[0]);
    expect(answers.every((a) => a.ok)).toBe(true);
    const allowed = answers.filter((a) => a.ok && a.answer.allowed);
    expect(allowed).toHaveLength(6);
    expect(answers.filter((a) => a.ok && !a.answer.allowed && a.answer.reason === 'attempt_limit')).toHaveLength(44);
    const ids = allowed.map((a) => (a.ok && a.answer.allowed ? a.answer.attempt_id : ''));
    expect(new Set(ids).size).toBe(6);
    await store.close();
    const db = new Database(file, { readonly: true });
    try {
      expect((db.prepare('SELECT count(*) AS n FROM reservations WHERE user = ?').get('mallory') as { n: number }).n).toBe(6);
    } finally {
      db.close();
    }
  } finally {
    await store.close();
  }
});

test('a reservation never runs inside another transaction: it waits (without spinning) until that one commits, and sees it', async () => {
  const store = await SqliteWorkerStore.open(join(dir, 'w.db'), {
    ingest: config,
  });
  try {
    let reservation: Promise<unknown> | null = null;
    let cpu = 0;
    await store.write(async (tx) => {
      await tx.insertLock({
        scope: 'user',
        user: 'dave',
        ip: null,
        failures: 6,
        locked_at: T0,
        locked_until: T0 + 3_600_000,
        reason: 'too_many_failures',
      });
      reservation = store.reserveAttempts!({
        reservations: [{ user: 'Dave', ip: '192.0.2.9' }],
        now: T0 + 1000,
      });
      // The writer thread holds this open transaction while this thread sleeps.
      const before = process.cpuUsage();
      await new Promise((r) => setTimeout(r, 400));
      const used = process.cpuUsage(before);
      cpu = (used.user + used.system) / 1000;
    });
    // Refused by the lock the transaction it waited for committed.
    await expect(reservation).resolves.toMatchObject({
      answers: [{ ok: true, answer: { allowed: false, reason: 'user_locked' } }],
    });
    // A writer thread spinning for the reservation would have used ~400 ms of CPU meanwhile.
    expect(cpu).toBeLessThan(150);
  } finally {
    await store.close();
  }
});

test('reservations sharing a transaction: one that fails is refused alone, the others are stored', async () => {
  const file = join(dir, 'm.db');
  const store = new SqliteStore(file);
  try {
    const result = await store.write(async (tx) => {
      // The store refuses one reservation's row (as a full disk or a constraint would).
      const failing: CoreWriteTx = new Proxy(tx, {
        get: (t, k) =>
          k === 'insertReservation'
            ? async (r: Parameters<CoreWriteTx['insertReservation']>[0]) => {
                if (r.user === 'bob') throw new Error('cannot store this one');
                return t.insertReservation(r);
              }
            : (t as unknown as Record<string | symbol, unknown>)[k],
      });
      return reserveInTx(
        failing,
        {
          reservations: [
            { user: 'amy', ip: '192.0.2.1' },
            { user: 'bob', ip: '192.0.2.2' },
            { user: 'cyd', ip: null },
          ],
          now: T0,
        },
        false,
        true,
      );
    });
    expect(result.answers.map((a) => (a.ok ? a.answer.allowed : String(a.error)))).toEqual([true, 'Error: cannot store this one', true]);
  } finally {
    await store.close();
  }
  const db = new Database(file, { readonly: true });
  try {
    expect(
      (
        db.prepare('SELECT user FROM reservations ORDER BY user').all() as {
          user: string;
        }[]
      ).map((r) => r.user),
    ).toEqual(['amy', 'cyd']);
  } finally {
    db.close();
  }
});
