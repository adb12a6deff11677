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


/** Rolls `queueRun`'s transaction back when the owner's queue is full. */
class QueueFull extends Error {
  constructor(readonly waiting: number) {
    super(`the queue is full: ${waiting} runs wait`);
  }
}
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
   * The count comes last, under the owner's queue lock, so concurrent requests cannot all slip under the cap: the
   * lock is held from there to the commit, and it sees every run committed before it. Inserting first keeps the
   * run and its events out of the locked part — each of one owner's starts waits only for the others' count and
   * commit, not their writes (a storm of one owner's starts went one at a time through four statements each).
   * Over the cap, the transaction is rolled back: nothing was written.
   */
  async queueRun(run: NewRun, cap: number, events: EventDraft[]): Promise<{ queueFull: number } | { run: RunRecord; created: boolean; events: RunEvent[] }> {
    try {
      return await this.transaction(async (tx) => {
        const inserted = await tx.runs.insert(run);
        if (!inserted.created) return { ...inserted, events: [] };
        const appended = await tx.events.append(inserted.run.id, events);
        await tx.runs.lockQueue(run.owner);
        const waiting = (await tx.runs.countQueued(run.owner)) - 1; // this run is among them
        if (waiting >= cap) throw new QueueFull(waiting);
        return { ...inserted, events: appended };
      });
    } catch (err) {
      if (err instanceof QueueFull) return { queueFull: err.waiting };
      throw err;
    }
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

