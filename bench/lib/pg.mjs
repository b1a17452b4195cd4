// PostgreSQL helpers of the P8 figures: one statement on its own connection, a database's URL.
import pg from 'pg';

/** Runs one statement on a connection of its own (CREATE/DROP DATABASE cannot share a transaction). */
export async function admin(url, sql) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await c.query(sql);
  } finally {
    await c.end();
  }
}

/** The admin URL pointed at another database. */
export function dbUrl(adminUrl, name) {
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return u.toString();
}
