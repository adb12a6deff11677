/**
 * Starting runs: a request resolved against the server's defaults, minimums and maxima, recorded
 * (idempotently, by Idempotency-Key) with its `run.queued` event and its workflow start owed, then
 * that start made (api/owed-starts.ts), the answer waiting for it at most START_RUN_WAIT_MS.
 */
import crypto from 'node:crypto';
import type { Config } from '../shared/config';
import type { Bus } from '../shared/bus/bus';
import { PricingTable } from '../shared/pricing';
import type { Store } from '../shared/store';
import type { RunRecord } from '../shared/store/runs';
import { eventKeys } from '../contract/keys';
import { DEMO_MODEL, stricterPolicy, type ApprovalPolicy, type RunLimits } from '../contract/run';
import { AllowedHosts } from '../shared/net/allowed-hosts';
import type { RunWebhooks } from '../shared/store/webhooks';
import { ApiError, queueFull } from './errors';
import type { CreateRunBody } from '../contract/api';
import type { AgentData, AgentVersion } from '../contract/agents';
import type { EventData } from '../contract/events';
import { AgentInputValidator } from '../shared/agents/agent-input';
import { redactUrl } from '../shared/redact';
import type { Principal } from '../contract/identity';
import type { Access } from './access';
import type { OwedStarts } from './owed-starts';

const METADATA_MAX_BYTES = 16 * 1024;
/** A structured input larger than this as JSON is refused (413): it is stored with the run and sent to the model. */
const INPUT_MAX_BYTES = 64 * 1024;
/** The title of a run given only structured input: its JSON, cut to this. */
const INPUT_TITLE_CHARS = 200;
const LIMIT_FIELDS = ['maxSteps', 'maxCostUsd', 'maxDurationSec'] as const satisfies readonly (keyof RunLimits)[];

/** What a run request carries, from POST /api/runs or a schedule. */
export type RunRequest = Pick<CreateRunBody, 'goal' | 'agent' | 'input' | 'model' | 'approvals' | 'limits' | 'approvalTimeoutSec' | 'webhooks'> & Partial<Pick<CreateRunBody, 'metadata'>>;

/** A run request resolved: what the run will be. `agent`: the version it is pinned to (null: a run that names no agent). */
export interface ResolvedRequest {
  goal: string;
  input: unknown;
  agent: AgentVersion | null;
  model: string;
  approvals: ApprovalPolicy;
  limits: RunLimits;
  approvalTimeoutSec: number;
  webhooks: RunWebhooks;
}

export function newRunId(): string {
  // Time-ordered prefix keeps ids roughly sortable; 80 random bits keep them unguessable.
  return `run_${Date.now().toString(36)}${crypto.randomBytes(10).toString('hex')}`;
}

export class RunStarts {
  private readonly pricing: PricingTable;
  private readonly inputs = new AgentInputValidator();

  constructor(
    private readonly deps: {
      store: Store;
      config: Config;
      access: Access;
      /** Makes the workflow starts of the runs committed here. */
      owedStarts: OwedStarts;
      /** Announces new runs to runs feeds in this process. */
      bus?: Bus;
    },
  ) {
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

  /**
   * The agent a request names, at the version new runs get (`store.agents.current`); null for a request that
   * names none (the default agent, as runs have always been). 400 `unknown_agent` for one never published.
   */
  async agentFor(body: Pick<CreateRunBody, 'agent'>): Promise<AgentVersion | null> {
    if (body.agent === undefined) return null;
    const current = await this.deps.store.agents.current(body.agent);
    if (!current) throw new ApiError(400, 'unknown_agent', `no agent ${JSON.stringify(body.agent)} is known here: no worker has published it (GET /api/agents lists the agents)`);
    return current.version;
  }

  /**
   * Resolves defaults, admin minimums and maxima — and, for a run of an agent, the agent's model, limits,
   * policy and input schema (`agent` from agentFor); throws 4xx for what is out of range.
   */
  resolveRequest(body: RunRequest, agent: AgentVersion | null = null): ResolvedRequest {
    const { config } = this.deps;
    if (body.goal !== undefined && body.goal.length > config.api.maxGoalChars) {
      throw new ApiError(413, 'goal_too_large', `goal is ${body.goal.length} characters; the limit is ${config.api.maxGoalChars}`);
    }
    if ('metadata' in body && body.metadata && Buffer.byteLength(JSON.stringify(body.metadata)) > METADATA_MAX_BYTES) {
      throw new ApiError(413, 'metadata_too_large', `metadata must be at most ${METADATA_MAX_BYTES} bytes of JSON`);
    }
    const { goal, input } = this.goalAndInput(body, agent);
    const data = agent?.data;
    if (body.model !== undefined && data && !data.model.allowed.includes(body.model)) {
      throw new ApiError(400, 'unknown_model', `agent ${data.name} runs on ${data.model.allowed.map((m) => JSON.stringify(m)).join(', ')}, not ${JSON.stringify(body.model)}`);
    }
    const model = body.model ?? data?.model.default ?? config.model.defaultModel;
    this.checkModel(model);
    const limits = this.limitsFor(body.limits, data);
    const approvalTimeoutSec = body.approvalTimeoutSec ?? config.approvals.timeoutSec;
    if (approvalTimeoutSec > config.approvals.maxTimeoutSec) {
      throw new ApiError(400, 'limit_out_of_range', `approvalTimeoutSec is ${approvalTimeoutSec}; this server allows at most ${config.approvals.maxTimeoutSec}`);
    }
    // A run may ask for more approvals than its agent's policy or the admin minimum, never fewer.
    const requested = data ? stricterPolicy(data.approvals, body.approvals ?? data.approvals) : (body.approvals ?? config.approvals.defaultPolicy);
    const approvals = stricterPolicy(requested, config.approvals.minPolicy);
    return { goal, input, agent, model, approvals, limits, approvalTimeoutSec, webhooks: this.webhooksFor(body) };
  }

  /**
   * An agent with an input schema takes `input` (validated against it) and, optionally, a goal as the run's
   * title; any other run takes a goal and no input.
   */
  private goalAndInput(body: RunRequest, agent: AgentVersion | null): { goal: string; input: unknown } {
    const who = agent ? `agent ${agent.name}` : 'a run that names no agent';
    const schema = agent?.data.inputSchema ?? null;
    // `input: null` is no input (a form that has none to give).
    const given = body.input !== undefined && body.input !== null;
    if (!agent || !schema) {
      if (given) throw new ApiError(400, 'invalid_input', `${who} takes no structured input: give a goal instead`);
      if (body.goal === undefined) throw new ApiError(400, 'invalid_request', `goal is required: ${who} takes a goal`, [{ path: 'goal', message: 'is required' }]);
      return { goal: body.goal, input: null };
    }
    if (!given) throw new ApiError(400, 'invalid_input', `agent ${agent.name} takes structured input: give \`input\` (its JSON Schema is in GET /api/agents)`, [{ path: '', message: 'is required' }]);
    if (Buffer.byteLength(JSON.stringify(body.input)) > INPUT_MAX_BYTES) {
      throw new ApiError(413, 'input_too_large', `input must be at most ${INPUT_MAX_BYTES} bytes of JSON`);
    }
    const problems = this.inputs.problems(agent.name, agent.version, schema, body.input);
    if (problems.length) {
      throw new ApiError(400, 'invalid_input', `input does not match agent ${agent.name}'s input schema: ${problems.map((p) => `${p.path || '(input)'} ${p.message}`).join('; ')}`, problems);
    }
    return { goal: body.goal ?? JSON.stringify(body.input).slice(0, INPUT_TITLE_CHARS), input: body.input };
  }

  /**
   * Each cap: what the request asks, else the agent's default, else the server's; at most the stricter of the
   * agent's maximum and the server's (a default above it is brought down to it, an asked value is refused).
   */
  private limitsFor(asked: Partial<RunLimits> | undefined, agent: AgentData | undefined): RunLimits {
    const r = this.deps.config.runs;
    const server: RunLimits = { maxSteps: r.maxStepsLimit, maxCostUsd: r.maxCostUsdLimit, maxDurationSec: r.maxDurationSecLimit };
    const defaults: RunLimits = { maxSteps: r.defaultMaxSteps, maxCostUsd: r.defaultMaxCostUsd, maxDurationSec: r.defaultMaxDurationSec };
    const limits = {} as RunLimits;
    for (const name of LIMIT_FIELDS) {
      const agentMax = agent?.limits.max[name];
      const byAgent = agentMax !== undefined && agentMax < server[name];
      const max = byAgent ? agentMax : server[name];
      const value = asked?.[name];
      if (value !== undefined && value > max) {
        throw new ApiError(400, 'limit_out_of_range', `limits.${name} is ${value}; ${byAgent ? `agent ${agent!.name}` : 'this server'} allows at most ${max}`);
      }
      limits[name] = value ?? Math.min(agent?.limits.defaults[name] ?? defaults[name], max);
    }
    return limits;
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

  /** The data of the agent version a run is pinned to; undefined for a run that names no agent. */
  async agentDataOf(run: Pick<RunRecord, 'agent' | 'agentVersion'>): Promise<AgentData | undefined> {
    if (!run.agent || !run.agentVersion) return undefined;
    return (await this.deps.store.agents.version(run.agent, run.agentVersion))?.data;
  }

  async create(caller: Principal, body: CreateRunBody, idempotencyKey: string | undefined): Promise<{ run: RunRecord; replayed: boolean }> {
    const { store, config } = this.deps;
    const owner = caller.user;
    const team = this.deps.access.teamForNewRun(caller, body.team);
    const resolved = this.resolveRequest(body, await this.agentFor(body));
    const { goal, agent } = resolved;
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
        agent: agent?.name ?? null,
        agentVersion: agent?.version ?? null,
        input: resolved.input,
        team,
        startOwed: true,
        approvalTimeoutSec: resolved.approvalTimeoutSec,
      },
      config.runs.maxQueuedPerUser,
      [{ key: eventKeys.queued(), type: 'run.queued', data: queuedEventData(resolved) }],
    );
    if ('queueFull' in queued) throw queueFull(queued.queueFull, config.runs.maxQueuedPerUser);
    const { run, created } = queued;
    if (created) this.deps.bus?.publish({ type: 'notify', runId: run.id, seq: run.lastSeq });
    if (!created && (run.goal !== goal || run.model !== resolved.model || run.agent !== (agent?.name ?? null) || run.team !== team || !sameJson(run.input, resolved.input))) {
      throw new ApiError(409, 'idempotency_key_reused', 'this Idempotency-Key was already used for a different request');
    }

    // A replayed request's run stays on the version it was pinned to, whatever is current now. Its start may still
    // be owed: the replay joins it (or makes it, when the first request's process has gone).
    if (run.startOwed) await this.deps.owedStarts.beginWithin(run, config.api.startRunWaitMs, created ? agent?.data : undefined);
    return { run, replayed: !created };
  }
}

/** `run.queued`'s data: what the run was asked to be, with its agent and version when it names one. */
export function queuedEventData(r: Pick<ResolvedRequest, 'goal' | 'model' | 'approvals' | 'limits'> & { agent: Pick<AgentVersion, 'name' | 'version'> | null }): EventData<'run.queued'> {
  return { goal: r.goal, model: r.model, approvals: r.approvals, limits: r.limits, ...(r.agent && { agent: r.agent.name, agentVersion: r.agent.version }) };
}

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
