/**
 * Every HTTP route of Longhaul, with what it takes and what it answers, from the contract's
 * schemas. The OpenAPI document (openapi.ts) is generated from this table, the contract test checks
 * real responses of each route against it, and the client (client/) calls these paths.
 */
import { z } from 'zod';
import {
  agentListSchema,
  runUpgradeSchema,
  approvalListSchema,
  capacitySchema,
  workspaceViewSchema,
  usageQuery,
  usageReportSchema,
  approvalsQuery,
  approvalViewSchema,
  inboxSchema,
  inboxQuery,
  createRunBody,
  decisionBody,
  eventPageSchema,
  deliveryListSchema,
  createScheduleBody,
  eventsQuery,
  scheduleListSchema,
  scheduleViewSchema,
  followUpAcceptedSchema,
  followUpBody,
  healthSchema,
  inputAcceptedSchema,
  inputBody,
  listRunsQuery,
  readinessSchema,
  runControlSchema,
  runCreatedSchema,
  runListSchema,
  runViewSchema,
  wsTicketSchema,
  runChildrenSchema,
  teamListSchema,
  teamMembersSchema,
  teamBudgetSchema,
  teamBudgetBody,
} from './api';
import { apiKeyCreatedSchema, apiKeyListSchema, apiKeysQuery, apiKeyViewSchema, createApiKeyBody } from './api-keys';
import { ROUTE_PATHS, type RouteName } from './paths';
import { sessionInfoSchema, signOutSchema } from './session-api';

export type HttpMethod = (typeof ROUTE_PATHS)[RouteName]['method'];

export interface RouteSpec {
  method: HttpMethod;
  /** OpenAPI-style path: `{id}` marks a path parameter. */
  path: string;
  summary: string;
  description?: string;
  /** Path parameters, each described. */
  params?: Record<string, string>;
  query?: z.ZodObject;
  /** Request headers that change the meaning of the call. */
  headers?: Record<string, string>;
  body?: z.ZodType;
  /** A form-encoded body instead of JSON: field → description. */
  formBody?: Record<string, string>;
  /** The success answer: a JSON schema, or another media type described in words. */
  success: { status: number; description: string; schema?: z.ZodType; mediaType?: string };
  /** Error statuses this route can answer, each with the `{ error }` body. */
  errors: number[];
  /** Whether the route needs a user (bearer token, or a ticket where noted) when API_TOKENS is set. */
  auth: boolean;
}

const signInQuery = z.object({ returnTo: z.string().optional().describe('A path on this server to come back to (default `/`)') });

const runId = { id: 'The run id (`run_…`), as POST /api/runs returned it.' };
const scheduleId = { id: 'The schedule id (`sch_…`).' };
const teamParam = { team: 'The team\'s name.' };
const memberParams = { ...teamParam, user: 'The Longhaul user id.', role: 'viewer, member, approver or admin.' };

export const ROUTES = {
  createRun: {
    ...ROUTE_PATHS.createRun,
    summary: 'Start a run',
    description:
      'Answers at once with the run id; the run is a Temporal workflow that no request owns. `agent` picks the agent (400 ' +
      '`unknown_agent` when none was ever published); its `input` is validated against the agent\'s input schema (400 ' +
      '`invalid_input` with `details: [{ path, message }]`). With no live worker serving the agent the run is accepted and waits queued. ' +
      'The answer waits for the workflow\'s start at most `START_RUN_WAIT_MS`; a start Temporal has not taken by then (a storm of starts, ' +
      'Temporal unreachable) is made after the answer, by the API and else by the sweeper, once.',
    headers: { 'Idempotency-Key': 'Repeating a request with the same key (same user) returns the same run and starts nothing new.' },
    body: createRunBody,
    success: { status: 202, description: 'The run was created and queued.', schema: runCreatedSchema },
    errors: [400, 401, 403, 409, 413, 415, 429, 503],
    auth: true,
  },
  listRuns: {
    ...ROUTE_PATHS.listRuns,
    summary: "List the runs the caller may see, newest first: their own, and their teams' (`team` for one team's)",
    query: listRunsQuery,
    success: { status: 200, description: 'One page of runs.', schema: runListSchema },
    errors: [400, 401, 403],
    auth: true,
  },
  getRun: {
    ...ROUTE_PATHS.getRun,
    summary: 'Read a run: status, progress, pending requests, usage, result',
    params: runId,
    success: { status: 200, description: 'The run as it is now.', schema: runViewSchema },
    errors: [400, 401, 404],
    auth: true,
  },
  listChildren: {
    ...ROUTE_PATHS.listChildren,
    summary: "List a run's child runs (its sub-agents' runs), oldest first",
    params: runId,
    success: { status: 200, description: 'The child runs, each with its own count of children.', schema: runChildrenSchema },
    errors: [400, 401, 404],
    auth: true,
  },
  listEvents: {
    ...ROUTE_PATHS.listEvents,
    summary: "Read a page of the run's transcript events",
    params: runId,
    query: eventsQuery,
    success: { status: 200, description: 'Events with seq greater than `after`, in seq order.', schema: eventPageSchema },
    errors: [400, 401, 404],
    auth: true,
  },
  streamRun: {
    ...ROUTE_PATHS.streamRun,
    summary: 'Follow a run live (Server-Sent Events)',
    description:
      'A snapshot, then every event after `after` (or Last-Event-ID), then live events and token deltas. Event ids are seqs. ' +
      'EventSource cannot send headers, so `?ticket=` (from POST /api/ws-ticket) is accepted instead of a bearer token.',
    params: runId,
    success: { status: 200, description: 'A stream of `snapshot`, `event`, `delta`, `delta.reset` and `error` messages.', mediaType: 'text/event-stream' },
    errors: [400, 401, 404],
    auth: true,
  },
  cancelRun: {
    ...ROUTE_PATHS.cancelRun,
    summary: 'Cancel a run (the only way a run stops early)',
    params: runId,
    success: { status: 202, description: 'The cancellation was requested; the run ends `cancelled`.', schema: runControlSchema },
    errors: [400, 401, 403, 404, 409, 503],
    auth: true,
  },
  pauseRun: {
    ...ROUTE_PATHS.pauseRun,
    summary: 'Pause a run at its next step boundary',
    description: "Pauses the run's whole tree: the run and every live run below it (its sub-agents' child runs and theirs), each at its own next step boundary. A paused run starts no more children: its delegations still waiting their turn wait until it is resumed.",
    params: runId,
    success: { status: 202, description: 'The pause was requested.', schema: runControlSchema },
    errors: [400, 401, 403, 404, 409, 503],
    auth: true,
  },
  resumeRun: {
    ...ROUTE_PATHS.resumeRun,
    summary: 'Resume a paused run',
    description:
      'Resumes the run (whatever paused it) and every live run below it in its tree that a person paused. A run below that paused itself — at its segment cap, or out of its owner\'s or team\'s daily budget — is left paused: resume it by its own id.',
    params: runId,
    success: { status: 202, description: 'The resume was requested.', schema: runControlSchema },
    errors: [400, 401, 403, 404, 409, 503],
    auth: true,
  },
  decideApproval: {
    ...ROUTE_PATHS.decideApproval,
    summary: 'Approve or reject a pending request',
    description:
      'The first decision wins; repeating your own decision is harmless, any other second decision is a 409. `id` is the run that asks or any run above it in its tree: a sub-agent\'s approval (the parent\'s `subagentApprovals`) is decided through its parent\'s or root\'s id too, and resumes the child run.',
    params: { ...runId, approvalId: 'The approval id (`apr_…`).' },
    body: decisionBody,
    success: { status: 200, description: 'The approval as decided.', schema: approvalViewSchema },
    errors: [400, 401, 403, 404, 409, 415, 503],
    auth: true,
  },
  answerInput: {
    ...ROUTE_PATHS.answerInput,
    summary: "Answer the agent's open question",
    description: "The run's own open question, or with `requestId` one of a run below it in its tree (the parent's `subagentQuestions`), which the answer resumes. 404 when `requestId` names no question of this run or below it.",
    params: runId,
    body: inputBody,
    success: { status: 200, description: 'The answer was recorded and handed to the run.', schema: inputAcceptedSchema },
    errors: [400, 401, 403, 404, 409, 413, 415, 503],
    auth: true,
  },
  postMessage: {
    ...ROUTE_PATHS.postMessage,
    summary: 'Send the run a follow-up message',
    description:
      'On an active run the message joins the conversation at the next turn boundary (never mid-tool). On a run that ' +
      'completed or ended on a limit, the run continues: same id, the event seq goes on, status back to running; ' +
      '`limits` may raise its caps. Honours Idempotency-Key.',
    params: runId,
    headers: { 'Idempotency-Key': 'Repeating a message with the same key (same user) sends it once.' },
    body: followUpBody,
    success: { status: 202, description: 'The message was recorded and the run told.', schema: followUpAcceptedSchema },
    errors: [400, 401, 403, 404, 409, 413, 415, 429, 503],
    auth: true,
  },
  listDeliveries: {
    ...ROUTE_PATHS.listDeliveries,
    summary: "The run's webhook deliveries and each attempt",
    params: runId,
    success: { status: 200, description: 'Deliveries, oldest first.', schema: deliveryListSchema },
    errors: [400, 401, 404],
    auth: true,
  },
  upgradeRun: {
    ...ROUTE_PATHS.upgradeRun,
    summary: "Move a run to its agent's current version at its next model call",
    description:
      'A run keeps the agent version it started with. This asks for the current one (GET /api/agents): the next model call, ' +
      'on a worker serving the agent, moves it there and appends `run.upgraded`. 409 `run_has_no_agent` for a run that named ' +
      'no agent, `run_not_active` for one that ended.',
    params: runId,
    success: { status: 202, description: 'The upgrade was requested.', schema: runUpgradeSchema },
    errors: [400, 401, 403, 404, 409],
    auth: true,
  },
  listAgents: {
    ...ROUTE_PATHS.listAgents,
    summary: 'The agents this deployment knows: their versions, tools with risk, and the live workers serving each',
    description: 'What workers published (the API never loads agent code). The built-in `default` agent is always listed.',
    success: { status: 200, description: 'Agents by name.', schema: agentListSchema },
    errors: [401],
    auth: true,
  },
  createSchedule: {
    ...ROUTE_PATHS.createSchedule,
    summary: 'Create a schedule: a Temporal Schedule that starts a run on every firing',
    body: createScheduleBody,
    success: { status: 201, description: 'The schedule, with its next firings.', schema: scheduleViewSchema },
    errors: [400, 401, 403, 413, 415, 429, 503],
    auth: true,
  },
  listSchedules: {
    ...ROUTE_PATHS.listSchedules,
    summary: "The caller's schedules and their teams'",
    success: { status: 200, description: 'Schedules, newest first.', schema: scheduleListSchema },
    errors: [401],
    auth: true,
  },
  getSchedule: {
    ...ROUTE_PATHS.getSchedule,
    summary: 'A schedule with its next and last firing (its runs: GET /api/runs?scheduleId=)',
    params: scheduleId,
    success: { status: 200, description: 'The schedule.', schema: scheduleViewSchema },
    errors: [401, 404],
    auth: true,
  },
  deleteSchedule: {
    ...ROUTE_PATHS.deleteSchedule,
    summary: 'Delete a schedule (its runs go on)',
    params: scheduleId,
    success: { status: 204, description: 'Deleted from Temporal; no more firings.' },
    errors: [401, 403, 404, 503],
    auth: true,
  },
  pauseSchedule: {
    ...ROUTE_PATHS.pauseSchedule,
    summary: 'Pause a schedule: no firings until resumed',
    params: scheduleId,
    success: { status: 200, description: 'The schedule.', schema: scheduleViewSchema },
    errors: [401, 403, 404, 503],
    auth: true,
  },
  resumeSchedule: {
    ...ROUTE_PATHS.resumeSchedule,
    summary: 'Resume a paused schedule',
    params: scheduleId,
    success: { status: 200, description: 'The schedule.', schema: scheduleViewSchema },
    errors: [401, 403, 404, 503],
    auth: true,
  },
  triggerSchedule: {
    ...ROUTE_PATHS.triggerSchedule,
    summary: 'Fire a schedule now (its overlap policy applies)',
    params: scheduleId,
    success: { status: 202, description: 'The firing was requested.', schema: scheduleViewSchema },
    errors: [401, 403, 404, 503],
    auth: true,
  },
  listApprovals: {
    ...ROUTE_PATHS.listApprovals,
    summary: 'What waits for the caller to decide, across runs, oldest first',
    query: approvalsQuery,
    success: { status: 200, description: 'A page of the pending approvals the caller may decide.', schema: approvalListSchema },
    errors: [400, 401],
    auth: true,
  },
  getApproval: {
    ...ROUTE_PATHS.getApproval,
    summary: 'One approval with its full tool input (events and progress carry a preview when it is long)',
    params: { approvalId: 'The approval id, as the run\'s progress or approval.requested gave it.' },
    success: { status: 200, description: 'The approval, whoever may see its run.', schema: approvalViewSchema },
    errors: [400, 401, 404],
    auth: true,
  },
  decideApprovalById: {
    ...ROUTE_PATHS.decideApprovalById,
    summary: 'Approve or reject a pending request by its id alone',
    description:
      'The same decision as POST /api/runs/{id}/approvals/{approvalId}, for a caller that holds only the approval id (the inbox, a webhook\'s `approvalId`): it is decided on the run that asks, a sub-agent\'s child run included, which it resumes.',
    params: { approvalId: 'The approval id (`apr_…`).' },
    body: decisionBody,
    success: { status: 200, description: 'The approval as decided.', schema: approvalViewSchema },
    errors: [400, 401, 403, 404, 409, 415, 503],
    auth: true,
  },
  getInbox: {
    ...ROUTE_PATHS.getInbox,
    summary: 'What waits for the caller, across runs, oldest first, a page at a time',
    description:
      'Approvals the caller may decide and questions of runs they may steer, `limit` to a page (default 50, at most 200); `nextCursor` reads the next, which goes on after the last item shown whatever arrived or was decided meanwhile. `total` counts everything waiting. The runs feed on /ws says when to read it again.',
    query: inboxQuery,
    success: { status: 200, description: 'One page of what waits.', schema: inboxSchema },
    errors: [400, 401],
    auth: true,
  },
  wsTicket: {
    ...ROUTE_PATHS.wsTicket,
    summary: 'Get a single-use ticket for a WebSocket (/ws?ticket=) or SSE connection',
    success: { status: 201, description: 'A ticket valid for WS_TICKET_TTL_SEC.', schema: wsTicketSchema },
    errors: [401],
    auth: true,
  },
  createApiKey: {
    ...ROUTE_PATHS.createApiKey,
    summary: 'Create an API key for the caller',
    description:
      'The answer holds the key (`lh_…`) this once; only its hash is stored. Its scopes may not be broader than what the ' +
      "caller's own credential may do (403 `scope_missing`: a key cannot mint a broader key). A key acts as its owner, with the " +
      "owner's roles, narrowed by its scopes. Through a key only with the `admin` scope (403 `scope_missing`), and then " +
      'the new key expires no later than the creating key and is revoked with it (`madeBy`).',
    body: createApiKeyBody,
    success: { status: 201, description: 'The key, with its secret shown once.', schema: apiKeyCreatedSchema },
    errors: [400, 401, 403, 415, 429],
    auth: true,
  },
  listApiKeys: {
    ...ROUTE_PATHS.listApiKeys,
    summary: "The caller's API keys, and those of users all of whose teams the caller administers",
    description: 'Never a secret. Revoked and expired keys are listed too, newest first. Through a key only with the `admin` scope (403 `scope_missing`).',
    query: apiKeysQuery,
    success: { status: 200, description: 'The keys.', schema: apiKeyListSchema },
    errors: [400, 401, 403],
    auth: true,
  },
  revokeApiKey: {
    ...ROUTE_PATHS.revokeApiKey,
    summary: 'Revoke an API key',
    description:
      'By its owner, or a team admin who administers every team its owner holds a role on (a user on no team: the owner only). Every API replica refuses the key from the next request ' +
      '(401 `key_revoked`). Every key made from it (`madeBy`), at any depth, is revoked with it, by the same `revokedBy`. ' +
      'Revoking a revoked key changes nothing of its own. Anyone else\'s key is a 404. Through a key only with the ' +
      '`admin` scope (403 `scope_missing`).',
    params: { id: 'The key\'s id (as listed; the part of the key after `lh_` up to the next `_`).' },
    success: { status: 200, description: 'The key, revoked.', schema: apiKeyViewSchema },
    errors: [401, 403, 404],
    auth: true,
  },
  openapi: {
    ...ROUTE_PATHS.openapi,
    summary: 'This document',
    success: { status: 200, description: 'The OpenAPI 3.1 document of this API.', mediaType: 'application/json' },
    errors: [],
    auth: false,
  },
  getSession: {
    ...ROUTE_PATHS.getSession,
    summary: 'Who the caller is and how this server signs people in',
    description:
      'Answered with or without a credential (a refused or ended one is answered as nobody): `signIn` says whether to send a ' +
      'browser to GET /auth/login; a session caller also gets its CSRF token, which every state-changing request it makes must carry in `X-CSRF-Token`.',
    success: { status: 200, description: 'The caller (if any), its roles per team, and the session\'s CSRF token.', schema: sessionInfoSchema },
    errors: [],
    auth: false,
  },
  signIn: {
    ...ROUTE_PATHS.signIn,
    summary: 'Sign in at the identity provider (browsers; OIDC_ISSUER set)',
    description: 'Redirects to the provider (authorization code flow with PKCE, state and nonce); `returnTo` (a path here) is where the browser ends up after signing in.',
    query: signInQuery,
    success: { status: 302, description: 'To the provider\'s authorization endpoint.' },
    errors: [503],
    auth: false,
  },
  signInCallback: {
    ...ROUTE_PATHS.signInCallback,
    summary: 'Where the provider sends the browser back (PUBLIC_URL/auth/callback)',
    description: 'Checks state (bound to the browser that began the sign-in), the PKCE verifier and the ID token\'s nonce, then starts a session (HttpOnly, SameSite=Lax cookie; Secure behind https). 401 `sign_in_failed` when anything does not match.',
    success: { status: 302, description: 'To `returnTo`, signed in.' },
    errors: [401, 503],
    auth: false,
  },
  signOut: {
    ...ROUTE_PATHS.signOut,
    summary: 'End the browser\'s session (and, where the provider offers it, its session at the provider)',
    description: 'Needs the session\'s CSRF token in `X-CSRF-Token` (403 `csrf_failed`). `?everywhere=true` ends every session of the user. The answer says where to send the browser next.',
    success: { status: 200, description: 'The session has ended.', schema: signOutSchema },
    errors: [403],
    auth: false,
  },
  getWorkspace: {
    ...ROUTE_PATHS.getWorkspace,
    summary: "The run's workspace: its state and files",
    params: runId,
    success: { status: 200, description: 'The current version of the workspace.', schema: workspaceViewSchema },
    errors: [400, 401, 404],
    auth: true,
  },
  getWorkspaceFile: {
    ...ROUTE_PATHS.getWorkspaceFile,
    summary: 'Download one file of the workspace',
    description: 'Served as an attachment with its content type (sandboxed: never rendered in the API origin).',
    params: { ...runId, path: 'The file\'s path in the workspace (slashes allowed).' },
    success: { status: 200, description: 'The file, with the content type its name implies (application/octet-stream when none).', mediaType: '*/*' },
    errors: [400, 401, 404],
    auth: true,
  },
  releaseWorkspace: {
    ...ROUTE_PATHS.releaseWorkspace,
    summary: "Delete an ended run's workspace now",
    params: runId,
    success: { status: 200, description: 'The workspace, released.', schema: workspaceViewSchema },
    errors: [400, 401, 403, 404, 409],
    auth: true,
  },
  getCapacity: {
    ...ROUTE_PATHS.getCapacity,
    summary: "The model capacity books: each model's limits, use in the last minute, reservations, waiting runs, 429s",
    success: { status: 200, description: 'One entry per configured or used model.', schema: capacitySchema },
    errors: [401],
    auth: true,
  },
  getUsage: {
    ...ROUTE_PATHS.getUsage,
    summary: 'Model spend by UTC day and model',
    description:
      "The caller's own spend; legacy approvers may ask for any user's with `user`, a team admin for what a member's runs on the teams they administer spent. Default: the last 30 days.",
    query: usageQuery,
    success: { status: 200, description: 'Spend per day and model, and the daily budget in force.', schema: usageReportSchema },
    errors: [400, 401, 403],
    auth: true,
  },
  health: {
    ...ROUTE_PATHS.health,
    summary: 'The process is up',
    success: { status: 200, description: 'Alive.', schema: healthSchema },
    errors: [],
    auth: false,
  },
  ready: {
    ...ROUTE_PATHS.ready,
    summary: 'Temporal and the database both answer',
    success: { status: 200, description: 'Ready (503 with the same shape when not).', schema: readinessSchema },
    errors: [],
    auth: false,
  },
  liveSocket: {
    ...ROUTE_PATHS.liveSocket,
    summary: 'Follow runs live over a WebSocket',
    description:
      'Upgrade with a bearer token or `?ticket=`. Send `{"type":"subscribe","runId","after"}` (and `unsubscribe`); receive the same ' +
      'messages as the SSE stream. docs/api.md describes the protocol, resume and the 4008 slow-consumer close.',
    success: { status: 101, description: 'Switching protocols to WebSocket.' },
    errors: [400, 401, 403],
    auth: true,
  },
  slackInteractions: {
    ...ROUTE_PATHS.slackInteractions,
    summary: 'Approve / Reject buttons clicked in Slack',
    description: 'Only with Slack configured. Needs a valid Slack v0 signature from the last five minutes; answers 200 at once.',
    formBody: { payload: "Slack's block_actions payload, as JSON." },
    success: { status: 200, description: 'Acknowledged (empty body); the decision is applied and the message updated afterwards.' },
    errors: [400, 401],
    auth: false,
  },
  metrics: {
    ...ROUTE_PATHS.metrics,
    summary: 'Prometheus metrics',
    success: { status: 200, description: 'Prometheus text exposition format.', mediaType: 'text/plain' },
    errors: [401],
    auth: true,
  },
  listTeams: {
    ...ROUTE_PATHS.listTeams,
    summary: "The caller's teams and their roles on each",
    success: { status: 200, description: 'Teams by name.', schema: teamListSchema },
    errors: [401],
    auth: true,
  },
  listTeamMembers: {
    ...ROUTE_PATHS.listTeamMembers,
    summary: "A team's members and their roles (the team's admins only)",
    params: teamParam,
    success: { status: 200, description: 'Members, by user and role.', schema: teamMembersSchema },
    errors: [400, 401, 403],
    auth: true,
  },
  grantTeamRole: {
    ...ROUTE_PATHS.grantTeamRole,
    summary: 'Give a user a role on the team (the team\'s admins only; idempotent)',
    params: memberParams,
    success: { status: 200, description: "The team's members after the grant.", schema: teamMembersSchema },
    errors: [400, 401, 403],
    auth: true,
  },
  revokeTeamRole: {
    ...ROUTE_PATHS.revokeTeamRole,
    summary: 'Take a role away, whatever gave it (the team\'s admins only)',
    description: 'A role from the identity provider comes back at the user\'s next sign-in unless the provider stops giving it.',
    params: memberParams,
    success: { status: 204, description: 'The user no longer holds the role.' },
    errors: [400, 401, 403],
    auth: true,
  },
  getTeamBudget: {
    ...ROUTE_PATHS.getTeamBudget,
    summary: "The team's daily model budget and today's spend (the team's admins only)",
    params: teamParam,
    success: { status: 200, description: 'The budget in force.', schema: teamBudgetSchema },
    errors: [400, 401, 403],
    auth: true,
  },
  setTeamBudget: {
    ...ROUTE_PATHS.setTeamBudget,
    summary: "Set the team's daily model budget (the team's admins only)",
    description: "Counted before each model call of the team's runs, beside their owners' budgets; a run out of budget waits for the next UTC day.",
    params: teamParam,
    body: teamBudgetBody,
    success: { status: 200, description: 'The budget in force.', schema: teamBudgetSchema },
    errors: [400, 401, 403, 415],
    auth: true,
  },
} as const satisfies Record<RouteName, RouteSpec>;

export { routePath, type RouteName } from './paths';
