/**
 * What the API does with runs: create (idempotently), read (progress from the workflow, facts
 * from the database), list, cancel. The HTTP layer only parses and shapes responses.
 */
import crypto from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Config } from '../shared/config';
import type { Logger } from '../shared/logger';
import type { Bus } from '../shared/bus/bus';
import { PricingTable } from '../shared/pricing';
import type { Store } from '../shared/store';
import type { RunRecord } from '../shared/store/runs';
import { RUN_WORKFLOW, pauseSignal, progressQuery, resumeSignal } from '../contract/workflow-messages';
import { eventKeys } from '../contract/keys';
import { OwnerAttribute, StatusAttribute } from '../contract/search-attributes';
import { DEMO_MODEL, isTerminalStatus, type ApprovalPolicy, type Progress, type RunInput, type RunLimits, type RunStatus, type WaitingFor } from '../contract/run';
export type { RunSummary, RunView } from '../contract/api';
import type { agentRunWorkflow } from '../workflows';
import type { Access } from './access';
import type { RunSummary, RunView, WorkerState } from '../contract/api';
import { AllowedHosts } from '../shared/net/allowed-hosts';
import { runInputFor } from '../shared/runs/run-input';
import type { RunWebhooks } from '../shared/store/webhooks';
import { ApiError } from './errors';
import { TaskQueuePollers } from './task-queue-pollers';
import { dailyBudgetFor, utcDay } from '../shared/capacity/model-limits';
import type { CreateRunBody } from '../contract/api';

const POLICY_ORDER: ApprovalPolicy[] = ['none', 'write', 'all'];
const METADATA_MAX_BYTES = 16 * 1024;

export function newRunId(): string {
  // Time-ordered prefix keeps ids roughly sortable; 80 random bits keep them unguessable.
  return `run_${Date.now().toString(36)}${crypto.randomBytes(10).toString('hex')}`;
}

/** A run as lists show it; `workersPolling`: whether any worker polls the task queue (unfinished runs need one). */
export function summarize(run: RunRecord, workersPolling = true): RunSummary {
  return {
    id: run.id,
    goal: run.goal,
    model: run.model,
    status: run.status,
    statusDetail: run.statusDetail,
    waitingFor: waitingForOf(run),
    usage: run.usage,
    error: run.error,
    lastSeq: run.lastSeq,
    scheduleId: run.scheduleId,
    turn: run.turn,
    worker: isTerminalStatus(run.status) ? null : workersPolling ? 'available' : 'unavailable',
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
    endedAt: run.endedAt,
  };
}

/** What the run waits for, as the workflow last recorded it with the run's current status (rows written before it was recorded: nothing). */
function waitingForOf(run: RunRecord): WaitingFor | null {
  return run.progress?.status === run.status ? (run.progress.waitingFor ?? null) : null;
}

export class RunService {
  private readonly pricing: PricingTable;

  private readonly pollers: TaskQueuePollers;

  constructor(
    private readonly deps: { store: Store; client: Client; config: Config; logger: Logger; access: Access; /** Announces new runs to runs feeds in this process. */ bus?: Bus },
  ) {
    this.pricing = new PricingTable(deps.config.model.pricing);
    this.pollers = new TaskQueuePollers({ client: deps.client, namespace: deps.config.temporal.namespace, taskQueue: deps.config.temporal.taskQueue, logger: deps.logger });
  }

  /**
   * A model this server can serve, or 400 `unknown_model` now rather than a run that fails later:
   * it needs the API key, and a price (or an explicit ALLOWED_MODELS entry) so its cost is known.
   */
  private checkModel(model: string): void {
    const { config } = this.deps;
    if (model === DEMO_MODEL) return;
    if (!config.model.apiKey) throw new ApiError(400, 'unknown_model', `model ${model} needs ANTHROPIC_API_KEY on the server; use "demo" or configure a key`);
    if (!this.pricing.has(model) && !config.model.allowedModels.includes(model)) {
      throw new ApiError(400, 'unknown_model', `model ${JSON.stringify(model)} is not one this server knows: add it to MODEL_PRICING or ALLOWED_MODELS`);
    }
  }

  /** Resolves defaults, admin minimums and maxima; throws 400s for values out of range. */
  resolveRequest(body: Pick<CreateRunBody, 'goal' | 'model' | 'approvals' | 'limits' | 'approvalTimeoutSec' | 'webhooks' | 'metadata'>): { model: string; approvals: ApprovalPolicy; limits: RunLimits; approvalTimeoutSec: number; webhooks: RunWebhooks } {
    const { config } = this.deps;
    if (body.goal.length > config.api.maxGoalChars) {
      throw new ApiError(413, 'goal_too_large', `goal is ${body.goal.length} characters; the limit is ${config.api.maxGoalChars}`);
    }
    if (body.metadata && Buffer.byteLength(JSON.stringify(body.metadata)) > METADATA_MAX_BYTES) {
      throw new ApiError(413, 'metadata_too_large', `metadata must be at most ${METADATA_MAX_BYTES} bytes of JSON`);
    }
    const model = body.model ?? config.model.defaultModel;
    this.checkModel(model);
    const r = config.runs;
    const limits: RunLimits = {
      maxSteps: body.limits?.maxSteps ?? r.defaultMaxSteps,
      maxCostUsd: body.limits?.maxCostUsd ?? r.defaultMaxCostUsd,
      maxDurationSec: body.limits?.maxDurationSec ?? r.defaultMaxDurationSec,
    };
    const over = (name: string, value: number, max: number) => {
      if (value > max) throw new ApiError(400, 'limit_out_of_range', `limits.${name} is ${value}; this server allows at most ${max}`);
    };
    over('maxSteps', limits.maxSteps, r.maxStepsLimit);
    over('maxCostUsd', limits.maxCostUsd, r.maxCostUsdLimit);
    over('maxDurationSec', limits.maxDurationSec, r.maxDurationSecLimit);
    const approvalTimeoutSec = body.approvalTimeoutSec ?? config.approvals.timeoutSec;
    if (approvalTimeoutSec > config.approvals.maxTimeoutSec) {
      throw new ApiError(400, 'limit_out_of_range', `approvalTimeoutSec is ${approvalTimeoutSec}; this server allows at most ${config.approvals.maxTimeoutSec}`);
    }
    // A run may ask for more approvals than the admin minimum, never fewer.
    const requested = body.approvals ?? config.approvals.defaultPolicy;
    const approvals = POLICY_ORDER[Math.max(POLICY_ORDER.indexOf(requested), POLICY_ORDER.indexOf(config.approvals.minPolicy))]!;
    return { model, approvals, limits, approvalTimeoutSec, webhooks: this.webhooksFor(body) };
  }

  /** The deployment's webhooks and the run's own, each host allowed (the same rules as http_request). */
  private webhooksFor(body: Pick<CreateRunBody, 'webhooks'>): RunWebhooks {
    const { config } = this.deps;
    const own = body.webhooks ?? [];
    if (own.length && !config.webhooks.secret) throw new ApiError(400, 'invalid_request', 'webhooks: this server has no WEBHOOK_SECRET to sign them with');
    const allowed = new AllowedHosts(config.webhooks.allowedHosts);
    for (const hook of own) {
      const refusal = allowed.refusal(new URL(hook.url), 'WEBHOOK_ALLOWED_HOSTS');
      if (refusal) throw new ApiError(400, 'invalid_request', `webhooks: ${hook.url}: ${refusal}`);
    }
    return { to: [...config.webhooks.urls.map((url) => ({ url })), ...own], publicUrl: config.api.publicUrl ?? null };
  }

  /** The workflow input for a run, with the deployment's current execution settings. */
  runInput(run: RunRecord, approvalTimeoutSec: number): RunInput {
    return runInputFor(this.deps.config, run, approvalTimeoutSec);
  }

  async create(owner: string, body: CreateRunBody, idempotencyKey: string | undefined): Promise<{ run: RunRecord; replayed: boolean }> {
    const { store, client, config, logger } = this.deps;
    const resolved = this.resolveRequest(body);
    const earlier = idempotencyKey ? await store.runs.findByIdempotencyKey(owner, idempotencyKey) : undefined;
    if (!earlier) {
      const queued = await store.runs.countQueued(owner);
      if (queued >= config.runs.maxQueuedPerUser) {
        throw new ApiError(429, 'queue_full', `you already have ${queued} runs waiting to start (the limit is ${config.runs.maxQueuedPerUser}); try again when some have started`);
      }
    }
    const { run, created } = await store.transaction(async (tx) => {
      const inserted = await tx.runs.insert({
        id: newRunId(),
        owner,
        goal: body.goal,
        model: resolved.model,
        approvals: resolved.approvals,
        limits: resolved.limits,
        metadata: body.metadata ?? null,
        idempotencyKey: idempotencyKey ?? null,
        webhooks: resolved.webhooks,
      });
      if (inserted.created) {
        await tx.events.append(inserted.run.id, [
          {
            key: eventKeys.queued(),
            type: 'run.queued',
            data: { goal: body.goal, model: resolved.model, approvals: resolved.approvals, limits: resolved.limits },
          },
        ]);
      }
      return inserted;
    });
    if (created) this.deps.bus?.publish({ type: 'notify', runId: run.id, seq: run.lastSeq });
    if (!created && (run.goal !== body.goal || run.model !== resolved.model)) {
      throw new ApiError(409, 'idempotency_key_reused', 'this Idempotency-Key was already used for a different request');
    }

    try {
      await client.withDeadline(Date.now() + config.api.startRunTimeoutMs, () => client.workflow.start<typeof agentRunWorkflow>(RUN_WORKFLOW, {
        workflowId: run.id,
        taskQueue: config.temporal.taskQueue,
        args: [this.runInput(run, resolved.approvalTimeoutSec)],
        typedSearchAttributes: [
          { key: StatusAttribute, value: 'queued' },
          { key: OwnerAttribute, value: owner },
        ],
        staticSummary: `Agent run for ${owner}: ${body.goal.slice(0, 120)}`,
      }));
    } catch (err) {
      // A replayed request whose first attempt already started the workflow: nothing to do.
      if (err instanceof WorkflowExecutionAlreadyStartedError) return { run, replayed: !created };
      logger.error({ err, runId: run.id }, 'could not start the run workflow');
      // Never leave a half-created run behind: the row goes if its workflow could not start.
      if (created) await store.transaction(async (tx) => tx.runs.delete(run.id));
      throw new ApiError(503, 'temporal_unavailable', 'could not start the run: Temporal is unreachable; try again');
    }
    return { run, replayed: !created };
  }

  /** The run, if the user may see it (its owner, or an approver); 404 otherwise. */
  async getVisible(user: string, id: string): Promise<RunRecord> {
    const run = await this.deps.store.runs.get(id);
    this.deps.access.assertVisible(user, run);
    return run;
  }

  /** The run, if the user owns it; 404 if they cannot see it, 403 if they see but do not own it. */
  async getOwned(user: string, id: string): Promise<RunRecord> {
    const run = await this.deps.store.runs.get(id);
    this.deps.access.assertOwner(user, run);
    return run;
  }

  async view(user: string, id: string): Promise<RunView> {
    let run = await this.getVisible(user, id);
    let progress = run.progress ?? this.progressFromRecord(run);
    let worker: WorkerState | null = null;
    if (!isTerminalStatus(run.status)) {
      const live = await this.queryProgress(id);
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
      progress = { ...progress, statusDetail: progress.statusDetail ? `${progress.statusDetail} (no worker is answering)` : 'no worker is answering' };
    }
    return {
      ...progress,
      waitingFor: progress.waitingFor ?? null, // progress recorded before it carried one
      id: run.id,
      goal: run.goal,
      owner: run.owner,
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

  async list(owner: string, q: { statuses?: RunStatus[]; scheduleId?: string; goalContains?: string; limit: number; cursor?: string }): Promise<{ runs: RunSummary[]; nextCursor: string | null }> {
    const before = q.cursor ? decodeCursor(q.cursor) : undefined;
    const rows = await this.deps.store.runs.list({ owner, statuses: q.statuses, scheduleId: q.scheduleId, goalContains: q.goalContains, limit: q.limit + 1, before });
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    const polling = page.some((r) => !isTerminalStatus(r.status)) ? await this.pollers.anyPolling() : true;
    return {
      runs: page.map((r) => summarize(r, polling)),
      nextCursor: rows.length > q.limit && last ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : null,
    };
  }

  /** Pause takes effect at the next step boundary; resume lets a paused run carry on. */
  async control(user: string, id: string, action: 'pause' | 'resume'): Promise<RunRecord> {
    const run = await this.getOwned(user, id);
    if (isTerminalStatus(run.status)) throw new ApiError(409, 'run_not_active', `run is already ${run.status}`);
    const handle = this.deps.client.workflow.getHandle(id);
    try {
      if (action === 'pause') await handle.signal(pauseSignal, { by: user });
      else await handle.signal(resumeSignal, { by: user });
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new ApiError(409, 'run_not_active', 'run is no longer running');
      throw err;
    }
    return run;
  }

  async cancel(user: string, id: string): Promise<RunRecord> {
    const run = await this.getOwned(user, id);
    if (isTerminalStatus(run.status)) throw new ApiError(409, 'run_not_active', `run is already ${run.status}`);
    try {
      await this.deps.client.workflow.getHandle(id).cancel();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new ApiError(409, 'run_not_active', 'run is no longer running');
      throw err;
    }
    return run;
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
