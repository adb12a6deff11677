/** A fresh, empty Postgres database per suite, dropped afterwards. */
import crypto from 'node:crypto';
import pg from 'pg';

export async function createPostgresDatabase(adminUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `longhaul_test_${crypto.randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await dropDatabaseForced(c, name);
      } finally {
        await c.end();
      }
    },
  };
}

const INSUFFICIENT_PRIVILEGE = '42501';

/**
 * `with (force)` ends the database's other backends, and Postgres 15 refuses to end an autovacuum worker (it has no
 * role) for a role without pg_signal_backend: the drop fails if autovacuum happens to be in the database that moment.
 * `.ci/run` grants the role pg_signal_backend; on a machine set up by hand, wait for the worker to finish instead.
 */
export async function dropDatabaseForced(c: pg.Client, name: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await c.query(`drop database if exists ${name} with (force)`);
      return;
    } catch (e) {
      if ((e as { code?: string }).code !== INSUFFICIENT_PRIVILEGE || attempt >= 100) throw e;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
