/**
 * Schema migrations, one object per version, shared by SQLite and Postgres.
 * Never edit a migration that has shipped: add a new one.
 */
import { type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { Dialect } from './open-database';

function migrationsFor(dialect: Dialect): Record<string, Migration> {
  const autoId = dialect === 'postgres' ? 'serial' : 'integer';
  const real = dialect === 'postgres' ? 'double precision' : 'real';
  return {
    '001_runs_events_messages_effects': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('runs')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('owner', 'text', (c) => c.notNull())
          .addColumn('goal', 'text', (c) => c.notNull())
          .addColumn('model', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('status_detail', 'text')
          .addColumn('approvals', 'text', (c) => c.notNull())
          .addColumn('limits_json', 'text', (c) => c.notNull())
          .addColumn('metadata_json', 'text')
          .addColumn('idempotency_key', 'text')
          .addColumn('last_seq', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('input_tokens', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('output_tokens', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('cost_usd', real, (c) => c.notNull().defaultTo(0))
          .addColumn('turn', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('progress_json', 'text')
          .addColumn('result', 'text')
          .addColumn('error_json', 'text')
          .addColumn('admitted', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addColumn('ended_at', 'text')
          .execute();
        await db.schema
          .createIndex('runs_owner_idempotency_key')
          .on('runs')
          .columns(['owner', 'idempotency_key'])
          .unique()
          .execute();
        await db.schema.createIndex('runs_owner_created').on('runs').columns(['owner', 'created_at', 'id']).execute();
        await db.schema.createIndex('runs_status').on('runs').columns(['status']).execute();

        await db.schema
          .createTable('events')
          .addColumn('run_id', 'text', (c) => c.notNull())
          .addColumn('seq', 'integer', (c) => c.notNull())
          .addColumn('key', 'text', (c) => c.notNull())
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('at', 'text', (c) => c.notNull())
          .addColumn('data_json', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('events_pk', ['run_id', 'seq'])
          .addUniqueConstraint('events_run_key', ['run_id', 'key'])
          .execute();

        await db.schema
          .createTable('messages')
          .addColumn('id', autoId, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
          .addColumn('run_id', 'text', (c) => c.notNull())
          .addColumn('key', 'text', (c) => c.notNull())
          .addColumn('turn', 'integer', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('tool_use_id', 'text')
          .addColumn('content_json', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addUniqueConstraint('messages_run_key', ['run_id', 'key'])
          .execute();
        await db.schema.createIndex('messages_run_turn').on('messages').columns(['run_id', 'turn']).execute();

        await db.schema
          .createTable('effects')
          .addColumn('key', 'text', (c) => c.primaryKey())
          .addColumn('run_id', 'text', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(1))
          .addColumn('result_json', 'text')
          .addColumn('started_at', 'text', (c) => c.notNull())
          .addColumn('completed_at', 'text')
          .execute();
        await db.schema.createIndex('effects_run').on('effects').columns(['run_id']).execute();
      },
    },
  };
}

export class LonghaulMigrations implements MigrationProvider {
  constructor(private readonly dialect: Dialect) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrationsFor(this.dialect);
  }
}

/** Used by tests to check both dialects end up with the same tables. */
export async function listTables(db: Kysely<unknown>): Promise<string[]> {
  const tables = await db.introspection.getTables();
  return tables.map((t) => t.name).filter((n) => !n.startsWith('kysely_')).sort();
}

