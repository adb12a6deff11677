/** The store: every repository over one database, plus transactions spanning them. */
import type { Kysely } from 'kysely';
import type { EventDraft, RunEvent } from '../../contract/events';
import { eventKeys } from '../../contract/keys';
import type { RunError } from '../../contract/run';
import { AgentsRepo } from './agents';
import { ApiKeysRepo } from './api-keys';
import { ApprovalsRepo } from './approvals';
import { CapacityRepo } from './capacity';
import { EffectsRepo, type EffectEntry } from './effects';
import { EventsRepo } from './events';
import { inTransaction, nowIso, type Executor } from './executor';
import { InputRequestsRepo } from './input-requests';
import { LiveTextRepo } from './live-text';
import { MessagesRepo } from './messages';
import { ModelCallsRepo } from './model-calls';
import { openDatabase, type Dialect, type OpenedDatabase } from './open-database';
import { WriteBatches } from './write-batches';
import { ownerKey, RunsRepo, type NewRun, type RunRecord } from './runs';
import { RunTreeRepo } from './run-tree';
import { insertRunsWithFirstEvents } from './runs-with-first-events';
import { UserMessagesRepo } from './user-messages';
import { UsersRepo } from './users';
import { SchedulesRepo } from './schedules';
import { TreeMoneyRepo } from './tree-money';
import { SessionsRepo } from './sessions';
import { TeamMembersRepo } from './team-members';
import { TeamBudgetsRepo } from './team-budgets';
import { WatchersRepo } from './watchers';
import { WebhooksRepo } from './webhooks';
import { WorkspaceBlobsRepo } from './workspace-blobs';
import { WorkspacesRepo } from './workspaces';
import type { Database } from './schema';
import { WsTicketsRepo } from './ws-tickets';
import { beginWithEvent, writeWithCompletion, writeWithEvent, type WriteWithEvent } from './with-event';


/** What `queueRun` answers: the owner's queue was full (`queueFull` runs wait), or the run, created or found by its key. */
export type QueuedRun = { queueFull: number } | { run: RunRecord; created: boolean; events: RunEvent[] };
/** One request of `queueRun`'s. */
type QueueRequest = { run: NewRun; cap: number; events: EventDraft[] };
/**
 * At most this many starts are queued in one transaction: enough that a storm of starts (a hundred a second) goes in
 * a few transactions a second, few enough that their owners' locks are not held for long.
 */
const MAX_QUEUE_BATCH = 50;

export class Store {
  readonly runs: RunsRepo;
  readonly events: EventsRepo;
  readonly messages: MessagesRepo;
  readonly effects: EffectsRepo;
  readonly approvals: ApprovalsRepo;
  readonly inputs: InputRequestsRepo;
  readonly liveText: LiveTextRepo;
  readonly wsTickets: WsTicketsRepo;
  readonly userMessages: UserMessagesRepo;
  readonly webhooks: WebhooksRepo;
  readonly schedules: SchedulesRepo;
  readonly watchers: WatchersRepo;
  readonly capacity: CapacityRepo;
  readonly modelCalls: ModelCallsRepo;
  readonly workspaces: WorkspacesRepo;
  readonly workspaceBlobs: WorkspaceBlobsRepo;
  readonly agents: AgentsRepo;
  readonly tree: RunTreeRepo;
  readonly treeMoney: TreeMoneyRepo;
  readonly teamMembers: TeamMembersRepo;
  readonly users: UsersRepo;
  readonly apiKeys: ApiKeysRepo;
  readonly sessions: SessionsRepo;
  readonly teamBudgets: TeamBudgetsRepo;
  /** `queueRun` requests, queued together (this process's; each owner's lock orders its own across processes). */
  private readonly queueBatches = new WriteBatches<QueueRequest, QueuedRun>(
    (requests) => this.queueBatch(requests),
    (request) => this.queueAlone(request),
    MAX_QUEUE_BATCH,
  );

  constructor(
    private readonly executor: Executor,
    readonly opened: OpenedDatabase,
  ) {
    this.runs = new RunsRepo(executor, opened.dialect);
    this.events = new EventsRepo(executor, opened.dialect);
    this.messages = new MessagesRepo(executor, opened.dialect);
    this.effects = new EffectsRepo(executor);
    this.approvals = new ApprovalsRepo(executor);
    this.inputs = new InputRequestsRepo(executor);
    this.liveText = new LiveTextRepo(executor);
    this.wsTickets = new WsTicketsRepo(executor);
    this.userMessages = new UserMessagesRepo(executor);
    this.webhooks = new WebhooksRepo(executor);
    this.schedules = new SchedulesRepo(executor);
    this.watchers = new WatchersRepo(executor);
    this.capacity = new CapacityRepo(executor, opened.dialect);
    this.modelCalls = new ModelCallsRepo(executor);
    this.workspaces = new WorkspacesRepo(executor);
    this.workspaceBlobs = new WorkspaceBlobsRepo(executor);
    this.agents = new AgentsRepo(executor);
    this.tree = new RunTreeRepo(executor);
    this.treeMoney = new TreeMoneyRepo(executor, opened.dialect);
    this.teamMembers = new TeamMembersRepo(executor);
    this.users = new UsersRepo(executor);
    this.apiKeys = new ApiKeysRepo(executor, opened.dialect);
    this.sessions = new SessionsRepo(executor);
    this.teamBudgets = new TeamBudgetsRepo(executor, opened.dialect);
  }

  get dialect(): Dialect {
    return this.opened.dialect;
  }

  get db(): Kysely<Database> {
    return this.opened.db;
  }

  /** Runs `fn` with a store whose repositories all write in one transaction. */
  transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    return inTransaction(this.executor, (trx) => fn(new Store(trx, this.opened)));
  }

  /** Writes that land with one event or not at all: on Postgres, mostly in the event's own statement (./with-event.ts). */
  writeWithEvent(runId: string, draft: EventDraft, writes: WriteWithEvent[]): Promise<RunEvent[]> {
    return writeWithEvent(this, runId, draft, writes);
  }

  /** Writes that land with a ledger entry's completion or not at all: false when another attempt completed it first (./with-event.ts). */
  writeWithCompletion(runId: string, completed: { key: string; result: unknown }, writes: WriteWithEvent[]): Promise<boolean> {
    return writeWithCompletion(this, runId, completed, writes);
  }

  /** A ledger entry's start with its event, for a call not begun before; undefined otherwise, nothing written (./with-event.ts). */
  beginWithEvent(key: string, entry: EffectEntry, draft: EventDraft): Promise<RunEvent[] | undefined> {
    return beginWithEvent(this, key, entry, draft);
  }

  /**
   * Queues a new run with its first events, unless its owner already has `cap` runs waiting to
   * start: then nothing is written and `queueFull` says how many wait. A run with the same
   * idempotency key already there is returned as it is (`created: false`), whatever the cap.
   *
   * Concurrent requests in this process are written together (shared/store/write-batches.ts), whoever's, in one
   * transaction that takes their owners' queue locks first, counts each owner's waiting runs once, and then,
   * request by request in arrival order, returns the run of a key already used, refuses one over its owner's cap, or
   * writes the run and its events and counts it: concurrent requests (here or in other processes, which take the
   * same locks) cannot slip under the cap, and a storm of starts costs the locks, a count and a commit per batch, on
   * one connection, however many owners it comes from.
   */
  queueRun(run: NewRun, cap: number, events: EventDraft[]): Promise<QueuedRun> {
    // Inside a caller's transaction: written there and then (a batch would commit apart from it).
    if (this.executor.isTransaction) return this.queueAlone({ run, cap, events });
    return this.queueBatches.add({ run, cap, events });
  }

  /**
   * `queueRun` requests in one transaction, under their owners' queue locks: a result each, in order. In a few
   * statements whatever their number: the locks, the counts, the runs of the batch's keys, then the runs admitted
   * with their first events (one statement on Postgres when no webhook is owed for them: ./runs-with-first-events.ts).
   */
  private queueBatch(requests: QueueRequest[]): Promise<QueuedRun[]> {
    return this.transaction(async (tx) => {
      const owners = [...new Set(requests.map((r) => r.run.owner))];
      await tx.runs.lockQueues(owners);
      const waiting = await tx.runs.countQueuedOf(owners);
      const keyOf = (run: NewRun) => (run.idempotencyKey ? ownerKey(run.owner, run.idempotencyKey) : undefined);
      const known = await tx.runs.findByIdempotencyKeys(requests.flatMap(({ run }) => (run.idempotencyKey ? [{ owner: run.owner, key: run.idempotencyKey }] : [])));
      const at = nowIso();
      // Decided in arrival order: a key already used gets its run whatever the cap (a key used earlier in the batch,
      // the run written for it); then the owner's cap; then the run is written, and counted.
      const decided: ({ queueFull: number } | { replayOf: string } | { write: QueueRequest; events: { key: string; event: RunEvent }[] })[] = [];
      const writtenFor = new Map<string, string>(); // ownerKey → id of the run of this batch written for it
      for (const request of requests) {
        const { run } = request;
        const key = keyOf(run);
        const queued = waiting.get(run.owner)!;
        if (key && (known.has(key) || writtenFor.has(key))) decided.push({ replayOf: key });
        else if (queued >= request.cap) decided.push({ queueFull: queued });
        else {
          decided.push({ write: request, events: EventsRepo.firstEvents(request.events, at) });
          if (key) writtenFor.set(key, run.id);
          if (!run.parentRunId) waiting.set(run.owner, queued + 1); // a tree counts once toward the cap, as its root (countQueued)
        }
      }
      const toWrite = decided.flatMap((d) => ('write' in d ? [d] : []));
      const written = new Map((await insertRunsWithFirstEvents(tx, toWrite.map((d) => ({ run: d.write.run, events: d.events })))).map((r) => [r.id, r]));
      // A run left out had its key taken meanwhile by a writer that did not take the lock (an older version's): that
      // writer's run is the request's (it was counted here, so the cap errs on the safe side for this batch).
      const taken = toWrite.filter((d) => !written.has(d.write.run.id)).map((d) => ({ owner: d.write.run.owner, key: d.write.run.idempotencyKey! }));
      for (const [key, run] of await tx.runs.findByIdempotencyKeys(taken)) known.set(key, run);
      for (const [key, id] of writtenFor) if (written.has(id)) known.set(key, written.get(id)!);
      return decided.map((d) => {
        if ('queueFull' in d) return d;
        if ('replayOf' in d) return { run: known.get(d.replayOf)!, created: false, events: [] };
        const run = written.get(d.write.run.id);
        return run ? { run, created: true, events: d.events.map((e) => e.event) } : { run: known.get(keyOf(d.write.run)!)!, created: false, events: [] };
      });
    });
  }

  /**
   * One `queueRun` request alone, a statement at a time as before batches: a batch that failed is written again
   * this way, request by request, so one that cannot be written fails alone (and a key taken by a writer that did
   * not take the lock gets that writer's run).
   */
  private queueAlone(request: QueueRequest): Promise<QueuedRun> {
    const { run, cap, events } = request;
    return this.transaction(async (tx) => {
      await tx.runs.lockQueue(run.owner);
      const waiting = await tx.runs.countQueued(run.owner);
      const earlier = run.idempotencyKey ? await tx.runs.findByIdempotencyKey(run.owner, run.idempotencyKey) : undefined;
      if (earlier) return { run: earlier, created: false, events: [] };
      if (waiting >= cap) return { queueFull: waiting };
      const inserted = await tx.runs.insert(run);
      if (!inserted.created) return { ...inserted, events: [] };
      return { ...inserted, events: await tx.events.append(inserted.run.id, events) };
    });
  }

  /**
   * Ends a run whose workflow Temporal refused for good (`refusedForGood`, shared/runs/start-run-workflow.ts): failed
   * with `start_refused` and Temporal's words, its start owed no more, `run.failed` appended. Only while the run is
   * still queued, unadmitted, with its start owed (one that started meanwhile is its workflow's); the events written,
   * else none.
   */
  refuseStart(runId: string, message: string): Promise<RunEvent[]> {
    return this.transaction(async (tx) => {
      await tx.runs.lock(runId);
      const run = await tx.runs.get(runId);
      if (!run?.startOwed || run.owedStartLap === null || run.status !== 'queued' || run.admitted) return [];
      const error: RunError = { code: 'start_refused', message };
      await tx.runs.updateState(runId, { status: 'failed', statusDetail: message, error, ended: true });
      await tx.runs.startsMade([{ id: runId, lap: run.owedStartLap }]);
      // A continuation's lap ends with its own `run.failed` (an earlier lap may have ended failed, on a limit).
      return tx.events.append(runId, [{ key: eventKeys.failed(run.owedStartLap), type: 'run.failed', data: { error } }]);
    });
  }

  /**
   * Records a sub-agent's run under its parent, unless the parent already has `maxChildren`: then nothing is
   * written and `tooMany` says how many it has. The child's caps are cut to what its parent's tree has left —
   * its cost cap to `costShare` of the parent's room (its reservation, held from the parent until it ends), its
   * steps to the steps left but the one the parent keeps to answer from it — so it can never spend what its parent does not have. Counting, reading the books
   * and inserting hold the tree's lock: parallel starts cannot slip past the cap or spend the same room twice.
   * A child already recorded under the same id (a retried start) is returned as it is.
   */
  placeChild(child: NewRun & { parentRunId: string }, bounds: { maxChildren: number; costShare: number }): Promise<{ tooMany: number } | { run: RunRecord; created: boolean }> {
    return this.transaction(async (tx) => {
      const books = await tx.treeMoney.lockedBooks(child.parentRunId, Date.now());
      const earlier = await tx.runs.get(child.id);
      if (earlier) return { run: earlier, created: false };
      const siblings = await tx.runs.countChildren(child.parentRunId);
      if (siblings >= bounds.maxChildren) return { tooMany: siblings };
      const room = books.roomFor(child.parentRunId);
      const limits = {
        ...child.limits,
        maxCostUsd: Math.min(child.limits.maxCostUsd, Math.max(0, room.costUsd) * bounds.costShare),
        // One step stays with the parent, for the answer it gives from its children's results.
        maxSteps: Math.min(child.limits.maxSteps, Math.max(0, room.steps - 1)),
      };
      return tx.runs.insert({ ...child, limits });
    });
  }

  async ping(): Promise<void> {
    await this.opened.db.selectFrom('runs').select('id').limit(1).execute();
  }

  async close(): Promise<void> {
    await this.opened.db.destroy();
  }
}

export async function createStore(opts: { databaseUrl?: string; databasePoolMax?: number; databaseConnectTimeoutMs?: number; databaseStatementTimeoutMs?: number; dataDir: string }): Promise<Store> {
  const opened = await openDatabase(opts);
  return new Store(opened.db, opened);
}

export type { RunRecord } from './runs';
export type { StoredMessage } from './messages';
export type { WriteWithEvent } from './with-event';

