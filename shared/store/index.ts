/** The store: every repository over one database, plus transactions spanning them. */
import type { Kysely } from 'kysely';
import type { EventDraft, RunEvent } from '../../contract/events';
import { AgentsRepo } from './agents';
import { ApiKeysRepo } from './api-keys';
import { ApprovalsRepo } from './approvals';
import { CapacityRepo } from './capacity';
import { EffectsRepo } from './effects';
import { EventsRepo } from './events';
import { inTransaction, type Executor } from './executor';
import { InputRequestsRepo } from './input-requests';
import { LiveTextRepo } from './live-text';
import { MessagesRepo } from './messages';
import { ModelCallsRepo } from './model-calls';
import { openDatabase, type Dialect, type OpenedDatabase } from './open-database';
import { OwnerBatches } from './owner-batches';
import { RunsRepo, type NewRun, type RunRecord } from './runs';
import { RunTreeRepo } from './run-tree';
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


/** What `queueRun` answers: the owner's queue was full (`queueFull` runs wait), or the run, created or found by its key. */
export type QueuedRun = { queueFull: number } | { run: RunRecord; created: boolean; events: RunEvent[] };
/** One request of `queueRun`'s. */
type QueueRequest = { run: NewRun; cap: number; events: EventDraft[] };
/**
 * At most this many of one owner's starts are queued in one transaction: enough that a storm of one owner's
 * starts (a hundred a second) goes in a few transactions a second, few enough that the lock is not held for long.
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
  /** Each owner's `queueRun` requests, queued together (this process's; the owner's lock orders them across processes). */
  private readonly queueBatches = new OwnerBatches<QueueRequest, QueuedRun>((owner, requests) => this.queueBatch(owner, requests), MAX_QUEUE_BATCH);

  constructor(
    private readonly executor: Executor,
    readonly opened: OpenedDatabase,
  ) {
    this.runs = new RunsRepo(executor, opened.dialect);
    this.events = new EventsRepo(executor, opened.dialect);
    this.messages = new MessagesRepo(executor);
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
    this.apiKeys = new ApiKeysRepo(executor);
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

  /**
   * Queues a new run with its first events, unless its owner already has `cap` runs waiting to
   * start: then nothing is written and `queueFull` says how many wait. A run with the same
   * idempotency key already there is returned as it is (`created: false`), whatever the cap.
   *
   * The owner's concurrent requests in this process are written together (shared/store/owner-batches.ts), in one
   * transaction that takes the owner's queue lock first, counts the runs waiting once, and then, request by request
   * in arrival order, returns the run of a key already used, refuses one over the cap, or writes the run and its
   * events and counts it: concurrent requests (here or in other processes, which take the same lock) cannot slip
   * under the cap, and one owner's storm of starts costs a lock, a count and a commit per batch, on one connection.
   */
  queueRun(run: NewRun, cap: number, events: EventDraft[]): Promise<QueuedRun> {
    // Inside a caller's transaction: written there and then (a batch would commit apart from it).
    if (this.executor.isTransaction) return this.queueBatch(run.owner, [{ run, cap, events }]).then((r) => r[0]!);
    return this.queueBatches.add(run.owner, { run, cap, events });
  }

  /** One owner's `queueRun` requests in one transaction, under the owner's queue lock: a result each, in order. */
  private queueBatch(owner: string, requests: QueueRequest[]): Promise<QueuedRun[]> {
    return this.transaction(async (tx) => {
      await tx.runs.lockQueue(owner);
      let waiting = await tx.runs.countQueued(owner);
      const out: QueuedRun[] = [];
      for (const { run, cap, events } of requests) {
        // A key already used gets its run back whatever the cap (its first request was counted when it was queued).
        const earlier = run.idempotencyKey && waiting >= cap ? await tx.runs.findByIdempotencyKey(owner, run.idempotencyKey) : undefined;
        if (earlier) out.push({ run: earlier, created: false, events: [] });
        else if (waiting >= cap) out.push({ queueFull: waiting });
        else {
          const inserted = await tx.runs.insert(run);
          if (!inserted.created) out.push({ ...inserted, events: [] });
          else {
            out.push({ ...inserted, events: await tx.events.append(inserted.run.id, events) });
            if (!run.parentRunId) waiting += 1; // a tree counts once toward the cap, as its root (countQueued)
          }
        }
      }
      return out;
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

