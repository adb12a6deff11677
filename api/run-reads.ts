/**
 * Reading runs: one run as its viewer sees it (progress from the workflow, facts from the
 * database), and pages of runs as lists show them. Who may see or act on a run is checked here.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Config } from '../shared/config';
import type { Logger } from '../shared/logger';
import type { Store } from '../shared/store';
import type { RunRecord } from '../shared/store/runs';
import { progressQuery } from '../contract/workflow-messages';
import { isTerminalStatus, type Progress, type RunStatus, type WaitingFor } from '../contract/run';
import type { Access } from './access';
import type { Principal } from '../contract/identity';
import type { RunSummary, RunView, WorkerState } from '../contract/api';
import { ApiError } from './errors';
import { pendingBelow } from './human-service';
import { TaskQueuePollers } from './task-queue-pollers';
import { agentTaskQueue } from '../contract/agents';
import { dailyBudgetFor, utcDay } from '../shared/capacity/model-limits';

/**
 * A run as lists show it; `workersPolling`: whether any worker polls the run's task queue (unfinished runs need
 * one); `childCount`: how many child runs it started.
 */
export function summarize(run: RunRecord, workersPolling = true, childCount = 0): RunSummary {
  const unavailable = !isTerminalStatus(run.status) && !workersPolling;
  return {
    id: run.id,
    goal: run.goal,
    model: run.model,
    status: run.status,
    statusDetail: unavailable && run.agent ? withNote(run.statusDetail, noAgentWorker(run.agent)) : run.statusDetail,
    waitingFor: waitingForOf(run),
    usage: run.usage,
    error: run.error,
    lastSeq: run.lastSeq,
    scheduleId: run.scheduleId,
    team: run.team,
    turn: run.turn,
    worker: isTerminalStatus(run.status) ? null : workersPolling ? 'available' : 'unavailable',
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
    endedAt: run.endedAt,
    ...agentFieldsOf(run),
    childCount,
  };
}

/** What a run is of its agent, as views and summaries show it. */
function agentFieldsOf(run: RunRecord): Pick<RunSummary, 'agent' | 'agentVersion' | 'input' | 'output'> {
  return { agent: run.agent, agentVersion: run.agentVersion, input: run.input ?? null, output: run.output ?? null };
}

/** Why an agent's run cannot move: nothing polls its agent's task queue. */
export const noAgentWorker = (agent: string): string => `no live worker serves agent ${agent}`;

const withNote = (detail: string | null, note: string): string => (detail ? `${detail} (${note})` : note);

/** What the run waits for, as the workflow last recorded it with the run's current status (rows written before it was recorded: nothing). */
function waitingForOf(run: RunRecord): WaitingFor | null {
  return run.progress?.status === run.status ? (run.progress.waitingFor ?? null) : null;
}

/** What a page of runs is asked for. */
export interface ListQuery {
  statuses?: RunStatus[];
  scheduleId?: string;
  goalContains?: string;
  limit: number;
  cursor?: string;
  includeChildren?: boolean;
  team?: string;
}

export class RunReads {
  private readonly pollers: TaskQueuePollers;

  constructor(private readonly deps: { store: Store; client: Client; config: Config; logger: Logger; access: Access }) {
    this.pollers = new TaskQueuePollers({ client: deps.client, namespace: deps.config.temporal.namespace, taskQueue: deps.config.temporal.taskQueue, logger: deps.logger });
  }

  /** The task queue the run's workflow is on: its agent's. */
  private taskQueueOf(run: RunRecord): string {
    return agentTaskQueue(this.deps.config.temporal.taskQueue, run.agent);
  }

  /** The run, if the caller may see it (api/access.ts); 404 otherwise. */
  async getVisible(caller: Principal, id: string): Promise<RunRecord> {
    const run = await this.deps.store.runs.get(id);
    this.deps.access.assertVisible(caller, run);
    return run;
  }

  /** The run, if the caller may steer it; 404 if they cannot see it, 403 if they see but may not steer it. */
  async getSteerable(caller: Principal, id: string): Promise<RunRecord> {
    const run = await this.deps.store.runs.get(id);
    this.deps.access.assertSteer(caller, run);
    return run;
  }

  async view(caller: Principal, id: string): Promise<RunView> {
    let run = await this.getVisible(caller, id);
    let progress = run.progress ?? this.progressFromRecord(run);
    let worker: WorkerState | null = null;
    // An agent's run with nothing polling its agent's queue: no worker could answer a query, so none is asked.
    const agentServed = run.agent && !isTerminalStatus(run.status) ? await this.pollers.anyPolling(this.taskQueueOf(run)) : true;
    if (!isTerminalStatus(run.status) && run.startOwed) {
      // Committed, its workflow's start still being made (api/owed-starts.ts): there is nothing yet to ask or to
      // find missing, and its row is all there is to say.
      progress = { ...progress, statusDetail: withNote(progress.statusDetail, 'starting: its workflow is not started yet') };
    } else if (!isTerminalStatus(run.status)) {
      const live = agentServed ? await this.queryProgress(id) : undefined;
      // The run may have ended between reading its row and the answer. The workflow records an
      // ending in the database before it says so, so a fresh row now holds the result: read it, or
      // this answer would say `completed` with the result of before.
      if (live && isTerminalStatus(live.status)) {
        run = (await this.deps.store.runs.get(id)) ?? run;
        progress = run.progress ?? live;
      } else if (live) {
        progress = live;
        worker = 'available';
      } else {
        worker = 'unavailable';
        // The database knows the last recorded state; usage is kept current by each model call.
        progress = { ...progress, status: run.status, statusDetail: run.statusDetail, waitingFor: waitingForOf(run), usage: run.usage };
      }
    }
    // A step the workflow cannot describe while it happens: a model call Temporal is retrying.
    if (progress.status === 'running' && !progress.statusDetail && run.stepNote) progress = { ...progress, statusDetail: run.stepNote };
    const stalledSince = !isTerminalStatus(run.status) && run.stalledSince ? run.stalledSince : null;
    if (stalledSince && progress.status === 'running' && !progress.statusDetail) {
      progress = { ...progress, statusDetail: `no progress since ${stalledSince}; a step may be stuck` };
    }
    if (worker === 'unavailable') {
      progress = { ...progress, statusDetail: withNote(progress.statusDetail, agentServed ? 'no worker is answering' : noAgentWorker(run.agent!)) };
    }
    return {
      ...progress,
      waitingFor: progress.waitingFor ?? null, // progress recorded before it carried one
      id: run.id,
      goal: run.goal,
      owner: run.owner,
      team: run.team,
      model: run.model,
      approvals: run.approvals,
      result: run.result,
      error: run.error ?? progress.error,
      metadata: run.metadata,
      createdAt: run.createdAt,
      updatedAt: run.updatedAt,
      endedAt: run.endedAt,
      worker,
      stalledSince,
      lastSeq: run.lastSeq,
      scheduleId: run.scheduleId,
      watchers: await this.deps.store.watchers.forRun(run.id),
      workspace: await this.deps.store.workspaces.stateOf(run.id),
      budget: await this.budgetOf(run.owner),
      temporalUrl: this.temporalUrl(run.id),
      ...agentFieldsOf(run),
      upgradePending: run.upgradeRequestedAt !== null && !isTerminalStatus(run.status),
      ...(await this.treeOf(run)),
    };
  }

  /** The run's place in its run tree: its parent, its children, and the spend of it and everything below it. */
  private async treeOf(run: RunRecord): Promise<Pick<RunView, 'parentRunId' | 'children' | 'treeCostUsd' | 'subagentApprovals' | 'subagentQuestions'>> {
    const { runs } = this.deps.store;
    const children = await runs.children(run.id);
    // What its sub-agents (and theirs) wait for from a human: shown, and decided, on this run's page too.
    const below = children.length ? await pendingBelow(this.deps.store, run.id) : { approvals: [], questions: [] };
    return {
      parentRunId: run.parentRunId,
      children: children.map((c) => ({ id: c.id, agent: c.agent, status: c.status, costUsd: c.usage.costUsd })),
      treeCostUsd: children.length ? await runs.treeCostUsd(run.id) : run.usage.costUsd,
      subagentApprovals: below.approvals,
      subagentQuestions: below.questions,
    };
  }

  private async budgetOf(owner: string): Promise<RunView['budget']> {
    const dailyUsd = dailyBudgetFor(this.deps.config, owner);
    if (dailyUsd === undefined) return null;
    return { dailyUsd, spentTodayUsd: await this.deps.store.modelCalls.spentOn(owner, utcDay(Date.now())) };
  }

  /** The run's workflow in the Temporal Web UI. */
  private temporalUrl(runId: string): string | null {
    const { uiUrl, namespace } = this.deps.config.temporal;
    return uiUrl ? `${uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(runId)}` : null;
  }

  private readonly inFlightQueries = new Set<Promise<unknown>>();

  /** Asks the workflow for its progress; undefined when no worker answers in time. */
  async queryProgress(id: string): Promise<Progress | undefined> {
    const { client, config, logger } = this.deps;
    const query = client.withDeadline(Date.now() + config.api.progressQueryTimeoutMs, () => client.workflow.getHandle(id).query(progressQuery));
    this.inFlightQueries.add(query);
    try {
      return await query;
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) logger.debug({ err, runId: id }, 'progress query got no answer');
      return undefined;
    } finally {
      this.inFlightQueries.delete(query);
    }
  }

  /** Waits for queries still in flight (at most the query timeout): call before closing the client. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.inFlightQueries]);
  }

  progressFromRecord(run: RunRecord): Progress {
    return {
      runId: run.id,
      status: run.status,
      statusDetail: run.statusDetail,
      waitingFor: waitingForOf(run),
      model: run.model,
      turn: run.turn,
      segment: 0,
      usage: run.usage,
      limits: run.limits,
      pendingApprovals: [],
      pendingInput: null,
      error: run.error,
      lastEventAt: null,
    };
  }

  /** The caller's own runs and those of the teams they may read; `team`: only that team's (403 unless they may read it). */
  async list(caller: Principal, q: ListQuery): Promise<{ runs: RunSummary[]; nextCursor: string | null }> {
    const teams = this.deps.access.readableTeams(caller);
    if (q.team !== undefined && !teams.includes(q.team)) throw new ApiError(403, 'forbidden', `you may not read team ${q.team}'s runs`);
    const before = q.cursor ? decodeCursor(q.cursor) : undefined;
    const rows = await this.deps.store.runs.list({ owner: caller.user, teams, team: q.team, statuses: q.statuses, scheduleId: q.scheduleId, goalContains: q.goalContains, limit: q.limit + 1, before, includeChildren: q.includeChildren });
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    return {
      runs: await this.summaries(page),
      nextCursor: rows.length > q.limit && last ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : null,
    };
  }

  /** The run's child runs (sub-agents), oldest first, if the user may see the run. */
  async children(caller: Principal, id: string): Promise<RunSummary[]> {
    const run = await this.getVisible(caller, id);
    return this.summaries(await this.deps.store.runs.children(run.id));
  }

  /** Runs as lists show them: whether a worker serves each unfinished one, and each one's count of children. */
  private async summaries(runs: RunRecord[]): Promise<RunSummary[]> {
    // One question per task queue the unfinished runs need: the deployment's, and each agent's.
    const queues = [...new Set(runs.filter((r) => !isTerminalStatus(r.status)).map((r) => this.taskQueueOf(r)))];
    const [polling, childCounts] = await Promise.all([
      Promise.all(queues.map(async (q) => [q, await this.pollers.anyPolling(q)] as const)).then((pairs) => new Map(pairs)),
      this.deps.store.runs.childCounts(runs.map((r) => r.id)),
    ]);
    return runs.map((r) => summarize(r, polling.get(this.taskQueueOf(r)) ?? true, childCounts.get(r.id) ?? 0));
  }
}

export function encodeCursor(c: { createdAt: string; id: string }): string {
  return Buffer.from(JSON.stringify([c.createdAt, c.id])).toString('base64url');
}

export function decodeCursor(cursor: string): { createdAt: string; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof createdAt === 'string' && typeof id === 'string') return { createdAt, id };
  } catch {
    // fall through
  }
  throw new ApiError(400, 'invalid_query', 'cursor is not one this server issued');
}
