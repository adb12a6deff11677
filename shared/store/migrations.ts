/**
 * Schema migrations, one object per version, shared by SQLite and Postgres.
 * Never edit a migration that has shipped: add a new one.
 */
import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { Dialect } from './open-database';
import { PROVIDER_ROLES_FLOOR } from './team-members';

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
    '002_approvals_inputs_audit': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('approvals')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('run_id', 'text', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('turn', 'integer', (c) => c.notNull())
          .addColumn('tool_use_id', 'text')
          .addColumn('tool', 'text')
          .addColumn('input_json', 'text')
          .addColumn('input_hash', 'text')
          .addColumn('risk', 'text')
          .addColumn('reason', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('requested_at', 'text', (c) => c.notNull())
          .addColumn('expires_at', 'text', (c) => c.notNull())
          .addColumn('decided_by', 'text')
          .addColumn('channel', 'text')
          .addColumn('comment', 'text')
          .addColumn('decided_at', 'text')
          .addColumn('slack_channel', 'text')
          .addColumn('slack_ts', 'text')
          .execute();
        await db.schema.createIndex('approvals_run').on('approvals').columns(['run_id', 'status']).execute();
        await db.schema.createIndex('approvals_status').on('approvals').columns(['status', 'requested_at']).execute();

        await db.schema
          .createTable('input_requests')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('run_id', 'text', (c) => c.notNull())
          .addColumn('turn', 'integer', (c) => c.notNull())
          .addColumn('tool_use_id', 'text', (c) => c.notNull())
          .addColumn('question', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('answer', 'text')
          .addColumn('answered_by', 'text')
          .addColumn('requested_at', 'text', (c) => c.notNull())
          .addColumn('expires_at', 'text', (c) => c.notNull())
          .addColumn('answered_at', 'text')
          .execute();
        await db.schema.createIndex('input_requests_run').on('input_requests').columns(['run_id', 'status']).execute();

        await db.schema
          .createTable('approval_audit')
          .addColumn('id', autoId, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
          .addColumn('approval_id', 'text', (c) => c.notNull())
          .addColumn('run_id', 'text', (c) => c.notNull())
          .addColumn('actor', 'text', (c) => c.notNull())
          .addColumn('channel', 'text', (c) => c.notNull())
          .addColumn('decision', 'text', (c) => c.notNull())
          .addColumn('outcome', 'text', (c) => c.notNull())
          .addColumn('tool', 'text')
          .addColumn('input_hash', 'text')
          .addColumn('comment', 'text')
          .addColumn('at', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('approval_audit_approval').on('approval_audit').columns(['approval_id']).execute();
      },
    },
    '003_runs_stalled_at': {
      async up(db: Kysely<unknown>) {
        // Set by the sweeper when a running run shows no progress; cleared by the next event.
        await db.schema.alterTable('runs').addColumn('stalled_at', 'text').execute();
      },
    },
    '004_live_text_ws_tickets': {
      async up(db: Kysely<unknown>) {
        // The text a model is streaming right now, one row per run, for API processes that are not
        // the worker's: they resume late subscribers from it (and, on SQLite, tail it).
        await db.schema
          .createTable('live_text')
          .addColumn('run_id', 'text', (c) => c.primaryKey())
          .addColumn('turn', 'integer', (c) => c.notNull())
          .addColumn('attempt', 'integer', (c) => c.notNull())
          .addColumn('text', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .execute();
        // Short-lived, single-use tickets that let a browser open a socket without putting its
        // long-lived token in a URL. Kept in the database so any API replica can redeem them.
        await db.schema
          .createTable('ws_tickets')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('user', 'text', (c) => c.notNull())
          .addColumn('expires_at', 'text', (c) => c.notNull())
          .addColumn('used_at', 'text')
          .execute();
      },
    },
    '005_follow_up_messages': {
      async up(db: Kysely<unknown>) {
        // Follow-up messages: recorded here first (pending), taken into the conversation by the run
        // at a turn boundary (accepted, with the turn they joined before).
        await db.schema
          .createTable('user_messages')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id').onDelete('cascade'))
          .addColumn('author', 'text', (c) => c.notNull())
          .addColumn('text', 'text', (c) => c.notNull())
          .addColumn('limits_json', 'text')
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('turn', 'integer')
          .addColumn('idempotency_key', 'text')
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('accepted_at', 'text')
          .addUniqueConstraint('user_messages_run_key', ['run_id', 'idempotency_key'])
          .execute();
        await db.schema.createIndex('user_messages_run_status').on('user_messages').columns(['run_id', 'status']).execute();
        // How many times follow-ups continued the run after it ended: keys each lap's ending events.
        await db.schema.alterTable('runs').addColumn('laps', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      },
    },
    '006_webhooks': {
      async up(db: Kysely<unknown>) {
        // Who is told of the run's events: the deployment's URLs and the run's own, frozen at creation.
        await db.schema.alterTable('runs').addColumn('webhooks_json', 'text').execute();
        // The outbox: written in the transaction that records the event, delivered by a Temporal
        // workflow per delivery (started by any worker's dispatcher), every attempt kept.
        await db.schema
          .createTable('webhook_deliveries')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id').onDelete('cascade'))
          .addColumn('url', 'text', (c) => c.notNull())
          .addColumn('event_type', 'text', (c) => c.notNull())
          .addColumn('seq', 'integer', (c) => c.notNull())
          .addColumn('body', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('dispatched_at', 'text')
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('delivered_at', 'text')
          .execute();
        await db.schema.createIndex('webhook_deliveries_undispatched').on('webhook_deliveries').columns(['dispatched_at']).execute();
        await db.schema.createIndex('webhook_deliveries_run').on('webhook_deliveries').columns(['run_id']).execute();
        await db.schema
          .createTable('webhook_attempts')
          .addColumn('delivery_id', 'text', (c) => c.notNull().references('webhook_deliveries.id').onDelete('cascade'))
          .addColumn('n', 'integer', (c) => c.notNull())
          .addColumn('at', 'text', (c) => c.notNull())
          .addColumn('status', 'integer')
          .addColumn('error', 'text')
          .addColumn('ms', 'integer', (c) => c.notNull())
          .addPrimaryKeyConstraint('webhook_attempts_pk', ['delivery_id', 'n'])
          .execute();
      },
    },
    '007_schedules': {
      async up(db: Kysely<unknown>) {
        // A schedule's owner and what each firing starts (validated and resolved when it was created);
        // Temporal's Schedule holds the timing. Runs it started point back at it.
        await db.schema
          .createTable('schedules')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('owner', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('goal', 'text', (c) => c.notNull())
          .addColumn('request_json', 'text', (c) => c.notNull())
          .addColumn('cron', 'text')
          .addColumn('every_sec', 'integer')
          .addColumn('timezone', 'text', (c) => c.notNull())
          .addColumn('overlap', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('deleted_at', 'text')
          .execute();
        await db.schema.createIndex('schedules_owner').on('schedules').columns(['owner', 'created_at']).execute();
        await db.schema.alterTable('runs').addColumn('schedule_id', 'text').execute();
        await db.schema.createIndex('runs_schedule').on('runs').columns(['schedule_id', 'created_at']).execute();
      },
    },
    '008_watchers': {
      async up(db: Kysely<unknown>) {
        // Presence: each API process's open subscriptions per run and user, refreshed while it lives.
        await db.schema
          .createTable('watchers')
          .addColumn('instance', 'text', (c) => c.notNull())
          .addColumn('run_id', 'text', (c) => c.notNull())
          .addColumn('user', 'text', (c) => c.notNull())
          .addColumn('sockets', 'integer', (c) => c.notNull())
          .addColumn('seen_at', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('watchers_pk', ['instance', 'run_id', 'user'])
          .execute();
        await db.schema.createIndex('watchers_run').on('watchers').columns(['run_id', 'seen_at']).execute();
      },
    },
    '009_model_capacity_and_spend': {
      async up(db: Kysely<unknown>) {
        // The prompt cache's share of a run's input, priced apart; and what a retrying step is doing.
        await db.schema.alterTable('runs').addColumn('cache_read_tokens', 'integer', (c) => c.notNull().defaultTo(0)).execute();
        await db.schema.alterTable('runs').addColumn('cache_write_tokens', 'integer', (c) => c.notNull().defaultTo(0)).execute();
        await db.schema.alterTable('runs').addColumn('step_note', 'text').execute();
        // Every paid model call, once (keyed by its ledger key): spend per owner and day, usage per minute.
        await db.schema
          .createTable('model_calls')
          .addColumn('key', 'text', (c) => c.primaryKey())
          .addColumn('run_id', 'text', (c) => c.notNull())
          .addColumn('owner', 'text', (c) => c.notNull())
          .addColumn('model', 'text', (c) => c.notNull())
          .addColumn('day', 'text', (c) => c.notNull())
          .addColumn('at_ms', real, (c) => c.notNull())
          .addColumn('input_tokens', 'integer', (c) => c.notNull())
          .addColumn('output_tokens', 'integer', (c) => c.notNull())
          .addColumn('cache_read_tokens', 'integer', (c) => c.notNull())
          .addColumn('cache_write_tokens', 'integer', (c) => c.notNull())
          .addColumn('cost_usd', real, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('model_calls_owner_day').on('model_calls').columns(['owner', 'day']).execute();
        await db.schema.createIndex('model_calls_model_at').on('model_calls').columns(['model', 'at_ms']).execute();
        await db.schema.createIndex('model_calls_run').on('model_calls').columns(['run_id', 'at_ms']).execute();
        // The rate-limit books, one row per model: what each bucket held at updated_ms (epoch ms).
        await db.schema
          .createTable('capacity_books')
          .addColumn('model', 'text', (c) => c.primaryKey())
          .addColumn('rpm', real, (c) => c.notNull())
          .addColumn('input_tpm', real, (c) => c.notNull())
          .addColumn('output_tpm', real, (c) => c.notNull())
          .addColumn('updated_ms', real, (c) => c.notNull())
          .addColumn('tokens_per_char', real, (c) => c.notNull())
          .execute();
        // Calls waiting for capacity, in the order the fair queue gives them (one per run).
        await db.schema
          .createTable('capacity_waiters')
          .addColumn('run_id', 'text', (c) => c.primaryKey())
          .addColumn('model', 'text', (c) => c.notNull())
          .addColumn('owner', 'text', (c) => c.notNull())
          .addColumn('input_tokens', 'integer', (c) => c.notNull())
          .addColumn('output_tokens', 'integer', (c) => c.notNull())
          .addColumn('enqueued_ms', real, (c) => c.notNull())
          .addColumn('expires_ms', real, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('capacity_waiters_model').on('capacity_waiters').columns(['model', 'expires_ms']).execute();
        await db.schema
          .createTable('capacity_owner_turns')
          .addColumn('model', 'text', (c) => c.notNull())
          .addColumn('owner', 'text', (c) => c.notNull())
          .addColumn('served_ms', real, (c) => c.notNull())
          .addPrimaryKeyConstraint('capacity_owner_turns_pk', ['model', 'owner'])
          .execute();
        // Calls granted and not yet settled: their tokens and worst-case cost count against the limits and budgets.
        await db.schema
          .createTable('capacity_reservations')
          .addColumn('key', 'text', (c) => c.primaryKey())
          .addColumn('run_id', 'text', (c) => c.notNull())
          .addColumn('owner', 'text', (c) => c.notNull())
          .addColumn('model', 'text', (c) => c.notNull())
          .addColumn('input_tokens', 'integer', (c) => c.notNull())
          .addColumn('output_tokens', 'integer', (c) => c.notNull())
          .addColumn('cost_usd', real, (c) => c.notNull())
          .addColumn('expires_ms', real, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('capacity_reservations_owner').on('capacity_reservations').columns(['owner', 'expires_ms']).execute();
        // 429s the provider answered anyway (a key shared with someone else, or a wrong estimate).
        await db.schema
          .createTable('rate_limit_hits')
          .addColumn('id', autoId, (c) => c.primaryKey())
          .addColumn('model', 'text', (c) => c.notNull())
          .addColumn('run_id', 'text', (c) => c.notNull())
          .addColumn('at_ms', real, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('rate_limit_hits_model_at').on('rate_limit_hits').columns(['model', 'at_ms']).execute();
      },
    },
    '010_durable_workspaces': {
      async up(db: Kysely<unknown>) {
        // A run's workspace: its lifecycle state and the manifest of its current version (path, hash,
        // size, mode per entry). The files themselves are blobs, by content hash, in the blob store.
        await db.schema
          .createTable('workspaces')
          .addColumn('run_id', 'text', (c) => c.primaryKey())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('version', 'integer', (c) => c.notNull())
          .addColumn('manifest_json', 'text', (c) => c.notNull())
          .addColumn('files', 'integer', (c) => c.notNull())
          .addColumn('bytes', real, (c) => c.notNull())
          .addColumn('holder', 'text')
          .addColumn('local_bytes', real, (c) => c.notNull().defaultTo(0))
          .addColumn('cycle', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('restores', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('restore_ms', real, (c) => c.notNull().defaultTo(0))
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addColumn('released_at', 'text')
          .execute();
        await db.schema.createIndex('workspaces_state').on('workspaces').columns(['state', 'updated_at']).execute();
        // The database blob store (the default): one row per distinct file content per run.
        await db.schema
          .createTable('workspace_blobs')
          .addColumn('run_id', 'text', (c) => c.notNull())
          .addColumn('hash', 'text', (c) => c.notNull())
          .addColumn('size', 'integer', (c) => c.notNull())
          .addColumn('data', dialect === 'postgres' ? 'bytea' : 'blob', (c) => c.notNull())
          .addPrimaryKeyConstraint('workspace_blobs_pk', ['run_id', 'hash'])
          .execute();
      },
    },
    '011_runs_updated_at': {
      async up(db: Kysely<unknown>) {
        // The runs feed on SQLite tails the runs updated since its last look.
        await db.schema.createIndex('runs_updated_at').on('runs').columns(['updated_at']).execute();
      },
    },
    '012_approvals_used_at': {
      async up(db: Kysely<unknown>) {
        // When an approved re-run of a call in doubt was spent: one approval lets one attempt re-send it.
        await db.schema.alterTable('approvals').addColumn('used_at', 'text').execute();
      },
    },
    '013_agents': {
      async up(db: Kysely<unknown>) {
        // Agents as code: each version's data once (name + hash), the workers that serve each agent
        // (refreshed while they live), and the agent, version, structured input and output of a run.
        await db.schema
          .createTable('agent_versions')
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('version', 'text', (c) => c.notNull())
          .addColumn('data_json', 'text', (c) => c.notNull())
          .addColumn('published_at', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('agent_versions_pk', ['name', 'version'])
          .execute();
        await db.schema
          .createTable('agent_workers')
          .addColumn('identity', 'text', (c) => c.notNull())
          .addColumn('agent', 'text', (c) => c.notNull())
          .addColumn('version', 'text', (c) => c.notNull())
          .addColumn('started_at', 'text', (c) => c.notNull())
          .addColumn('seen_at', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('agent_workers_pk', ['identity', 'agent'])
          .execute();
        await db.schema.createIndex('agent_workers_agent').on('agent_workers').columns(['agent', 'seen_at']).execute();
        await db.schema.alterTable('runs').addColumn('agent', 'text').execute();
        await db.schema.alterTable('runs').addColumn('agent_version', 'text').execute();
        await db.schema.alterTable('runs').addColumn('input_json', 'text').execute();
        await db.schema.alterTable('runs').addColumn('output_json', 'text').execute();
        // Set by POST /api/runs/:id/upgrade; the run's next model call moves it to its worker's version and clears it.
        await db.schema.alterTable('runs').addColumn('upgrade_requested_at', 'text').execute();
      },
    },
    '014_run_tree': {
      async up(db: Kysely<unknown>) {
        // Sub-agents: a child run names the run that delegated to it and how deep in the tree it is (a root: 0).
        await db.schema.alterTable('runs').addColumn('parent_run_id', 'text').execute();
        await db.schema.alterTable('runs').addColumn('depth', 'integer', (c) => c.notNull().defaultTo(0)).execute();
        await db.schema.createIndex('runs_parent').on('runs').columns(['parent_run_id']).execute();
      },
    },
    '015_identity': {
      async up(db: Kysely<unknown>) {
        // A user's roles per team: from the identity provider's claim at sign-in (source `provider`), or given by a
        // team's admin through the API or TEAM_ROLES (source `admin`). API keys and Slack act with their user's roles.
        await db.schema
          .createTable('team_members')
          .addColumn('team', 'text', (c) => c.notNull())
          .addColumn('user_id', 'text', (c) => c.notNull())
          .addColumn('role', 'text', (c) => c.notNull())
          .addColumn('source', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('team_members_pk', ['team', 'user_id', 'role'])
          .execute();
        await db.schema.createIndex('team_members_user').on('team_members').columns(['user_id']).execute();
        // What the identity provider last said of a user (at sign-in): how a Slack approver's verified email finds them.
        await db.schema
          .createTable('users')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('email', 'text')
          .addColumn('name', 'text')
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('users_email').on('users').columns(['email']).execute();
      },
    },
    '017_sessions': {
      async up(db: Kysely<unknown>) {
        // A browser's sign-in (api/identity): the row is found by a hash of the cookie's secret, never the secret.
        await db.schema
          .createTable('sessions')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('user_id', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('seen_at', 'text', (c) => c.notNull())
          .addColumn('expires_at', 'text', (c) => c.notNull())
          .addColumn('revoked_at', 'text')
          .execute();
        await db.schema.createIndex('sessions_user').on('sessions').columns(['user_id']).execute();
        // A sign-in under way: what the callback must check (state, nonce) and prove (the PKCE verifier), single use.
        await db.schema
          .createTable('sign_ins')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('code_verifier', 'text', (c) => c.notNull())
          .addColumn('nonce', 'text', (c) => c.notNull())
          .addColumn('return_to', 'text', (c) => c.notNull())
          .addColumn('expires_at', 'text', (c) => c.notNull())
          .execute();
      },
    },
    '018_api_keys': {
      async up(db: Kysely<unknown>) {
        // API keys for machines: only a hash of each secret is kept; the id (in the key's text) finds the row, so a
        // check is one primary-key read, made on every request so that a revocation holds at once on every replica.
        await db.schema
          .createTable('api_keys')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('owner', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('scopes_json', 'text', (c) => c.notNull())
          .addColumn('secret_hash', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('expires_at', 'text')
          .addColumn('last_used_at', 'text')
          .addColumn('revoked_at', 'text')
          .addColumn('revoked_by', 'text')
          .execute();
        await db.schema.createIndex('api_keys_owner').on('api_keys').columns(['owner', 'created_at']).execute();
      },
    },
    '018_slack_deciders': {
      async up(db: Kysely<unknown>) {
        // A decision made in Slack names both people: the Longhaul user (decided_by, actor) and the Slack account.
        await db.schema.alterTable('approvals').addColumn('slack_user', 'text').execute();
        await db.schema.alterTable('approval_audit').addColumn('slack_user', 'text').execute();
      },
    },
    '019_teams': {
      async up(db: Kysely<unknown>) {
        // A run, a schedule, belongs to a team or to nobody (null: a personal run, as every run was before teams).
        await db.schema.alterTable('runs').addColumn('team', 'text').execute();
        await db.schema.createIndex('runs_team_created').on('runs').columns(['team', 'created_at', 'id']).execute();
        await db.schema.alterTable('schedules').addColumn('team', 'text').execute();
        // A team's daily model budget set by its admin through the API; TEAM_DAILY_BUDGETS is the default for teams without a row.
        await db.schema
          .createTable('team_budgets')
          .addColumn('team', 'text', (c) => c.primaryKey())
          .addColumn('daily_usd', real, (c) => c.notNull())
          .addColumn('set_by', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .execute();
      },
    },
    '020_ticket_credentials': {
      async up(db: Kysely<unknown>) {
        // A socket ticket keeps the credential that asked for it: a key's ticket opens a socket that acts as the key.
        await db.schema.alterTable('ws_tickets').addColumn('key_id', 'text').execute();
        await db.schema.alterTable('ws_tickets').addColumn('scopes_json', 'text').execute();
      },
    },
    '021_ticket_sessions': {
      async up(db: Kysely<unknown>) {
        // A ticket a browser session asked for names the session, one a JWT asked for keeps the token's expiry: the
        // socket it opens ends when the session or the token does.
        await db.schema.alterTable('ws_tickets').addColumn('session_id', 'text').execute();
        await db.schema.alterTable('ws_tickets').addColumn('credential_expires_at', 'text').execute();
      },
    },
    '022_effect_attempts_failed': {
      async up(db: Kysely<unknown>) {
        // How many of an effect's attempts ended in a live worker that knew they failed: a call in doubt whose
        // attempt vanished instead runs apart (the tool sandbox). Entries from before count none (all suspect).
        await db.schema.alterTable('effects').addColumn('attempts_failed', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      },
    },
    '023_inbox_order': {
      async up(db: Kysely<unknown>) {
        // The inbox reads pending approvals and questions a page at a time in (requested_at, id) order (issue 26):
        // with id in the index a page is a range of it, ties included; questions had no index by status at all.
        await db.schema.dropIndex('approvals_status').execute();
        await db.schema.createIndex('approvals_pending_order').on('approvals').columns(['status', 'requested_at', 'id']).execute();
        await db.schema.createIndex('input_requests_pending_order').on('input_requests').columns(['status', 'requested_at', 'id']).execute();
      },
    },
    '024_owed_starts': {
      async up(db: Kysely<unknown>) {
        // POST /api/runs answers once the run is committed and starts its workflow after (issue 26): the row says the
        // start is still owed, and holds what the start needs that the row did not (the approval timeout), so that
        // another process (the sweeper) can make it. Old rows owe nothing; their approval timeout is the default's.
        await db.schema.alterTable('runs').addColumn('start_owed', 'integer', (c) => c.notNull().defaultTo(0)).execute();
        await db.schema.alterTable('runs').addColumn('approval_timeout_sec', 'integer').execute();
        await db.schema.createIndex('runs_start_owed').on('runs').columns(['start_owed', 'created_at', 'id']).execute();
        // An owner's waiting runs as a range, in queue order: the count against their queue cap, and a run's place in
        // it at each slot claim, read only the runs that wait rather than every run the owner ever had.
        await db.schema.createIndex('runs_owner_queue').on('runs').columns(['owner', 'status', 'created_at', 'id']).execute();
      },
    },
    '025_provider_roles_issued': {
      async up(db: Kysely<unknown>) {
        // When the provider issued the roles last written for a user (a token's `iat`, a sign-in's ID token's): a
        // token issued before it may no longer rewrite them, so an old token cannot put back a role since taken away.
        // Epoch milliseconds, a number on both dialects, compared in SQL. (If-not-exists and do-nothing: SQLite runs
        // a migration outside a transaction, and one cut off is run again.)
        await db.schema
          .createTable('provider_roles_issued')
          .ifNotExists()
          .addColumn('user_id', 'text', (c) => c.primaryKey())
          .addColumn('issued_at_ms', real, (c) => c.notNull())
          .execute();
        // A database that already knew people: what the provider took away from them before now left no trace to
        // order by (a user whose provider roles were all removed has no row at all), so no token issued before this
        // upgrade may write provider roles (PROVIDER_ROLES_FLOOR; its requests still act with their own claims, and a
        // fresh token writes). A new database has nothing to protect.
        const { rows } = await sql<{ known: number }>`
          select (case when exists (select 1 from "users") or exists (select 1 from "team_members") then 1 else 0 end) as "known"`.execute(db);
        if (Number(rows[0]?.known) === 1) {
          await sql`insert into "provider_roles_issued" ("user_id", "issued_at_ms") values (${PROVIDER_ROLES_FLOOR}, ${Date.now()}) on conflict ("user_id") do nothing`.execute(db);
        }
      },
    },
    '026_api_key_makers': {
      async up(db: Kysely<unknown>) {
        // The key that made a key (through the API, with the admin scope); null: a person's credential made it. Revoking
        // a key revokes what it made, found through this index. Keys from before were made by nobody we know of.
        await db.schema.alterTable('api_keys').addColumn('made_by', 'text').execute();
        await db.schema.createIndex('api_keys_made_by').on('api_keys').columns(['made_by']).execute();
      },
    },
    '027_schedule_keys': {
      async up(db: Kysely<unknown>) {
        // The API key a schedule was created with (null: a session, a JWT, a static token): its firings stop once the
        // key is revoked or expires, so a leaked key leaves nothing running behind. Schedules from before: null.
        await db.schema.alterTable('schedules').addColumn('key_id', 'text').execute();
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

