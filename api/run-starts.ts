/**
 * Starting runs: a request resolved against the server's defaults, minimums and maxima, recorded
 * (idempotently, by Idempotency-Key) with its `run.queued` event, then its workflow started. A run
 * whose workflow could not start is removed again.
 */
import crypto from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Config } from '../shared/config';
import type { Logger } from '../shared/logger';
import type { Bus } from '../shared/bus/bus';
import { PricingTable } from '../shared/pricing';
import type { Store } from '../shared/store';
import type { RunRecord } from '../shared/store/runs';
import { RUN_WORKFLOW } from '../contract/workflow-messages';
import { eventKeys } from '../contract/keys';
import { OwnerAttribute, StatusAttribute } from '../contract/search-attributes';
import { DEMO_MODEL, stricterPolicy, type ApprovalPolicy, type RunInput, type RunLimits } from '../contract/run';
import type { agentRunWorkflow } from '../workflows';
import { AllowedHosts } from '../shared/net/allowed-hosts';
import { runInputFor } from '../shared/runs/run-input';
import type { RunWebhooks } from '../shared/store/webhooks';
import { ApiError, queueFull } from './errors';
import type { CreateRunBody } from '../contract/api';
import { redactUrl } from '../shared/redact';

const METADATA_MAX_BYTES = 16 * 1024;

export function newRunId(): string {
  // Time-ordered prefix keeps ids roughly sortable; 80 random bits keep them unguessable.
  return `run_${Date.now().toString(36)}${crypto.randomBytes(10).toString('hex')}`;
}

export class RunStarts {
  private readonly pricing: PricingTable;

  constructor(private readonly deps: { store: Store; client: Client; config: Config; logger: Logger; /** Announces new runs to runs feeds in this process. */ bus?: Bus }) {
    this.pricing = new PricingTable(deps.config.model.pricing);
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
    if (body.goal !== undefined && body.goal.length > config.api.maxGoalChars) {
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
    const approvals = stricterPolicy(requested, config.approvals.minPolicy);
    return { model, approvals, limits, approvalTimeoutSec, webhooks: this.webhooksFor(body) };
  }

  /** The deployment's webhooks and the run's own, each host allowed (the same rules as http_request). */
  private webhooksFor(body: Pick<CreateRunBody, 'webhooks'>): RunWebhooks {
    const { config } = this.deps;
    const own = body.webhooks ?? [];
    if (own.length && !config.webhooks.secret) throw new ApiError(400, 'invalid_request', 'webhooks: this server has no WEBHOOK_SECRET to sign them with');
    const allowed = new AllowedHosts(config.webhooks.allowedHosts);
    for (const hook of own) {
      const url = new URL(hook.url);
      // fetch refuses a URL with credentials in it: such a webhook would never be delivered.
      const refusal = url.username || url.password ? 'has user:password@ in it, which cannot be sent; check the webhook signature instead' : allowed.refusal(url, 'WEBHOOK_ALLOWED_HOSTS');
      if (refusal) throw new ApiError(400, 'invalid_request', `webhooks: ${redactUrl(hook.url)}: ${refusal}`);
    }
    return { to: [...config.webhooks.urls.map((url) => ({ url })), ...own.map((hook) => ({ ...hook, own: true as const }))], publicUrl: config.api.publicUrl ?? null };
  }

  /** The workflow input for a run, with the deployment's current execution settings. */
  runInput(run: RunRecord, approvalTimeoutSec: number): RunInput {
    return runInputFor(this.deps.config, run, approvalTimeoutSec);
  }

  async create(owner: string, body: CreateRunBody, idempotencyKey: string | undefined): Promise<{ run: RunRecord; replayed: boolean }> {
    const { store, client, config, logger } = this.deps;
    const resolved = this.resolveRequest(body);
    if (body.goal === undefined) throw new ApiError(400, 'invalid_request', 'goal is required');
    const goal = body.goal;
    const queued = await store.queueRun(
      {
        id: newRunId(),
        owner,
        goal,
        model: resolved.model,
        approvals: resolved.approvals,
        limits: resolved.limits,
        metadata: body.metadata ?? null,
        idempotencyKey: idempotencyKey ?? null,
        webhooks: resolved.webhooks,
      },
      config.runs.maxQueuedPerUser,
      [{ key: eventKeys.queued(), type: 'run.queued', data: { goal, model: resolved.model, approvals: resolved.approvals, limits: resolved.limits } }],
    );
    if ('queueFull' in queued) throw queueFull(queued.queueFull, config.runs.maxQueuedPerUser);
    const { run, created } = queued;
    if (created) this.deps.bus?.publish({ type: 'notify', runId: run.id, seq: run.lastSeq });
    if (!created && (run.goal !== goal || run.model !== resolved.model)) {
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
        staticSummary: `Agent run for ${owner}: ${goal.slice(0, 120)}`,
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
}
