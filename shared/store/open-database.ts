/**
 * Opens the system-of-record database: SQLite under DATA_DIR by default, Postgres when
 * DATABASE_URL is set. Both go through Kysely so every query is written once.
 */
import fs from 'node:fs';
import path from 'node:path';
import { cacheStatements } from './statement-cache';
import { loadSqlite } from './sqlite-binding';
import { CompiledQuery, Kysely, Migrator, PostgresDialect, SqliteDialect, SqliteDriver, type DatabaseConnection, type Driver } from 'kysely';
import pg from 'pg';
import { LonghaulMigrations } from './migrations';
import { DEFAULT_DATABASE_CONNECT_TIMEOUT_MS, DEFAULT_DATABASE_POOL_MAX, DEFAULT_DATABASE_STATEMENT_TIMEOUT_MS } from '../config-options';
import { StoreNoAnswerError } from './outage';
import type { Database } from './schema';

export type Dialect = 'sqlite' | 'postgres';

export interface OpenedDatabase {
  db: Kysely<Database>;
  dialect: Dialect;
  /** Where it lives, without credentials: for logs and readiness output. */
  location: string;
  /** Postgres only: the pool, so LISTEN/NOTIFY can take a dedicated client. */
  pool?: pg.Pool;
}

/**
 * SQLite transactions start with BEGIN IMMEDIATE: the write lock is taken up front, so two
 * processes sharing the file (API and worker) queue on busy_timeout instead of failing with
 * SQLITE_BUSY when a read transaction later tries to write.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  constructor(private readonly sqliteConfig: ConstructorParameters<typeof SqliteDialect>[0]) {
    super(sqliteConfig);
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.sqliteConfig);
  }
}

// Postgres int8 (COUNT(*), SUM) arrives as a string by default; our counts fit in a double.
pg.types.setTypeParser(20, (v) => Number(v));

export function sqlitePathFor(dataDir: string): string {
  return path.join(dataDir, 'longhaul.sqlite');
}

/**
 * How long a pooled Postgres socket may carry nothing before TCP starts probing the peer, so that a host gone or a
 * partition with no statement waiting (the bus's LISTEN connection idles by design) fails the connection as ETIMEDOUT
 * within about this plus ten one-second probes, instead of the kernel's two hours.
 */
const KEEPALIVE_IDLE_MS = 10_000;

/**
 * Bounds how long each statement on `client` waits for its answer: `boundMs()`, read per statement (0: unbounded).
 * When the bound passes the connection is closed first, then the statement fails with StoreNoAnswerError, as does
 * every later one on it (a transaction's rollback). Closed because its protocol state is unknown: an answer arriving
 * late must never be taken for the next statement's, nor may the pool hand out a connection still inside a
 * transaction. Not node-postgres's `query_timeout`, which fails the statement but leaves it in flight on a connection
 * the pool takes back (Kysely releases without the error): the next statement there queues behind it, and a
 * transaction's rollback, failed the same way, is never sent. Time idle between statements is not bounded.
 */
function boundStatements(client: pg.PoolClient, boundMs: () => number): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  let abandonedAfterMs: number | undefined;
  const bounded = (args: unknown[]): Promise<unknown> => {
    if (abandonedAfterMs !== undefined) return Promise.reject(new StoreNoAnswerError(abandonedAfterMs));
    const ms = boundMs();
    const answer = query(...args) as Promise<unknown>;
    if (ms === 0) return answer;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        abandonedAfterMs = ms;
        // Marks the client ending at once (the pool removes it when it comes back) and, with a statement in flight,
        // destroys the socket rather than waiting for a goodbye the server would not answer.
        void client.end();
        reject(new StoreNoAnswerError(ms));
      }, ms);
      answer.then(
        (result) => (clearTimeout(timer), resolve(result)),
        (err: unknown) => (clearTimeout(timer), reject(err)),
      );
    });
  };
  client.query = ((...args: unknown[]) => {
    // A Submittable (a cursor, a stream) settles through its own events; Longhaul runs none.
    if (typeof (args[0] as { submit?: unknown } | null)?.submit === 'function') return query(...args);
    const callback = args.at(-1);
    if (typeof callback !== 'function') return bounded(args);
    // The callback form (pg-pool's pool.query): answered the same way, returning nothing, as node-postgres does.
    bounded(args.slice(0, -1)).then(
      (result) => callback(null, result),
      (err: unknown) => callback(err),
    );
    return undefined;
  }) as typeof client.query;
}

export async function openDatabase(opts: {
  databaseUrl?: string;
  databasePoolMax?: number;
  databaseConnectTimeoutMs?: number;
  databaseStatementTimeoutMs?: number;
  dataDir: string;
  migrate?: boolean;
}): Promise<OpenedDatabase> {
  let opened: OpenedDatabase;
  // Migrations run unbounded: building an index over a large table, or waiting for another process's migrations
  // (Kysely's migration lock), may rightly take minutes. Set once they are done.
  let statementTimeoutMs = 0;
  if (opts.databaseUrl) {
    // A burst of runs resuming at once queues here for connections (each decision's bookkeeping is a few transactions).
    const pool = new pg.Pool({
      connectionString: opts.databaseUrl,
      max: opts.databasePoolMax ?? DEFAULT_DATABASE_POOL_MAX,
      // A server that stops answering without closing the socket fails queries as an outage, not after minutes.
      connectionTimeoutMillis: opts.databaseConnectTimeoutMs ?? DEFAULT_DATABASE_CONNECT_TIMEOUT_MS,
      keepAlive: true,
      keepAliveInitialDelayMillis: KEEPALIVE_IDLE_MS,
    });
    // An idle pooled connection that the server ends (a restart, a failover, an administrator) is
    // dropped by the pool and replaced at the next query; unhandled, the event would end the process.
    pool.on('error', () => undefined);
    pool.on('connect', (client) => {
      // The same for a connection lost while checked out between statements (a transaction's): the pool listens only
      // to idle ones, and the statement that next uses it fails with the error, which its caller handles.
      client.on('error', () => undefined);
      // A server gone silent under a statement fails it as an outage, not never.
      boundStatements(client, () => statementTimeoutMs);
    });
    const url = new URL(opts.databaseUrl);
    opened = {
      db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }),
      dialect: 'postgres',
      location: `postgres://${url.host}${url.pathname}`,
      pool,
    };
  } else {
    fs.mkdirSync(opts.dataDir, { recursive: true });
    const file = sqlitePathFor(opts.dataDir);
    const sqlite = cacheStatements(new (loadSqlite())(file));
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('busy_timeout = 10000');
    opened = {
      db: new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: sqlite }) }),
      dialect: 'sqlite',
      location: file,
    };
  }
  if (opts.migrate !== false) await migrate(opened);
  statementTimeoutMs = opts.databaseStatementTimeoutMs ?? DEFAULT_DATABASE_STATEMENT_TIMEOUT_MS;
  return opened;
}

export async function migrate(opened: OpenedDatabase): Promise<void> {
  const migrator = new Migrator({ db: opened.db, provider: new LonghaulMigrations(opened.dialect) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`Database migration ${failed?.migrationName ?? ''} failed: ${String(error)}`);
  }
}
