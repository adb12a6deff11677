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
import { DEFAULT_DATABASE_CONNECT_TIMEOUT_MS, DEFAULT_DATABASE_POOL_MAX } from '../config-options';
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

export async function openDatabase(opts: {
  databaseUrl?: string;
  databasePoolMax?: number;
  databaseConnectTimeoutMs?: number;
  dataDir: string;
  migrate?: boolean;
}): Promise<OpenedDatabase> {
  let opened: OpenedDatabase;
  if (opts.databaseUrl) {
    // A burst of runs resuming at once queues here for connections (each decision's bookkeeping is a few transactions).
    const pool = new pg.Pool({
      connectionString: opts.databaseUrl,
      max: opts.databasePoolMax ?? DEFAULT_DATABASE_POOL_MAX,
      // A server that stops answering without closing the socket fails queries as an outage, not after minutes.
      connectionTimeoutMillis: opts.databaseConnectTimeoutMs ?? DEFAULT_DATABASE_CONNECT_TIMEOUT_MS,
    });
    // An idle pooled connection that the server ends (a restart, a failover, an administrator) is
    // dropped by the pool and replaced at the next query; unhandled, the event would end the process.
    pool.on('error', () => undefined);
    // The same for a connection lost while checked out between statements (a transaction's): the pool listens only
    // to idle ones, and the statement that next uses it fails with the error, which its caller handles.
    pool.on('connect', (client) => client.on('error', () => undefined));
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
