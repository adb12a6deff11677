/**
 * DATABASE_STATEMENT_TIMEOUT_MS: a Postgres that goes silent under a statement already sent fails it as an outage
 * within the bound and its connection is closed, never reused; statements that are only slow, a connection idle by
 * design (LISTEN) and migrations are not cut.
 */
import { sql } from 'kysely';
import pg from 'pg';
import { openDatabase, type OpenedDatabase } from '../../shared/store/open-database';
import { isStoreOutage, StoreNoAnswerError } from '../../shared/store/outage';
import { FreezableTcpProxy } from '../support/freezable-tcp-proxy';
import { startHarness } from '../support/harness';
import { createPostgresDatabase } from '../support/postgres';
import { testEnv } from '../support/test-env';
import { waitFor } from '../support/wait';

const BOUND_MS = 1000;

let database: { url: string; drop: () => Promise<void> };
let proxy: FreezableTcpProxy;
let opened: OpenedDatabase | undefined;

/** The test database's URL with its host and port replaced by the proxy's. */
function throughProxy(): string {
  const url = new URL(database.url);
  url.host = `127.0.0.1:${proxy.port}`;
  return url.toString();
}

const failureOf = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => undefined,
    (err: unknown) => err,
  );

beforeAll(async () => {
  database = await createPostgresDatabase(testEnv().postgresUrl);
});

afterAll(async () => {
  await database.drop();
});

beforeEach(async () => {
  const url = new URL(database.url);
  proxy = new FreezableTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
  await proxy.open();
});

afterEach(async () => {
  proxy.thaw();
  await opened?.db.destroy();
  opened = undefined;
  await proxy.close();
});

/** One connection at most, so a statement after the failure shows whether the pool handed out the same one. */
const openBounded = (migrate = false) =>
  openDatabase({ databaseUrl: throughProxy(), databasePoolMax: 1, databaseStatementTimeoutMs: BOUND_MS, dataDir: '', migrate });

const backendPid = async (db: OpenedDatabase['db']) => (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db)).rows[0].pid;

describe('a Postgres that goes silent under a statement', () => {
  it('fails the statement as an outage within the bound, and the next one goes over a new connection with its own answer', async () => {
    opened = await openBounded();
    const before = await backendPid(opened.db);

    proxy.freeze();
    const started = Date.now();
    const failure = await failureOf(sql`select 'the late answer' as answer`.execute(opened.db));
    const waited = Date.now() - started;
    expect(failure).toBeInstanceOf(StoreNoAnswerError);
    expect(isStoreOutage(failure)).toBe(true);
    expect(waited).toBeGreaterThanOrEqual(BOUND_MS - 50);
    expect(waited).toBeLessThan(BOUND_MS + 3000);

    // The server comes back and the held answer is delivered late: it reaches no one, the connection is gone.
    proxy.thaw();
    const after = await sql<{ answer: string; pid: number }>`select 'its own answer' as answer, pg_backend_pid() as pid`.execute(opened.db);
    expect(after.rows).toEqual([{ answer: 'its own answer', pid: expect.any(Number) }]);
    expect(after.rows[0].pid).not.toBe(before);
    expect(proxy.accepted).toBe(2);
  }, 20_000);

  it('fails a transaction as an outage (its rollback too), and the pool then hands out a connection outside any transaction', async () => {
    opened = await openBounded();
    const db = opened.db;
    const failure = await failureOf(
      db.transaction().execute(async (trx) => {
        await sql`select 1`.execute(trx);
        proxy.freeze();
        await sql`select 2`.execute(trx);
      }),
    );
    expect(failure).toBeInstanceOf(StoreNoAnswerError);
    expect(isStoreOutage(failure)).toBe(true);

    proxy.thaw();
    // On a connection left inside the failed transaction now() would be its start, not this statement's.
    const after = await sql<{ alone: boolean }>`select now() = statement_timestamp() as alone`.execute(db);
    expect(after.rows).toEqual([{ alone: true }]);
    expect(proxy.accepted).toBe(2);
  }, 20_000);

  it('fails pool.query (the bus\'s NOTIFY) the same way', async () => {
    opened = await openBounded();
    await opened.pool!.query('select 1');
    proxy.freeze();
    const failure = await failureOf(opened.pool!.query('select 2'));
    expect(failure).toBeInstanceOf(StoreNoAnswerError);
    proxy.thaw();
    await expect(opened.pool!.query('select 3 as n')).resolves.toMatchObject({ rows: [{ n: 3 }] });
    expect(proxy.accepted).toBe(2);
  }, 20_000);
});

describe('the API while Postgres is silent', () => {
  it('answers 503 store_unavailable within the bounds, never hangs, and 200 once Postgres answers again', async () => {
    const h = await startHarness({
      noWorker: true,
      env: { DATABASE_URL: throughProxy(), DATABASE_STATEMENT_TIMEOUT_MS: String(BOUND_MS), DATABASE_CONNECT_TIMEOUT_MS: String(BOUND_MS) },
    });
    try {
      expect((await h.request('GET', '/api/runs')).status).toBe(200);
      proxy.freeze();
      const started = Date.now();
      const res = await h.request('GET', '/api/runs');
      expect([res.status, res.body.error?.code]).toEqual([503, 'store_unavailable']);
      expect(Date.now() - started).toBeLessThan(BOUND_MS + 3000);
      proxy.thaw();
      await waitFor(async () => (await h.request('GET', '/api/runs')).status === 200, { what: 'the API to answer again' });
    } finally {
      proxy.thaw();
      await h.close();
    }
  }, 30_000);
});

describe('what the bound leaves alone', () => {
  it('a statement slower than most but within the bound, and a wait for an advisory lock another transaction holds', async () => {
    opened = await openDatabase({ databaseUrl: throughProxy(), databasePoolMax: 2, databaseStatementTimeoutMs: BOUND_MS, dataDir: '', migrate: false });
    const db = opened.db;
    const holding = db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(42)`.execute(trx);
      await sql`select pg_sleep(0.5)`.execute(trx);
    });
    await waitFor(async () => (await sql<{ n: number }>`select count(*)::int as n from pg_locks where locktype = 'advisory' and granted`.execute(db)).rows[0].n === 1);
    const waiting = db.transaction().execute(async (trx) => sql`select pg_advisory_xact_lock(42)`.execute(trx));
    await expect(Promise.all([holding, waiting])).resolves.toBeDefined();
    await expect(sql`select pg_sleep(0.5)`.execute(db)).resolves.toBeDefined();
    expect(proxy.accepted).toBe(2);
  }, 20_000);

  it('a connection idle longer than the bound between statements, as the bus\'s LISTEN connection is', async () => {
    opened = await openBounded();
    const listener = await opened.pool!.connect();
    try {
      const heard: string[] = [];
      listener.on('notification', (n) => heard.push(n.payload ?? ''));
      await listener.query('listen statement_bound_test');
      await new Promise((resolve) => setTimeout(resolve, BOUND_MS + 300));
      const sender = new pg.Client({ connectionString: database.url });
      await sender.connect();
      await sender.query(`notify statement_bound_test, 'still here'`);
      await sender.end();
      await waitFor(() => heard.length > 0);
      expect(heard).toEqual(['still here']);
    } finally {
      listener.release();
    }
  }, 20_000);

  it('migrations, which may wait longer than the bound for another process\'s migrations', async () => {
    const fresh = await createPostgresDatabase(testEnv().postgresUrl);
    const other = new pg.Client({ connectionString: fresh.url });
    await other.connect();
    try {
      // Kysely's migration lock (its PostgresAdapter's LOCK_ID), held as another process migrating would.
      await other.query('select pg_advisory_lock(3853314791062309107)');
      const releasing = new Promise((resolve) => setTimeout(resolve, BOUND_MS * 1.5)).then(() => other.query('select pg_advisory_unlock(3853314791062309107)'));
      const started = Date.now();
      opened = await openDatabase({ databaseUrl: fresh.url, databasePoolMax: 2, databaseStatementTimeoutMs: BOUND_MS / 2, dataDir: '', migrate: true });
      await releasing;
      expect(Date.now() - started).toBeGreaterThanOrEqual(BOUND_MS * 1.5 - 50);
      await expect(sql`select count(*) from runs`.execute(opened.db)).resolves.toBeDefined();
    } finally {
      await opened?.db.destroy();
      opened = undefined;
      await other.end();
      await fresh.drop();
    }
  }, 30_000);
});
