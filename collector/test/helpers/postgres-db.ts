// Test databases on a real PostgreSQL server (AUTHWATCH_TEST_PG = an admin URL, e.g.
// postgres://postgres:postgres@127.0.0.1:5432/postgres). Each database is fresh and dropped after.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const PG_ADMIN_URL = process.env.AUTHWATCH_TEST_PG;

/** describe, or describe.skip with a printed reason; in CI a missing server is a failure. */
export function describeWithPostgres(name: string): jest.Describe {
  if (PG_ADMIN_URL) return describe;
  const reason = 'AUTHWATCH_TEST_PG is not set (e.g. postgres://postgres:postgres@127.0.0.1:5432/postgres after `pg_ctlcluster 15 main start`)';
  if (process.env.CI === 'true') {
    test(`${name}: PostgreSQL is required in CI`, () => {
      throw new Error(`${reason}: the PostgreSQL tests cannot run`);
    });
  } else {
    // eslint-disable-next-line no-console
    console.log(`skipping ${name}: ${reason}`);
  }
  return describe.skip;
}

export class TestDatabases {
  private readonly names: string[] = [];
  private readonly prefix = `authwatch_test_${randomBytes(4).toString('hex')}`;

  /** Creates an empty database and returns its URL. */
  async create(): Promise<string> {
    const name = `${this.prefix}_${this.names.length}`;
    await this.admin(`CREATE DATABASE ${name}`);
    this.names.push(name);
    const u = new URL(PG_ADMIN_URL!);
    u.pathname = `/${name}`;
    return u.toString();
  }

  async dropAll(): Promise<void> {
    for (const name of this.names.splice(0)) await this.admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }

  private admin(sql: string): Promise<void> {
    return runSql(PG_ADMIN_URL!, sql);
  }
}

/** One statement on its own connection (CREATE/DROP DATABASE, roles, grants). */
export async function runSql(url: string, sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}
