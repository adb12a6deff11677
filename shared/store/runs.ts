/** Runs: one row per agent run, owned by a user. The workflow id is the run id. */
import { raisedTo, TERMINAL_STATUSES, type ApprovalPolicy, type Progress, type RunError, type RunLimits, type RunStatus, type Usage } from '../../contract/run';
import { inTransaction, nowIso, parseJson, type Executor } from './executor';
import { knownRunErrorCode } from '../../contract/errors';
import { sql, type Insertable, type RawBuilder, type Selectable } from 'kysely';
import type { Dialect } from './open-database';
import type { RunWebhooks } from './webhooks';
import type { RunsTable } from './schema';

export interface RunRecord {
  id: string;
  owner: string;
  goal: string;
  model: string;
  status: RunStatus;
  statusDetail: string | null;
  approvals: ApprovalPolicy;
  limits: RunLimits;
  metadata: Record<string, unknown> | null;
  idempotencyKey: string | null;
  lastSeq: number;
  turn: number;
  usage: Usage;
  progress: Progress | null;
  result: string | null;
  error: RunError | null;
  admitted: boolean;
  /** When the run last made progress, if the sweeper has flagged it as stalled since. */
  stalledSince: string | null;
  /** What the current step is doing when the status cannot say (e.g. `retrying model call (attempt 3 of 6): 529 overloaded`). */
  stepNote: string | null;
  /** Times follow-up messages continued the run after it ended. */
  laps: number;
  /** The schedule whose firing started the run. */
  scheduleId: string | null;
  /** The agent the run is; null: the default agent as the current code defines it (runs from before agents, and runs naming none). */
  agent: string | null;
  /** The agent version the run is pinned to (null with `agent` null). */
  agentVersion: string | null;
  /** The run's structured input (agents with an input schema). */
  input: unknown;
  /** The run's validated structured output, once it completed (agents with an output schema). */
  output: unknown;
  /** An upgrade to the agent's current version waits for the run's next model call. */
  upgradeRequestedAt: string | null;
  /** The run that delegated to this one (a child run of a sub-agent); null for a root. */
  parentRunId: string | null;
  /** Depth in its run tree (a root: 0). */
  depth: number;
  /** The team the run belongs to; null: a personal run (its owner's alone, and the legacy APPROVERS'). */
  team: string | null;
  /** The run is committed and its workflow's start is still owed (api/owed-starts.ts); false once Temporal has it. */
  startOwed: boolean;
  /**
   * The lap whose execution's start is owed, while one is: 0 the run's first start, more a follow-up's continuation
   * of the run after it ended (`reopen`); null when none is owed.
   */
  owedStartLap: number | null;
  /** The approval timeout the run was started with; null for runs from before it was kept (the default's). */
  approvalTimeoutSec: number | null;
  createdAt: string;
  updatedAt: string;
  endedAt: string | null;
}

export interface NewRun {
  id: string;
  owner: string;
  goal: string;
  model: string;
  approvals: ApprovalPolicy;
  limits: RunLimits;
  metadata?: Record<string, unknown> | null;
  idempotencyKey?: string | null;
  /** Who is told of the run's events (the deployment's URLs and the run's own). */
  webhooks?: RunWebhooks;
  scheduleId?: string | null;
  agent?: string | null;
  agentVersion?: string | null;
  input?: unknown;
  parentRunId?: string | null;
  depth?: number;
  team?: string | null;
  /** The workflow is started after the commit, by whoever reads the row (api/owed-starts.ts). */
  startOwed?: boolean;
  approvalTimeoutSec?: number | null;
}

export interface RunStatePatch {
  status?: RunStatus;
  statusDetail?: string | null;
  progress?: Progress;
  result?: string | null;
  error?: RunError | null;
  ended?: boolean;
}

export interface ListRunsQuery {
  /** The caller: their own runs are listed, and those of `teams`. */
  owner: string;
  /** Teams whose runs the caller may read besides their own. */
  teams?: string[];
  /** Only this team's runs (the caller's access to it is the API's to check). */
  team?: string;
  statuses?: RunStatus[];
  scheduleId?: string;
  /** Only goals containing this text, case-insensitively. */
  goalContains?: string;
  limit: number;
  /** Child runs (sub-agents) too; by default only roots are listed, a tree showing as its root. */
  includeChildren?: boolean;
  /** Keyset cursor: the (created_at, id) of the last row of the previous page. */
  before?: { createdAt: string; id: string };
}

/** An idempotency key as it is unique: within its owner's runs. */
export function ownerKey(owner: string, key: string): string {
  return JSON.stringify([owner, key]);
}

/** A new run's row: queued, nothing spent, `lastSeq` events already written with it (0 unless said). */
function newRunRow(run: NewRun, now: string, lastSeq = 0): Insertable<RunsTable> {
  return {
    id: run.id,
    owner: run.owner,
    goal: run.goal,
    model: run.model,
    status: 'queued',
    status_detail: null,
    approvals: run.approvals,
    limits_json: JSON.stringify(run.limits),
    metadata_json: run.metadata ? JSON.stringify(run.metadata) : null,
    webhooks_json: run.webhooks?.to.length ? JSON.stringify(run.webhooks) : null,
    schedule_id: run.scheduleId ?? null,
    agent: run.agent ?? null,
    agent_version: run.agentVersion ?? null,
    input_json: run.input === undefined || run.input === null ? null : JSON.stringify(run.input),
    output_json: null,
    upgrade_requested_at: null,
    parent_run_id: run.parentRunId ?? null,
    depth: run.depth ?? 0,
    team: run.team ?? null,
    start_owed: run.startOwed ? owedMarkOf(0) : 0,
    approval_timeout_sec: run.approvalTimeoutSec ?? null,
    idempotency_key: run.idempotencyKey ?? null,
    last_seq: lastSeq,
    input_tokens: 0,
    output_tokens: 0,
    cost_usd: 0,
    turn: 0,
    progress_json: null,
    result: null,
    error_json: null,
    admitted: 0,
    stalled_at: null,
    created_at: now,
    updated_at: now,
    ended_at: null,
  };
}

/**
 * `start_owed` says which start is owed: 0 none, else the lap's plus one (1, as migration 024 wrote it, the run's first
 * start). In one column with the mark, the lap is set and cleared with it in one write, and a worker or API from
 * before continuations owed their starts reads a continuation's mark (2 and up) as no start owed: it never makes
 * it as a first start, nor clears it.
 */
function owedStartOf(startOwed: number): Pick<RunRecord, 'startOwed' | 'owedStartLap'> {
  return startOwed > 0 ? { startOwed: true, owedStartLap: startOwed - 1 } : { startOwed: false, owedStartLap: null };
}

/** The value of `start_owed` that owes the start of `lap`'s execution. */
const owedMarkOf = (lap: number): number => lap + 1;

function toRecord(row: Selectable<RunsTable>): RunRecord {
  return {
    id: row.id,
    owner: row.owner,
    goal: row.goal,
    model: row.model,
    status: row.status as RunStatus,
    statusDetail: row.status_detail,
    approvals: row.approvals as ApprovalPolicy,
    limits: parseJson<RunLimits>(row.limits_json, { maxSteps: 0, maxCostUsd: 0, maxDurationSec: 0 }),
    metadata: parseJson<Record<string, unknown> | null>(row.metadata_json, null),
    idempotencyKey: row.idempotency_key,
    lastSeq: Number(row.last_seq),
    turn: Number(row.turn),
    usage: {
      inputTokens: Number(row.input_tokens),
      outputTokens: Number(row.output_tokens),
      costUsd: Number(row.cost_usd),
      ...(Number(row.cache_read_tokens ?? 0) > 0 && { cacheReadTokens: Number(row.cache_read_tokens) }),
      ...(Number(row.cache_write_tokens ?? 0) > 0 && { cacheWriteTokens: Number(row.cache_write_tokens) }),
    },
    stepNote: row.step_note ?? null,
    progress: parseJson<Progress | null>(row.progress_json, null),
    result: row.result,
    error: readRunError(parseJson<{ code: string; message: string } | null>(row.error_json, null)),
    admitted: Number(row.admitted) === 1,
    stalledSince: row.stalled_at,
    laps: Number(row.laps ?? 0),
    scheduleId: row.schedule_id ?? null,
    agent: row.agent ?? null,
    agentVersion: row.agent_version ?? null,
    input: parseJson<unknown>(row.input_json, null),
    output: parseJson<unknown>(row.output_json, null),
    upgradeRequestedAt: row.upgrade_requested_at ?? null,
    parentRunId: row.parent_run_id ?? null,
    depth: Number(row.depth ?? 0),
    team: row.team ?? null,
    ...owedStartOf(Number(row.start_owed ?? 0)),
    approvalTimeoutSec: row.approval_timeout_sec ?? null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    endedAt: row.ended_at,
  };
}

export class RunsRepo {
  constructor(
    private readonly db: Executor,
    private readonly dialect: Dialect,
  ) {}

  /**
   * Inserts a run, or returns the one this owner already created with the same idempotency key.
   * `created` tells the two apart so the caller starts a workflow only for a new run.
   */
  async insert(run: NewRun): Promise<{ run: RunRecord; created: boolean }> {
    const now = nowIso();
    const inserted = await this.db
      .insertInto('runs')
      .values(newRunRow(run, now))
      .onConflict((oc) => oc.columns(['owner', 'idempotency_key']).doNothing())
      .returningAll()
      .executeTakeFirst();
    if (inserted) return { run: toRecord(inserted), created: true };
    const existing = await this.db
      .selectFrom('runs')
      .selectAll()
      .where('owner', '=', run.owner)
      .where('idempotency_key', '=', run.idempotencyKey ?? '')
      .executeTakeFirstOrThrow();
    return { run: toRecord(existing), created: false };
  }

  /**
   * New runs in one statement, each with the number of events written with it (`lastSeq`); a run whose owner and
   * idempotency key are taken is left out (the caller, holding the owner's queue lock, has looked them up first: one
   * left out is a writer that did not take the lock). The runs written, in no particular order.
   */
  async insertMany(runs: { run: NewRun; lastSeq: number }[]): Promise<RunRecord[]> {
    if (runs.length === 0) return [];
    const rows = await this.insertManyStatement(runs).execute();
    return rows.map(toRecord);
  }

  /** `insertMany`'s statement, not run: for one that writes more with it (./runs-with-first-events.ts). */
  insertManyStatement(runs: { run: NewRun; lastSeq: number }[]) {
    const now = nowIso();
    return this.db
      .insertInto('runs')
      .values(runs.map((r) => newRunRow(r.run, now, r.lastSeq)))
      .onConflict((oc) => oc.columns(['owner', 'idempotency_key']).doNothing())
      .returningAll();
  }

  /** A run's row as read (a statement's own `returning`, ./runs-with-first-events.ts). */
  static record(row: Selectable<RunsTable>): RunRecord {
    return toRecord(row);
  }

  /** The runs of these owners' idempotency keys, by `ownerKey(owner, key)`. */
  async findByIdempotencyKeys(keys: { owner: string; key: string }[]): Promise<Map<string, RunRecord>> {
    if (keys.length === 0) return new Map();
    const wanted = new Set(keys.map((k) => ownerKey(k.owner, k.key)));
    const rows = await this.db
      .selectFrom('runs')
      .selectAll()
      .where('owner', 'in', [...new Set(keys.map((k) => k.owner))])
      .where('idempotency_key', 'in', [...new Set(keys.map((k) => k.key))])
      .execute();
    const found = new Map<string, RunRecord>();
    for (const row of rows) {
      const key = ownerKey(row.owner, row.idempotency_key!);
      // Owners and keys were matched apart: a pair nobody asked for (one owner's key, used by another) is left out.
      if (wanted.has(key)) found.set(key, toRecord(row));
    }
    return found;
  }

  async findByIdempotencyKey(owner: string, key: string): Promise<RunRecord | undefined> {
    const row = await this.db.selectFrom('runs').selectAll().where('owner', '=', owner).where('idempotency_key', '=', key).executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  async get(id: string): Promise<RunRecord | undefined> {
    const row = await this.db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  /** Where the run's events are sent (see StoredWebhook); null when nowhere. */
  async webhooksOf(id: string): Promise<RunWebhooks | null> {
    const row = await this.db.selectFrom('runs').select('webhooks_json').where('id', '=', id).executeTakeFirst();
    return parseJson<RunWebhooks | null>(row?.webhooks_json ?? null, null);
  }

  async getMany(ids: string[]): Promise<RunRecord[]> {
    if (ids.length === 0) return [];
    return (await this.db.selectFrom('runs').selectAll().where('id', 'in', ids).execute()).map(toRecord);
  }

  async list(q: ListRunsQuery): Promise<RunRecord[]> {
    const teams = q.teams ?? [];
    let query = this.db
      .selectFrom('runs')
      .selectAll()
      .where((eb) => (teams.length ? eb.or([eb('owner', '=', q.owner), eb('team', 'in', teams)]) : eb('owner', '=', q.owner)));
    if (q.team !== undefined) query = query.where('team', '=', q.team);
    if (!q.includeChildren) query = query.where('parent_run_id', 'is', null);
    if (q.statuses?.length) query = query.where('status', 'in', q.statuses);
    if (q.scheduleId) query = query.where('schedule_id', '=', q.scheduleId);
    if (q.goalContains) {
      // lower() on both sides: SQLite's LIKE ignores ASCII case, Postgres's does not. % and _ are literal.
      const pattern = `%${q.goalContains.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      query = query.where(sql<boolean>`lower(goal) like ${pattern} escape '\\'`);
    }
    if (q.before) {
      const { createdAt, id } = q.before;
      query = query.where((eb) =>
        eb.or([eb('created_at', '<', createdAt), eb.and([eb('created_at', '=', createdAt), eb('id', '<', id)])]),
      );
    }
    const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(q.limit).execute();
    return rows.map(toRecord);
  }

  /** A run's children (sub-agents' runs), oldest first. */
  async children(parentRunId: string): Promise<RunRecord[]> {
    const rows = await this.db.selectFrom('runs').selectAll().where('parent_run_id', '=', parentRunId).orderBy('created_at', 'asc').orderBy('id', 'asc').execute();
    return rows.map(toRecord);
  }

  async countChildren(parentRunId: string): Promise<number> {
    const row = await this.db
      .selectFrom('runs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('parent_run_id', '=', parentRunId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** How many children each of these runs has (a run with none is absent), for lists that show trees. */
  async childCounts(parentRunIds: string[]): Promise<Map<string, number>> {
    if (parentRunIds.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('runs')
      .select(['parent_run_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('parent_run_id', 'in', parentRunIds)
      .groupBy('parent_run_id')
      .execute();
    return new Map(rows.map((r) => [r.parent_run_id!, Number(r.n)]));
  }

  /** The recorded spend of a run and every run below it in its tree. */
  async treeCostUsd(id: string): Promise<number> {
    const { rows } = await sql<{ total: number | string | null }>`
      with recursive tree(id) as (
        select id from runs where id = ${id}
        union all
        select runs.id from runs join tree on runs.parent_run_id = tree.id
      )
      select sum(cost_usd) as total from runs where id in (select id from tree)`.execute(this.db);
    return Number(rows[0]?.total ?? 0);
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('runs').where('id', '=', id).execute();
  }

  /**
   * Runs created before `createdBefore` that have never started: still `queued`, never admitted, never continued
   * (`laps` 0: a follow-up's reopened run has a history of its own), and roots (a child run is recorded by its
   * parent's workflow, which starts it, and may hold it unstarted while it is paused), and not owed a start (those
   * are started, never reaped: `owedStartsBefore`). Oldest first, at most
   * `limit`, after `after` (the last of the previous page). The sweeper asks Temporal about each (the reaper of
   * abandoned starts); the `runs_status` index finds them, and queued runs are few (each owner's queue cap).
   */
  async unstartedBefore(q: { createdBefore: string; limit: number; after?: { createdAt: string; id: string } }): Promise<RunRecord[]> {
    let query = this.db
      .selectFrom('runs')
      .selectAll()
      .where('status', '=', 'queued')
      .where('admitted', '=', 0)
      .where('laps', '=', 0)
      .where('parent_run_id', 'is', null)
      .where('start_owed', '=', 0)
      .where('created_at', '<', q.createdBefore);
    if (q.after) {
      const { createdAt, id } = q.after;
      query = query.where((eb) => eb.or([eb('created_at', '>', createdAt), eb.and([eb('created_at', '=', createdAt), eb('id', '>', id)])]));
    }
    const rows = await query.orderBy('created_at', 'asc').orderBy('id', 'asc').limit(q.limit).execute();
    return rows.map(toRecord);
  }

  /**
   * Runs whose workflow start is still owed, committed before `createdBefore`: oldest first, at most `limit`, after
   * `after` (the last of the previous page). The sweeper makes their starts (the API that owed them died or gave up).
   * A continuation's run was committed long before its lap was owed: its lap counts from the reopen (the row's
   * `updated_at`, which only delays it if something else writes the row meanwhile), so the sweep leaves the API its
   * tries as for a new run. Each start is made once however many meet (shared/runs/start-run-workflow.ts).
   */
  async owedStartsBefore(q: { createdBefore: string; limit: number; after?: { createdAt: string; id: string } }): Promise<RunRecord[]> {
    let query = this.db
      .selectFrom('runs')
      .selectAll()
      .where('start_owed', '>', 0)
      .where('created_at', '<', q.createdBefore)
      .where((eb) => eb.or([eb('start_owed', '=', 1), eb('updated_at', '<', q.createdBefore)]));
    if (q.after) {
      const { createdAt, id } = q.after;
      query = query.where((eb) => eb.or([eb('created_at', '>', createdAt), eb.and([eb('created_at', '=', createdAt), eb('id', '>', id)])]));
    }
    // In commit order alone, whatever lap each owes: the page's keyset (`after`) is (created_at, id).
    const rows = await query.orderBy('created_at', 'asc').orderBy('id', 'asc').limit(q.limit).execute();
    return rows.map(toRecord);
  }

  /**
   * Temporal has these runs' executions of these laps: their starts are owed no more. A lap's mark only: a later
   * lap's start owed meanwhile (the run ended and a follow-up continued it) stays owed.
   */
  async startsMade(starts: readonly { id: string; lap: number }[]): Promise<void> {
    if (starts.length === 0) return;
    const idsByLap = new Map<number, string[]>();
    for (const { id, lap } of starts) idsByLap.set(lap, [...(idsByLap.get(lap) ?? []), id]);
    await this.db
      .updateTable('runs')
      .set({ start_owed: 0 })
      .where((eb) => eb.or([...idsByLap].map(([lap, ids]) => eb.and([eb('start_owed', '=', owedMarkOf(lap)), eb('id', 'in', ids)]))))
      .execute();
  }

  /**
   * Deletes a run that never started, with its events, in one transaction — only while it is still what
   * `unstartedBefore` lists: a run that started meanwhile (admitted, running, ended, continued) is left as it is.
   * True when it was deleted. (Its webhook deliveries go with it on Postgres, by their foreign key.)
   */
  async deleteUnstarted(id: string): Promise<boolean> {
    return inTransaction(this.db, async (trx) => {
      const deleted = await trx
        .deleteFrom('runs')
        .where('id', '=', id)
        .where('status', '=', 'queued')
        .where('admitted', '=', 0)
        .where('laps', '=', 0)
        .where('parent_run_id', 'is', null)
        .where('start_owed', '=', 0)
        .executeTakeFirst();
      if (Number(deleted.numDeletedRows) === 0) return false;
      await trx.deleteFrom('events').where('run_id', '=', id).execute();
      return true;
    });
  }

  async updateState(id: string, patch: RunStatePatch): Promise<void> {
    const now = nowIso();
    await this.db
      .updateTable('runs')
      .set({
        updated_at: now,
        ...(patch.status !== undefined && { status: patch.status }),
        ...(patch.statusDetail !== undefined && { status_detail: patch.statusDetail }),
        ...(patch.progress !== undefined && { progress_json: JSON.stringify(patch.progress) }),
        ...(patch.result !== undefined && { result: patch.result }),
        ...(patch.error !== undefined && { error_json: patch.error ? JSON.stringify(patch.error) : null }),
        ...(patch.ended && { ended_at: now }),
      })
      .where('id', '=', id)
      .execute();
  }

  /** Runs of `owner` holding a concurrency slot: admitted and not ended. */
  async countActive(owner: string): Promise<number> {
    const row = await this.db
      .selectFrom('runs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('owner', '=', owner)
      .where('admitted', '=', 1)
      .where('status', 'not in', TERMINAL_STATUSES)
      // A run tree holds one slot, its root's: children claim none.
      .where('parent_run_id', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /**
   * Runs of `owner` waiting for a slot, oldest first (first in, first out). A run whose start is still owed is not
   * among them: it has no workflow to wait yet, and claims its slot once it has.
   */
  async queued(owner: string, limit = 1000): Promise<RunRecord[]> {
    const rows = await this.db
      .selectFrom('runs')
      .selectAll()
      .where('owner', '=', owner)
      .where('admitted', '=', 0)
      .where('status', '=', 'queued')
      .where('parent_run_id', 'is', null)
      .where('start_owed', '=', 0)
      .orderBy('created_at', 'asc')
      .orderBy('id', 'asc')
      .limit(limit)
      .execute();
    return rows.map(toRecord);
  }

  /**
   * How many of `owner`'s runs wait to be admitted ahead of `run` (older; the same time: a smaller id), as `queued`
   * orders them: a count in the owner's index, where reading the runs ahead to find its place read every one of them
   * (a thousand rows a claim in a storm of one owner's starts).
   */
  async queuedAhead(owner: string, run: { createdAt: string; id: string }): Promise<number> {
    const row = await this.db
      .selectFrom('runs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('owner', '=', owner)
      .where('admitted', '=', 0)
      .where('status', '=', 'queued')
      .where('parent_run_id', 'is', null)
      .where((eb) => eb.or([eb('created_at', '<', run.createdAt), eb.and([eb('created_at', '=', run.createdAt), eb('id', '<', run.id)])]))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** `countQueued` for several owners in one statement: each owner's count (0 for one with none). */
  async countQueuedOf(owners: string[]): Promise<Map<string, number>> {
    const rows = await this.db
      .selectFrom('runs')
      .select(['owner', (eb) => eb.fn.countAll<number>().as('n')])
      .where('owner', 'in', owners)
      .where('status', '=', 'queued')
      .where('parent_run_id', 'is', null)
      .groupBy('owner')
      .execute();
    const counts = new Map(owners.map((owner) => [owner, 0]));
    for (const row of rows) counts.set(row.owner, Number(row.n));
    return counts;
  }

  async countQueued(owner: string): Promise<number> {
    const row = await this.db
      .selectFrom('runs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('owner', '=', owner)
      .where('status', '=', 'queued')
      // A tree counts once toward the queue cap, as its root.
      .where('parent_run_id', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /**
   * Serialises changes to `owner`'s queue for the rest of the transaction, so counting their queued
   * runs and queueing one more is one step even across API processes (Postgres: an advisory lock
   * per owner; SQLite: its transactions already hold the write lock).
   */
  async lockQueue(owner: string): Promise<void> {
    if (this.dialect === 'postgres') await sql`select pg_advisory_xact_lock(hashtext(${`longhaul:queue:${owner}`}))`.execute(this.db);
  }

  /**
   * `lockQueue` for several owners, in one statement. The locks are taken in one order, their ids', by every
   * writer that takes more than one, so two such writers never wait on each other in a cycle (a writer that takes
   * one owner's lock waits on nobody while it holds it).
   */
  async lockQueues(owners: string[]): Promise<void> {
    if (this.dialect !== 'postgres' || owners.length === 0) return;
    const names = owners.map((owner) => `longhaul:queue:${owner}`);
    await sql`select pg_advisory_xact_lock(id) from (select distinct hashtext(name) as id from unnest(${names}::text[]) as name order by id) as locks`.execute(this.db);
  }

  /**
   * Serialises decisions about `owner`'s concurrency slots for the rest of the transaction (Postgres: an
   * advisory lock per owner, taken on this transaction's own connection; SQLite: its transactions already
   * hold the write lock).
   */
  async lockSlots(owner: string): Promise<void> {
    if (this.dialect === 'postgres') await sql`select pg_advisory_xact_lock(hashtext(${`longhaul-slots:${owner}`}))`.execute(this.db);
  }

  /**
   * Takes the run's row lock for the rest of the transaction (Postgres: the row; SQLite: the write
   * lock), so deciding whether a run ends and adding a follow-up to it happen one after the other.
   */
  async lock(id: string): Promise<void> {
    await this.db.updateTable('runs').set((eb) => ({ laps: eb.ref('laps') })).where('id', '=', id).execute();
  }

  /**
   * Raises the run's stored limits to at least `raised` (a follow-up's), never lowering one: what the tree's books, a
   * continuation and the run's view read. Under the run's lock (`lock`), in the caller's transaction.
   */
  async raiseLimits(id: string, raised: Partial<RunLimits>): Promise<void> {
    const run = await this.get(id);
    if (!run) return;
    await this.db.updateTable('runs').set({ limits_json: JSON.stringify(raisedTo(run.limits, raised)), updated_at: nowIso() }).where('id', '=', id).execute();
  }

  /** A follow-up continues a run within its execution (it had not ended yet): one more lap. */
  async nextLap(id: string): Promise<number> {
    const row = await this.db.updateTable('runs').set((eb) => ({ laps: eb('laps', '+', 1), updated_at: nowIso() })).where('id', '=', id).returning('laps').executeTakeFirstOrThrow();
    return Number(row.laps);
  }

  /**
   * A follow-up continues a run that had ended: it queues again for one of its owner's slots, with
   * the (possibly raised) limits, in a new lap, whose execution's start is owed from this write on (as a new run's
   * is from its commit: api/owed-starts.ts), so a start that fails, or an API that dies, leaves it to the sweeper
   * rather than queued with no workflow for good. Returns the lap.
   */
  async reopen(id: string, limits: RunLimits): Promise<number> {
    const row = await this.db
      .updateTable('runs')
      .set((eb) => ({
        status: 'queued',
        status_detail: 'continuing with a follow-up message',
        limits_json: JSON.stringify(limits),
        error_json: null,
        admitted: 0,
        ended_at: null,
        laps: eb('laps', '+', 1),
        // The new lap's mark (owedMarkOf(laps + 1)), from the same row's laps.
        start_owed: eb('laps', '+', 2),
        updated_at: nowIso(),
      }))
      .where('id', '=', id)
      .returning('laps')
      .executeTakeFirstOrThrow();
    return Number(row.laps);
  }

  async markStalled(id: string, lastProgressAt: string): Promise<void> {
    await this.db.updateTable('runs').set({ stalled_at: lastProgressAt }).where('id', '=', id).execute();
  }

  /** Runs per status, and how many running runs are currently flagged as stalled (for /metrics). */
  async statusCounts(): Promise<{ byStatus: Record<string, number>; stalled: number }> {
    const rows = await this.db.selectFrom('runs').select(['status', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('status').execute();
    const stalled = await this.db
      .selectFrom('runs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('stalled_at', 'is not', null)
      .where('status', 'not in', TERMINAL_STATUSES)
      .executeTakeFirstOrThrow();
    return { byStatus: Object.fromEntries(rows.map((r) => [r.status, Number(r.n)])), stalled: Number(stalled.n) };
  }

  async markAdmitted(id: string): Promise<void> {
    await this.db.updateTable('runs').set({ admitted: 1, updated_at: nowIso() }).where('id', '=', id).execute();
  }

  /** Adds one model call's usage; called once per call, guarded by the effects ledger. */
  async addUsage(id: string, usage: Usage, turn: number): Promise<void> {
    // Written as SQL, not built: one every model call, and Kysely's builder took longer to assemble it than the database to run it.
    await sql`update "runs" set ${RunsRepo.usageAssignments(usage, turn)}, "updated_at" = ${nowIso()} where "id" = ${id}`.execute(this.db);
  }

  /** What `addUsage` sets (but `updated_at`), for an event's statement to set with its own (shared/store/with-event.ts). */
  static usageAssignments(usage: Usage, turn: number): RawBuilder<unknown> {
    return sql`"input_tokens" = "input_tokens" + ${usage.inputTokens}, "output_tokens" = "output_tokens" + ${usage.outputTokens},
      "cost_usd" = "cost_usd" + ${usage.costUsd}, "cache_read_tokens" = "cache_read_tokens" + ${usage.cacheReadTokens ?? 0},
      "cache_write_tokens" = "cache_write_tokens" + ${usage.cacheWriteTokens ?? 0}, "step_note" = null, "turn" = ${turn}`;
  }

  /** What a step is doing that the run's status cannot say (a model call being retried); cleared by its next usage. */
  async setStepNote(id: string, note: string | null): Promise<void> {
    await this.db.updateTable('runs').set({ step_note: note }).where('id', '=', id).execute();
  }

  /**
   * Asks for the run's move to its agent's current version (POST /api/runs/:id/upgrade); its next model call
   * applies it. False when the run has ended (nothing to upgrade). Asking again keeps the first request's time.
   */
  async requestUpgrade(id: string): Promise<boolean> {
    const result = await this.db
      .updateTable('runs')
      .set((eb) => ({ upgrade_requested_at: eb.fn.coalesce('upgrade_requested_at', eb.val(nowIso())), updated_at: nowIso() }))
      .where('id', '=', id)
      .where('ended_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /**
   * Moves a run whose upgrade was requested to `version` and clears the request (call it in the model
   * call's transaction). Returns the version it had, or null when no upgrade was requested.
   */
  async applyUpgrade(id: string, version: string): Promise<{ from: string | null } | null> {
    const row = await this.db.selectFrom('runs').select(['agent_version', 'upgrade_requested_at']).where('id', '=', id).executeTakeFirst();
    if (!row?.upgrade_requested_at) return null;
    await this.db.updateTable('runs').set({ agent_version: version, upgrade_requested_at: null }).where('id', '=', id).execute();
    return { from: row.agent_version ?? null };
  }

  /** Stores the run's validated structured output (its agent's final result). */
  async setOutput(id: string, output: unknown): Promise<void> {
    await sql`update "runs" set ${RunsRepo.outputAssignment(output)} where "id" = ${id}`.execute(this.db);
  }

  /** What `setOutput` sets, for an event's statement to set with its own (shared/store/with-event.ts). */
  static outputAssignment(output: unknown): RawBuilder<unknown> {
    return sql`"output_json" = ${JSON.stringify(output ?? null)}`;
  }
}

/** A stored run error with a code the API still answers with (see knownRunErrorCode). */
function readRunError(stored: { code: string; message: string } | null): RunError | null {
  return stored && { code: knownRunErrorCode(stored.code), message: stored.message };
}
