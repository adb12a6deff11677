/**
 * The HTTP API's shapes as zod schemas: what requests may carry and what responses hold. The server
 * validates requests with them, the OpenAPI document is generated from them, and the client and web
 * UI take their types from them. Response schemas are checked against the TypeScript types the
 * server builds (`Same` below), so neither can drift from the other without a compile error.
 */
import { WORKSPACE_RELEASE_REASONS, WORKSPACE_STATES } from './workspace';
import { AGENT_NAME, TOOL_APPROVALS, TOOL_SOURCES } from './agents';
import { z } from 'zod';
import { API_ERROR_CODES, MODEL_CALL_ERROR_CODES, RUN_ERROR_CODES, type LiveErrorCode } from './errors';
import { ATTENTION_KINDS, DELIVERY_STATUSES, EVENT_TYPES, LIMIT_NAMES, TOOL_REFUSALS, WEBHOOK_EVENT_TYPES, type EventDataMap, type RunEvent } from './events';
import { ROLES, isTeamName } from './identity';
import { APPROVAL_KINDS, APPROVAL_POLICIES, APPROVAL_STATUSES, CAPACITY_LIMITS, DECISION_CHANNELS, DECISIONS, FOLLOW_UP_STATUSES, PAUSE_CAUSES, RISKS, RUN_STATUSES, WAITING_FOR, WAITING_PAGE, type PendingApproval, type PendingInput, type Progress, type RunStatus } from './run';

// ───────────────────────────── building blocks ─────────────────────────────

export const runStatusSchema = z.enum(RUN_STATUSES).meta({ id: 'RunStatus', description: 'Where a run is. completed, failed and cancelled are final.' });
export const approvalPolicySchema = z.enum(APPROVAL_POLICIES).meta({
  id: 'ApprovalPolicy',
  description: 'Which tool calls wait for a human: none, write (and irreversible), or all.',
});
export const riskSchema = z.enum(RISKS).meta({ id: 'Risk' });
export const approvalKindSchema = z.enum(APPROVAL_KINDS).meta({ id: 'ApprovalKind' });
export const approvalStatusSchema = z.enum(APPROVAL_STATUSES).meta({ id: 'ApprovalStatus' });
export const decisionChannelSchema = z.enum(DECISION_CHANNELS).meta({ id: 'DecisionChannel' });
export const decisionSchema = z.enum(DECISIONS).meta({ id: 'Decision' });
export const workerStateSchema = z.enum(['available', 'unavailable']).meta({ id: 'WorkerState' });
export const limitNameSchema = z.enum(LIMIT_NAMES).meta({ id: 'LimitName' });

const isoTime = z.string().meta({ format: 'date-time' });

export const usageSchema = z
  .object({
    inputTokens: z.number().describe('Uncached input tokens'),
    outputTokens: z.number(),
    costUsd: z.number().describe('Input, output and prompt-cache tokens at their own rates'),
    cacheReadTokens: z.number().optional().describe('Input read from the prompt cache'),
    cacheWriteTokens: z.number().optional().describe('Input written to the prompt cache'),
  })
  .meta({ id: 'Usage' });
export const capacityLimitSchema = z.enum(CAPACITY_LIMITS).meta({ id: 'CapacityLimit' });
/** What `maxSteps` counts: model turns, not tool calls. */
export const MAX_STEPS_DESCRIPTION = "Most model turns the run takes, over all its segments and laps. A turn is one model call (its retries included) and the tool calls it asks for; the relay's summaries are not turns.";
export const runLimitsSchema = z
  .object({ maxSteps: z.number().int().meta({ description: MAX_STEPS_DESCRIPTION }), maxCostUsd: z.number(), maxDurationSec: z.number().int() })
  .meta({ id: 'RunLimits' });
export const runErrorSchema = z
  .object({ code: z.enum(RUN_ERROR_CODES).meta({ description: 'Stable snake_case code: branch on it. An unexpected error is internal.' }), message: z.string() })
  .meta({ id: 'RunError' });

/** `{ error: { code, message, details? } }`: every non-2xx answer of the API. */
export const errorBodySchema = z
  .object({
    error: z.object({
      code: z.enum(API_ERROR_CODES).meta({ description: 'Stable snake_case code: branch on it.' }),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .meta({ id: 'Error' });

/** One complaint of an agent's input schema, as a 400 `invalid_input` lists them in `details`. */
export interface InputProblem {
  /** Where in the input: a JSON Pointer (`/items/0/name`), `` for the whole input. */
  path: string;
  message: string;
}

export const runLinksSchema = z.object({ self: z.string(), events: z.string(), stream: z.string(), cancel: z.string() }).meta({ id: 'RunLinks' });

// ───────────────────────────── requests ─────────────────────────────

/** A string with something in it besides white space. */
const nonBlank = (name: string) => z.string().refine((s) => s.trim().length > 0, `${name} must not be empty`);

/** Deeper JSON than this in `metadata` is refused (it is stored and shown, never walked by code). */
export const MAX_METADATA_DEPTH = 32;

/** How deep objects and arrays nest in a JSON value, counted without recursion (no stack to overflow). */
export function nestingDepth(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    deepest = Math.max(deepest, depth);
    if (deepest > MAX_METADATA_DEPTH) return deepest;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** The limits a request may ask for: each optional, each checked against the server's maxima. */
const limitsRequest = z
  .object({
    maxSteps: z.number().int().positive().optional().meta({ description: MAX_STEPS_DESCRIPTION }),
    maxCostUsd: z.number().positive().finite().optional(),
    maxDurationSec: z.number().int().positive().optional(),
  })
  .strict();

export const webhookSchema = z
  .object({
    url: z.url({ protocol: /^https?$/ }).max(2048),
    events: z.array(z.enum(WEBHOOK_EVENT_TYPES)).min(1).optional().meta({ description: 'Only these events (default: all of them).' }),
  })
  .strict()
  .meta({ id: 'Webhook' });
export type WebhookSubscription = z.infer<typeof webhookSchema>;

/** A team's name: lower case letters, digits, `-` and `_`, at most 63 characters. */
export const teamNameSchema = z.string().refine(isTeamName, 'a team name is lower case letters, digits, - and _ (at most 63)');

/** What a run is asked to be: the fields POST /api/runs and a schedule (whose firings start such runs) share. */
const runRequestShape = {
  team: teamNameSchema
    .nullable()
    .optional()
    .meta({
      description:
        'The team the run (or the schedule and its runs) belongs to; the caller must hold a role there that may steer runs (member or admin), else 403. ' +
        '`null`: a personal run. Omitted: the one team where the caller may steer, if exactly one; none: a personal run; several: 400 `team_required`.',
    }),
  goal: nonBlank('goal')
    .optional()
    .meta({ description: "What the run is to do. Required unless the agent takes structured `input`; then it is the run's title (default: the input's JSON, cut to 200 characters)." }),
  agent: z
    .string()
    .regex(AGENT_NAME, 'agent must be an agent name: a lowercase letter, then up to 63 of a-z, 0-9, _ and -')
    .optional()
    .meta({ description: 'The agent that runs (GET /api/agents lists them). Absent: the built-in default agent, as runs have always been.' }),
  input: z
    .unknown()
    .refine((v) => nestingDepth(v) <= MAX_METADATA_DEPTH, `input may nest at most ${MAX_METADATA_DEPTH} levels`)
    .optional()
    .meta({ description: "The run's structured input, for an agent with an input schema: validated against the schema of the agent's current version." }),
  model: z.string().min(1).max(100).optional(),
  approvals: approvalPolicySchema.optional(),
  limits: limitsRequest.optional(),
  approvalTimeoutSec: z.number().int().positive().optional(),
  webhooks: z
    .array(webhookSchema)
    .max(5)
    .optional()
    .meta({ description: 'URLs told of this run’s events (besides WEBHOOK_URLS); hosts must be in WEBHOOK_ALLOWED_HOSTS.' }),
};

export const createRunBody = z
  .object({
    ...runRequestShape,
    metadata: z
      .record(z.string(), z.unknown())
      .refine((m) => nestingDepth(m) <= MAX_METADATA_DEPTH, `metadata may nest at most ${MAX_METADATA_DEPTH} levels`)
      .optional(),
  })
  .strict()
  .meta({ id: 'CreateRunRequest' });
export type CreateRunBody = z.infer<typeof createRunBody>;

export const OVERLAP_POLICIES = ['skip', 'buffer_one', 'allow_all'] as const;

/** A Temporal Schedule that starts a run on every firing: `cron` (5 fields) or `everySec`, in `timezone`. */
export const createScheduleBody = z
  .object({
    name: nonBlank('name').pipe(z.string().max(200)),
    ...runRequestShape,
    cron: z.string().max(200).optional().meta({ description: 'Five-field cron, e.g. `0 9 * * 1-5`.' }),
    everySec: z.number().int().min(1).optional(),
    timezone: z.string().max(100).optional().meta({ description: 'IANA name, e.g. `Europe/Lisbon`; default UTC.' }),
    overlap: z.enum(OVERLAP_POLICIES).optional().meta({ description: 'When a firing comes while the last run still runs (default skip).' }),
    sharedWorkspace: z
      .boolean()
      .optional()
      .meta({ description: "Each run starts from the workspace its predecessor left, restored onto a worker as the firing starts it." }),
  })
  .strict()
  .refine((b) => (b.cron === undefined) !== (b.everySec === undefined), { message: 'give exactly one of cron and everySec', path: ['cron'] })
  .meta({ id: 'CreateScheduleRequest' });
export type CreateScheduleBody = z.infer<typeof createScheduleBody>;

export const scheduleViewSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    goal: z.string(),
    agent: z.string().nullable().meta({ description: "The agent each firing's run is, at the agent's version current when it fires; null: none named." }),
    input: z.unknown().meta({ description: "Each firing's structured input (null: the runs take the goal)." }),
    owner: z.string(),
    team: z.string().nullable().meta({ description: "The team the schedule and its firings' runs belong to; null: personal." }),
    createdWithKey: z
      .string()
      .nullable()
      .meta({ description: 'The id of the API key the schedule was created with: once that key is revoked or expires, each firing is skipped (`key_revoked`, `key_expired`). Null: created by a signed-in user or a token, and unaffected by any key.' }),
    cron: z.string().nullable(),
    everySec: z.number().int().nullable(),
    timezone: z.string(),
    overlap: z.enum(OVERLAP_POLICIES),
    sharedWorkspace: z.boolean(),
    paused: z.boolean(),
    nextFiringsAt: z.array(isoTime),
    lastFiredAt: isoTime.nullable(),
    createdAt: isoTime,
  })
  .meta({ id: 'Schedule' });
export type ScheduleView = z.infer<typeof scheduleViewSchema>;
export const scheduleListSchema = z.object({ schedules: z.array(scheduleViewSchema) }).meta({ id: 'ScheduleList' });

export const decisionBody = z
  .object({ decision: decisionSchema, comment: z.string().max(2000).optional() })
  .strict()
  .meta({ id: 'DecisionRequest' });
export type DecisionBody = z.infer<typeof decisionBody>;

export const followUpBody = z
  .object({
    text: nonBlank('text'),
    limits: limitsRequest.optional().meta({ description: 'Raise the run’s caps (within the server’s maxima), e.g. to continue a run that ended on a limit.' }),
  })
  .strict()
  .meta({ id: 'FollowUpRequest' });
export type FollowUpBody = z.infer<typeof followUpBody>;

export const inputBody = z
  .object({
    text: z.string().min(1, 'text must not be empty'),
    requestId: z.string().optional().meta({ description: "The question answered: one of the run's own or of a run below it in its tree (`subagentQuestions`). Absent: the run's own open question." }),
  })
  .strict()
  .meta({ id: 'InputRequest' });
export type InputBody = z.infer<typeof inputBody>;

/** A query parameter holding a whole number in [min, max], `def` when absent. */
const intParam = (name: string, min: number, max: number, def: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined) return def;
      if (!/^\d+$/.test(v)) {
        ctx.addIssue({ code: 'custom', message: `${name} must be a whole number` });
        return z.NEVER;
      }
      const n = Number(v);
      if (n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `${name} must be between ${min} and ${max}` });
        return z.NEVER;
      }
      return n;
    })
    .meta({ description: `whole number from ${min} to ${max}; default ${def}` });

export const listRunsQuery = z
  .object({
    status: z
      .string()
      .optional()
      .transform((v, ctx) => {
        if (v === undefined || v === '') return undefined;
        const statuses = v.split(',').map((s) => s.trim());
        const bad = statuses.filter((s) => !(RUN_STATUSES as readonly string[]).includes(s));
        if (bad.length) {
          ctx.addIssue({ code: 'custom', message: `unknown status ${bad.join(', ')}; use one of ${RUN_STATUSES.join(', ')}` });
          return z.NEVER;
        }
        return statuses as RunStatus[];
      })
      .meta({ description: `comma-separated statuses: ${RUN_STATUSES.join(', ')}` }),
    limit: intParam('limit', 1, 100, 20),
    cursor: z.string().max(500).optional().meta({ description: 'nextCursor of the previous page' }),
    scheduleId: z.string().max(100).optional().meta({ description: 'Only the runs this schedule started' }),
    q: z.string().max(200).optional().meta({ description: 'Only runs whose goal contains this text (case-insensitive)' }),
    team: teamNameSchema.optional().meta({ description: "Only this team's runs (403 unless the caller may read them)" }),
    children: z.literal('include').optional().meta({ description: '`include`: child runs (sub-agents) too; by default a run tree is listed as its root' }),
  })
  .strict();

export const inboxQuery = z
  .object({
    limit: intParam('limit', 1, WAITING_PAGE.max, WAITING_PAGE.default),
    cursor: z.string().max(500).optional().meta({ description: 'nextCursor of the previous page' }),
  })
  .strict();

export const approvalsQuery = z
  .object({
    status: z.literal('pending').optional(),
    limit: intParam('limit', 1, WAITING_PAGE.max, WAITING_PAGE.default),
    cursor: z.string().max(500).optional().meta({ description: 'nextCursor of the previous page' }),
  })
  .strict();

export const eventsQuery = z
  .object({
    after: intParam('after', 0, Number.MAX_SAFE_INTEGER, 0),
    limit: intParam('limit', 1, 1000, 100),
  })
  .strict();

// ───────────────────────────── responses ─────────────────────────────

export const pendingApprovalSchema = z
  .object({
    approvalId: z.string(),
    kind: approvalKindSchema,
    tool: z.string().nullable(),
    input: z.unknown(),
    risk: riskSchema.nullable(),
    reason: z.string(),
    requestedAt: isoTime,
    expiresAt: isoTime,
  })
  .meta({ id: 'PendingApproval' });

export const pendingInputSchema = z
  .object({ requestId: z.string(), toolUseId: z.string(), question: z.string(), requestedAt: isoTime, expiresAt: isoTime })
  .meta({ id: 'PendingInput' });

const waitingForSchema = z
  .enum(WAITING_FOR)
  .nullable()
  .meta({
    description:
      'What the run waits for: `slot` (one of its owner\'s concurrency slots), `capacity` (room in the model\'s shared rate limits), `human` (an approval, an answer, a resume), `budget` (the owner\'s next daily model budget); null while it steps and once it has ended. Branch on this, not on `statusDetail`, which says the same in words.',
  });

/** What a run is of its agent: the fields run views and summaries share. */
const agentRunShape = {
  agent: z.string().nullable().meta({ description: 'The agent the run is; null: a run that named none (the built-in default agent).' }),
  agentVersion: z.string().nullable().meta({ description: 'The agent version the run is pinned to (null with `agent` null).' }),
  input: z.unknown().meta({ description: "The run's structured input (null: the run took a goal)." }),
  output: z.unknown().meta({ description: "The run's validated structured output: null until a run of an agent with an output schema completed." }),
};

const progressShape = {
  runId: z.string(),
  status: runStatusSchema,
  statusDetail: z.string().nullable(),
  waitingFor: waitingForSchema,
  model: z.string(),
  turn: z.number().int(),
  segment: z.number().int(),
  usage: usageSchema,
  limits: runLimitsSchema,
  pendingApprovals: z.array(pendingApprovalSchema),
  pendingInput: pendingInputSchema.nullable(),
  error: runErrorSchema.nullable(),
  lastEventAt: isoTime.nullable(),
};

/**
 * Which sub-agent asks, on a request (approval or question) raised in a child run and shown higher up its tree
 * (the parent's and root's view, the inbox, webhooks): typed, so a client labels it as it likes.
 */
export const subagentOriginSchema = z
  .object({
    runId: z.string().meta({ description: 'The child run that asks (decide or answer it there, or from any run above it).' }),
    agent: z.string().nullable().meta({ description: "The child run's agent." }),
    parentRunId: z.string().meta({ description: 'The run that delegated to the child.' }),
    toolUseId: z.string().nullable().meta({ description: "The parent's call that delegated to the child (the tool_use id)." }),
    rootRunId: z.string().meta({ description: 'The root of the run tree.' }),
    depth: z.number().int().meta({ description: "The child's depth in its tree (the root: 0)." }),
  })
  .meta({ id: 'SubagentOrigin' });
export type SubagentOrigin = z.infer<typeof subagentOriginSchema>;

/** A pending approval of a run below this one in its tree, with which sub-agent asks. */
export const subagentApprovalSchema = pendingApprovalSchema.extend({ subagent: subagentOriginSchema }).meta({ id: 'SubagentPendingApproval' });
export type SubagentApproval = z.infer<typeof subagentApprovalSchema>;
/** An open question of a run below this one in its tree, with which sub-agent asks. */
export const subagentQuestionSchema = pendingInputSchema.extend({ subagent: subagentOriginSchema }).meta({ id: 'SubagentPendingInput' });
export type SubagentQuestion = z.infer<typeof subagentQuestionSchema>;

/** A child run (sub-agent) as its parent's view lists it. */
export const childRunSchema = z
  .object({ id: z.string(), agent: z.string().nullable(), status: runStatusSchema, costUsd: z.number() })
  .meta({ id: 'ChildRun' });
export type ChildRun = z.infer<typeof childRunSchema>;

/** GET /api/runs/:id, and the progress of a live `snapshot`. */
export const runViewSchema = z
  .object({
    ...progressShape,
    id: z.string(),
    goal: z.string(),
    owner: z.string(),
    team: z.string().nullable().meta({ description: 'The team the run belongs to; null: a personal run.' }),
    approvals: approvalPolicySchema,
    result: z.string().nullable().meta({ description: "The model's final answer once the run has completed." }),
    metadata: z.record(z.string(), z.unknown()).nullable(),
    createdAt: isoTime,
    updatedAt: isoTime,
    endedAt: isoTime.nullable(),
    worker: workerStateSchema.nullable().meta({ description: 'Whether a worker answered for this run just now; null once it has ended, or while its workflow is still starting.' }),
    stalledSince: isoTime.nullable().meta({ description: 'Set when the sweeper found the run running without progress.' }),
    lastSeq: z.number().int().meta({ description: "The run's last event seq: follow it from here with `after`." }),
    scheduleId: z.string().nullable().meta({ description: 'The schedule whose firing started the run.' }),
    watchers: z
      .object({ count: z.number().int(), users: z.array(z.string()) })
      .meta({ description: 'Open WebSocket and SSE subscriptions to this run, across every API replica, and whose they are.' }),
    workspace: z
      .enum(WORKSPACE_STATES)
      .nullable()
      .meta({ description: "The workspace's state (`active` on a worker, `hibernated`, `released`); null when the run has written none." }),
    budget: z
      .object({ dailyUsd: z.number(), spentTodayUsd: z.number() })
      .nullable()
      .meta({ description: "The owner's daily model budget and what they have spent today (UTC), when a budget is set." }),
    temporalUrl: z.string().nullable().meta({ description: 'The run in the Temporal Web UI, when TEMPORAL_UI_URL is set.' }),
    ...agentRunShape,
    upgradePending: z.boolean().meta({ description: "POST /api/runs/{id}/upgrade was asked for and the run's next model call has not applied it yet." }),
    parentRunId: z.string().nullable().meta({ description: 'The run that delegated to this one (a sub-agent\'s child run); null for a root.' }),
    children: z
      .array(childRunSchema)
      .meta({ description: 'The child runs this run started by delegating to sub-agents, oldest first.' }),
    treeCostUsd: z.number().meta({ description: "The recorded spend of this run and every run below it in its tree (its own is `usage.costUsd`)." }),
    subagentApprovals: z
      .array(subagentApprovalSchema)
      .meta({ description: "Pending approvals of the runs below this one in its tree (its sub-agents' and theirs), oldest first, each with the sub-agent that asks. Decide one here: POST /api/runs/{id}/approvals/{approvalId} with this run's id." }),
    subagentQuestions: z
      .array(subagentQuestionSchema)
      .meta({ description: "Open questions of the runs below this one in its tree, oldest first, each with the sub-agent that asks. Answer one here: POST /api/runs/{id}/input with its `requestId`." }),
  })
  .meta({ id: 'Run' });
export type RunView = z.infer<typeof runViewSchema>;
export type WorkerState = z.infer<typeof workerStateSchema>;

export const runSummarySchema = z
  .object({
    id: z.string(),
    goal: z.string(),
    model: z.string(),
    status: runStatusSchema,
    statusDetail: z.string().nullable(),
    waitingFor: waitingForSchema,
    usage: usageSchema,
    error: runErrorSchema.nullable(),
    lastSeq: z.number().int().meta({ description: "The run's last event seq: subscribe with it as `after` to follow the run from now on." }),
    scheduleId: z.string().nullable(),
    team: z.string().nullable().meta({ description: 'The team the run belongs to; null: a personal run.' }),
    turn: z.number().int().meta({ description: 'Model turns taken so far.' }),
    worker: workerStateSchema
      .nullable()
      .meta({ description: "`unavailable` when no worker has polled the run's task queue lately (the run cannot move); null once it has ended." }),
    createdAt: isoTime,
    updatedAt: isoTime,
    endedAt: isoTime.nullable(),
    ...agentRunShape,
    childCount: z.number().int().meta({ description: 'Child runs this run started by delegating to sub-agents: GET /api/runs/{id}/children lists them.' }),
  })
  .meta({ id: 'RunSummary' });
export type RunSummary = z.infer<typeof runSummarySchema>;

export const runListSchema = z.object({ runs: z.array(runSummarySchema), nextCursor: z.string().nullable() }).meta({ id: 'RunList' });
export type RunList = z.infer<typeof runListSchema>;

/** GET /api/runs/:id/children: the run's child runs (sub-agents), oldest first, each with its own children's count. */
export const runChildrenSchema = z.object({ children: z.array(runSummarySchema) }).meta({ id: 'RunChildren' });
export type RunChildren = z.infer<typeof runChildrenSchema>;

export const runCreatedSchema = z.object({ id: z.string(), status: runStatusSchema, links: runLinksSchema }).meta({ id: 'RunCreated' });
export type RunCreated = z.infer<typeof runCreatedSchema>;

export const runUpgradeSchema = z
  .object({
    id: z.string(),
    agent: z.string(),
    from: z.string().meta({ description: 'The version the run is pinned to now; `run.upgraded` says which it moved to.' }),
    status: z.literal('upgrading').meta({ description: "The run moves to its agent's current version at its next model call." }),
  })
  .meta({ id: 'RunUpgradeAccepted' });
export type RunUpgradeAccepted = z.infer<typeof runUpgradeSchema>;

export const runControlSchema = z
  .object({ id: z.string(), status: z.enum(['cancelling', 'pausing', 'resuming']), links: runLinksSchema })
  .meta({ id: 'RunControlAccepted' });
export type RunControlAccepted = z.infer<typeof runControlSchema>;

export const approvalViewSchema = z
  .object({
    approvalId: z.string(),
    runId: z.string(),
    kind: approvalKindSchema,
    tool: z.string().nullable(),
    input: z.unknown(),
    risk: riskSchema.nullable(),
    reason: z.string(),
    status: approvalStatusSchema,
    requestedAt: isoTime,
    expiresAt: isoTime,
    decidedBy: z.string().nullable(),
    channel: decisionChannelSchema.nullable(),
    comment: z.string().nullable(),
    decidedAt: isoTime.nullable(),
    subagent: subagentOriginSchema
      .nullable()
      .meta({ description: 'Which sub-agent of which run tree asks, when `runId` is a child run (decide it there, or through any run above it); null for a root run.' }),
  })
  .meta({ id: 'Approval' });
export type ApprovalView = z.infer<typeof approvalViewSchema>;

export const approvalListSchema = z
  .object({
    approvals: z.array(approvalViewSchema).meta({ description: 'One page, oldest first.' }),
    nextCursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last page.' }),
  })
  .meta({ id: 'ApprovalList', description: 'The pending approvals the caller may decide, a page at a time.' });
export type ApprovalList = z.infer<typeof approvalListSchema>;

const inboxCommon = {
  runId: z.string(),
  goal: z.string(),
  requestedAt: isoTime,
  expiresAt: isoTime,
  subagent: subagentOriginSchema.nullable().meta({ description: 'Which sub-agent of which run tree asks, when `runId` is a child run; null for a root run.' }),
};
export const inboxItemSchema = z
  .discriminatedUnion('kind', [
    z.object({
      kind: z.literal('approval'),
      id: z.string(),
      ...inboxCommon,
      tool: z.string().nullable(),
      input: z.unknown().meta({ description: 'The call\'s input, cut to a preview when long (as in progress and events); GET /api/approvals/{approvalId} has all of it.' }),
      risk: riskSchema.nullable(),
      reason: z.string(),
    }),
    z.object({ kind: z.literal('question'), id: z.string(), ...inboxCommon, question: z.string() }),
  ])
  .meta({ id: 'InboxItem' });
export type InboxItem = z.infer<typeof inboxItemSchema>;
export const inboxSchema = z
  .object({
    items: z.array(inboxItemSchema).meta({ description: 'One page, oldest first (at one instant approvals before questions).' }),
    nextCursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last page.' }),
    total: z.number().int().meta({ description: 'How many wait for the caller in all, on every page (what a count shows).' }),
  })
  .meta({ id: 'Inbox', description: 'What waits for the caller, a page at a time: approvals they may decide and questions of runs they may steer.' });
export type Inbox = z.infer<typeof inboxSchema>;

export const followUpAcceptedSchema = z
  .object({
    messageId: z.string(),
    runId: z.string(),
    status: z.enum(FOLLOW_UP_STATUSES).meta({ description: 'pending until the run takes it in at its next turn boundary.' }),
    continued: z.boolean().meta({ description: 'The run had ended and this message continues it (same run id, seq goes on).' }),
    links: runLinksSchema,
  })
  .meta({ id: 'FollowUpAccepted' });
export type FollowUpAccepted = z.infer<typeof followUpAcceptedSchema>;

export const deliveryAttemptSchema = z
  .object({ n: z.number().int(), at: isoTime, status: z.number().int().nullable(), error: z.string().nullable(), ms: z.number().int() })
  .meta({ id: 'DeliveryAttempt' });
export const deliverySchema = z
  .object({
    id: z.string().meta({ description: 'Also the `webhook-id` header of every attempt.' }),
    url: z.string(),
    event: z.enum(WEBHOOK_EVENT_TYPES),
    seq: z.number().int(),
    status: z.enum(DELIVERY_STATUSES),
    attempts: z.array(deliveryAttemptSchema),
    createdAt: isoTime,
    deliveredAt: isoTime.nullable(),
  })
  .meta({ id: 'Delivery' });
export type DeliveryView = z.infer<typeof deliverySchema>;
export const deliveryListSchema = z.object({ deliveries: z.array(deliverySchema) }).meta({ id: 'DeliveryList' });

export const inputAcceptedSchema = z.object({ requestId: z.string() }).meta({ id: 'InputAccepted' });
export const wsTicketSchema = z.object({ ticket: z.string(), expiresAt: isoTime }).meta({ id: 'WsTicket' });
export type WsTicket = z.infer<typeof wsTicketSchema>;

// Event data, one schema per type; `_eventSchemasMatch` below keeps them equal to EventDataMap.
const toolCallRequestSchema = z.object({ id: z.string(), name: z.string(), input: z.unknown(), risk: riskSchema });
const eventDataSchemas = {
  'run.queued': z.object({ goal: z.string(), model: z.string(), approvals: approvalPolicySchema, limits: runLimitsSchema, agent: z.string().optional(), agentVersion: z.string().optional() }),
  'run.started': z.object({ model: z.string(), limits: runLimitsSchema, approvals: approvalPolicySchema }),
  'llm.message': z.object({
    turn: z.number().int(),
    model: z.string(),
    text: z.string(),
    toolCalls: z.array(toolCallRequestSchema),
    stopReason: z.string(),
    usage: usageSchema,
  }),
  'llm.retry': z.object({
    turn: z.number().int(),
    attempt: z.number().int(),
    error: z.object({ code: z.enum(MODEL_CALL_ERROR_CODES), message: z.string(), status: z.number().int().optional() }).optional(),
  }),
  'model.throttled': z.object({ turn: z.number().int(), waitMs: z.number().int(), limit: capacityLimitSchema }),
  'workspace.restored': z.object({ worker: z.string(), files: z.number().int(), bytes: z.number(), ms: z.number() }),
  'workspace.hibernated': z.object({ files: z.number().int(), bytes: z.number() }),
  'workspace.released': z.object({ reason: z.enum(WORKSPACE_RELEASE_REASONS) }),
  'tool.started': z.object({ turn: z.number().int(), toolUseId: z.string(), name: z.string(), input: z.unknown(), risk: riskSchema }),
  'tool.completed': z.object({
    turn: z.number().int(),
    toolUseId: z.string(),
    name: z.string(),
    output: z.string(),
    bytes: z.number().int(),
    truncated: z.boolean(),
  }),
  'tool.failed': z.object({
    turn: z.number().int(),
    toolUseId: z.string(),
    name: z.string(),
    error: z.string(),
    bytes: z.number().int().optional(),
    truncated: z.boolean().optional(),
    skipped: z.boolean().optional(),
  }),
  'tool.refused': z.object({
    turn: z.number().int(),
    toolUseId: z.string(),
    name: z.string(),
    risk: riskSchema,
    policy: approvalPolicySchema,
    reason: z.enum(TOOL_REFUSALS),
  }),
  'approval.requested': z.object({
    approvalId: z.string(),
    kind: approvalKindSchema,
    tool: z.string().nullable(),
    input: z.unknown(),
    risk: riskSchema.nullable(),
    reason: z.string(),
    expiresAt: isoTime,
  }),
  'approval.decided': z.object({
    approvalId: z.string(),
    kind: approvalKindSchema,
    tool: z.string().nullable(),
    decision: z.enum(['approved', 'rejected']),
    by: z.string().nullable(),
    channel: decisionChannelSchema.nullable(),
    comment: z.string().nullable(),
    slackUser: z.string().optional().meta({ description: 'Decided in Slack: the Slack user id that clicked; `by` is the Longhaul user it maps to.' }),
  }),
  'approval.expired': z.object({ approvalId: z.string(), kind: approvalKindSchema, tool: z.string().nullable() }),
  'input.requested': z.object({ requestId: z.string(), question: z.string(), expiresAt: isoTime }),
  'input.received': z.object({ requestId: z.string(), text: z.string().nullable(), by: z.string().nullable() }),
  'input.expired': z.object({ requestId: z.string() }),
  'run.paused': z.object({ turn: z.number().int(), by: z.string(), reason: z.string(), cause: z.enum(PAUSE_CAUSES).optional() }),
  'run.resumed': z.object({ turn: z.number().int(), by: z.string() }),
  'run.handoff': z.object({ segment: z.number().int(), summaryChars: z.number().int(), turn: z.number().int() }),
  'run.stalled': z.object({ lastProgressAt: isoTime, minutes: z.number().int() }),
  'limit.exceeded': z.object({ limit: limitNameSchema, value: z.number() }),
  'run.completed': z.object({ turns: z.number().int(), usage: usageSchema, output: z.unknown().optional() }),
  'run.upgraded': z.object({ agent: z.string(), from: z.string(), to: z.string(), turn: z.number().int() }),
  'run.failed': z.object({ error: runErrorSchema }),
  'run.cancelled': z.object({ turn: z.number().int(), reason: z.string().optional() }),
  'user.message': z.object({ messageId: z.string(), text: z.string(), by: z.string(), turn: z.number().int() }),
  'attention.needed': z.object({ kind: z.enum(ATTENTION_KINDS), requestId: z.string(), owner: z.string(), expiresAt: isoTime, reminder: z.boolean().optional() }),
  'subagent.started': z.object({ turn: z.number().int(), toolUseId: z.string(), childRunId: z.string(), agent: z.string(), agentVersion: z.string() }),
  'subagent.completed': z.object({ turn: z.number().int(), toolUseId: z.string(), childRunId: z.string(), agent: z.string(), costUsd: z.number() }),
  'subagent.failed': z.object({
    turn: z.number().int(),
    toolUseId: z.string(),
    childRunId: z.string(),
    agent: z.string(),
    status: z.enum(['failed', 'cancelled']),
    error: z.string(),
    costUsd: z.number(),
  }),
} satisfies { [T in keyof EventDataMap]: z.ZodType };

/** One event of the transcript, discriminated by `type`. */
export const runEventSchema = z
  .discriminatedUnion(
    'type',
    EVENT_TYPES.map((type) =>
      z.object({ seq: z.number().int().min(1), type: z.literal(type), at: isoTime, data: eventDataSchemas[type] }).meta({ id: `Event_${type.replace('.', '_')}` }),
    ) as unknown as [z.ZodObject, ...z.ZodObject[]],
  )
  .meta({ id: 'RunEvent' });

export const eventPageSchema = z
  .object({ events: z.array(runEventSchema), nextAfter: z.number().int().meta({ description: 'Pass as `after` to read the next page.' }) })
  .meta({ id: 'EventPage' });
export interface EventPage {
  events: RunEvent[];
  nextAfter: number;
}

// ───────────────────────────── agents ─────────────────────────────

const jsonSchemaValue = z.record(z.string(), z.unknown()).meta({ description: 'A JSON Schema (draft 2020-12).' });
const limitsPartial = z.object({ maxSteps: z.number().int().optional(), maxCostUsd: z.number().optional(), maxDurationSec: z.number().int().optional() });

export const agentToolSchema = z
  .object({
    name: z.string(),
    description: z.string(),
    risk: z.union([riskSchema, z.literal('by_input')]).meta({ description: "A fixed risk, or `by_input` when the tool's code rates each call." }),
    approval: z.enum(TOOL_APPROVALS).meta({ description: 'The per-tool override of the policy: always, never (the server minimum still applies), by_risk.' }),
    source: z.enum(TOOL_SOURCES),
  })
  .meta({ id: 'AgentTool' });

export const agentVersionViewSchema = z
  .object({
    version: z.string().meta({ description: "A hash of the version's data (16 hex characters)." }),
    publishedAt: isoTime,
    inputSchema: jsonSchemaValue.nullable().meta({ description: 'The structured input a run takes (null: a goal).' }),
    outputSchema: jsonSchemaValue.nullable().meta({ description: 'The final result a run gives (null: text).' }),
    model: z.object({ default: z.string(), allowed: z.array(z.string()) }),
    approvals: approvalPolicySchema,
    limits: z.object({ defaults: limitsPartial, max: limitsPartial }),
    tools: z.array(agentToolSchema),
  })
  .meta({ id: 'AgentVersion' });

export const agentViewSchema = z
  .object({
    name: z.string(),
    description: z.string(),
    currentVersion: z
      .string()
      .nullable()
      .meta({ description: 'The version a new run gets: the one the most recently started live worker serves, else the latest published. Null: none published (the default agent before any worker said so).' }),
    versions: z.array(agentVersionViewSchema).meta({ description: 'Oldest first.' }),
    workers: z
      .array(z.object({ identity: z.string(), version: z.string(), seenAt: isoTime }))
      .meta({ description: 'The live workers that serve the agent (heard from within the last minute), most recently started first.' }),
  })
  .meta({ id: 'Agent' });
export type AgentView = z.infer<typeof agentViewSchema>;
export const agentListSchema = z.object({ agents: z.array(agentViewSchema) }).meta({ id: 'AgentList' });
export type AgentList = z.infer<typeof agentListSchema>;

// ───────────────────────────── workspaces ─────────────────────────────

export const workspaceFileSchema = z.object({ path: z.string(), bytes: z.number().int(), updatedAt: isoTime }).meta({ id: 'WorkspaceFile' });
export const workspaceViewSchema = z
  .object({
    state: z.enum(WORKSPACE_STATES).nullable().describe('null: the run has not written a workspace'),
    version: z.number().int(),
    files: z.array(workspaceFileSchema),
    bytes: z.number(),
  })
  .meta({ id: 'WorkspaceView' });
export type WorkspaceView = z.infer<typeof workspaceViewSchema>;

// ───────────────────────────── capacity and spend ─────────────────────────────

const dayParam = (name: string) =>
  z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, `${name} must be a UTC day, YYYY-MM-DD`)
    .refine((v) => !Number.isNaN(Date.parse(`${v}T00:00:00Z`)) && new Date(`${v}T00:00:00Z`).toISOString().startsWith(v), `${name} is not a real day`)
    .optional();

export const usageQuery = z
  .object({
    from: dayParam('from'),
    to: dayParam('to'),
    user: z.string().min(1).max(200).optional().describe("Whose spend: the caller's unless an approver asks for someone else's"),
  })
  .strict();

const perMinute = z.object({ rpm: z.number().nullable(), inputTpm: z.number().nullable(), outputTpm: z.number().nullable() });
const tokensPerMinute = z.object({ requests: z.number(), inputTokens: z.number(), outputTokens: z.number() });

export const modelCapacitySchema = z
  .object({
    model: z.string(),
    limits: perMinute.describe('The API key\'s per-minute limits for this model (null: not limited)'),
    usedLastMinute: tokensPerMinute.extend({ cacheReadTokens: z.number() }).describe('Calls answered in the last 60 s; input counted as the provider counts it (cache reads apart)'),
    reserved: tokensPerMinute.describe('Calls granted and not yet answered'),
    available: perMinute.describe('What each bucket holds now (null: not limited)'),
    runsWaiting: z.number().int(),
    rateLimitedLastHour: z.number().int().describe('429s the provider answered anyway in the last hour'),
  })
  .meta({ id: 'ModelCapacity' });
export const capacitySchema = z.object({ models: z.array(modelCapacitySchema), at: z.string() }).meta({ id: 'Capacity' });

export const dailySpendSchema = z
  .object({
    day: z.string(),
    model: z.string(),
    calls: z.number().int(),
    inputTokens: z.number(),
    outputTokens: z.number(),
    cacheReadTokens: z.number(),
    cacheWriteTokens: z.number(),
    costUsd: z.number(),
  })
  .meta({ id: 'DailySpend' });
export const usageReportSchema = z
  .object({
    user: z.string(),
    teams: z
      .array(z.string())
      .optional()
      .meta({ description: "Present when a team admin reads another user's spend: only what the user's runs on these teams (the ones the admin administers) spent." }),
    from: z.string(),
    to: z.string(),
    dailyBudgetUsd: z.number().nullable(),
    days: z.array(dailySpendSchema),
    totalUsd: z.number(),
  })
  .meta({ id: 'UsageReport' });
export type UsageReport = z.infer<typeof usageReportSchema>;
export type CapacityReport = z.infer<typeof capacitySchema>;

// ───────────────────────────── teams ─────────────────────────────

export const roleSchema = z.enum(ROLES).meta({ id: 'Role', description: 'viewer (read), member (start and steer runs), approver (decide), admin (all, and the team\'s members and budget).' });

export const teamListSchema = z
  .object({ teams: z.array(z.object({ team: z.string(), roles: z.array(roleSchema) })) })
  .meta({ id: 'TeamList', description: "The caller's teams and their roles on each." });
export type TeamList = z.infer<typeof teamListSchema>;

export const teamMembersSchema = z
  .object({
    team: z.string(),
    members: z.array(
      z.object({
        user: z.string(),
        role: roleSchema,
        source: z.enum(['provider', 'admin']).meta({ description: '`provider`: from the identity provider\'s roles claim (replaced at each sign-in or token issued after the last one stored); `admin`: granted through the API or TEAM_ROLES.' }),
        updatedAt: isoTime,
      }),
    ),
  })
  .meta({ id: 'TeamMembers' });
export type TeamMembers = z.infer<typeof teamMembersSchema>;

export const teamBudgetSchema = z
  .object({
    team: z.string(),
    dailyUsd: z.number().nullable().meta({ description: "The team's model budget per UTC day; null: none." }),
    source: z.enum(['api', 'config']).nullable().meta({ description: '`api`: set by an admin; `config`: TEAM_DAILY_BUDGETS; null: no budget.' }),
    spentTodayUsd: z.number().meta({ description: "What the team's runs spent today (UTC), with calls in flight." }),
  })
  .meta({ id: 'TeamBudget' });
export type TeamBudget = z.infer<typeof teamBudgetSchema>;

export const teamBudgetBody = z
  .object({ dailyUsd: z.number().min(0).nullable().meta({ description: 'USD per UTC day; null: back to TEAM_DAILY_BUDGETS (or none).' }) })
  .strict()
  .meta({ id: 'TeamBudgetRequest' });
export type TeamBudgetBody = z.infer<typeof teamBudgetBody>;

export const healthSchema = z.object({ status: z.literal('ok') }).meta({ id: 'Health' });
export const readinessSchema = z
  .object({ status: z.enum(['ready', 'not_ready']), checks: z.object({ temporal: z.enum(['ok', 'unavailable']), database: z.enum(['ok', 'unavailable']) }) })
  .meta({ id: 'Readiness' });
export type Readiness = z.infer<typeof readinessSchema>;

// ───────────────────────────── the live protocol ─────────────────────────────

/** Messages a live connection (WebSocket or SSE) delivers. docs/api.md explains the resume rules. */
export type LiveMessage =
  | { type: 'snapshot'; runId: string; progress: RunView }
  | { type: 'event'; runId: string; event: RunEvent }
  | { type: 'delta'; runId: string; turn: number; offset: number; text: string }
  | { type: 'delta.reset'; runId: string; turn: number }
  /**
   * On the caller's runs feed (`{ type: 'watch-runs' }`): a run the caller may see changed — it was
   * created, moved on, asks for someone, or ended. Re-read what you show of it.
   */
  | { type: 'runs.changed'; runId: string; status: RunStatus; lastSeq: number }
  /** On the runs feed: changes may have been missed (the server lost its database feed): re-read everything. */
  | { type: 'runs.resync' }
  | { type: 'error'; code: LiveErrorCode; message: string; runId?: string };

// ───────────────────────────── compile-time agreement ─────────────────────────────

/** True only when A and B are assignable both ways. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const agree = <T extends true>(_: T): void => undefined;

agree<Same<{ [T in keyof EventDataMap]: z.infer<(typeof eventDataSchemas)[T]> }, EventDataMap>>(true);
agree<Same<z.infer<typeof pendingApprovalSchema>, PendingApproval>>(true);
agree<Same<z.infer<typeof pendingInputSchema>, PendingInput>>(true);
agree<Same<Omit<RunView, 'id' | 'goal' | 'owner' | 'team' | 'approvals' | 'result' | 'metadata' | 'createdAt' | 'updatedAt' | 'endedAt' | 'worker' | 'stalledSince' | 'lastSeq' | 'scheduleId' | 'watchers' | 'workspace' | 'budget' | 'temporalUrl' | keyof typeof agentRunShape | 'upgradePending' | 'parentRunId' | 'children' | 'treeCostUsd' | 'subagentApprovals' | 'subagentQuestions'>, Progress>>(true);
