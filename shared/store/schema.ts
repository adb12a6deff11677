/** Table shapes for Kysely. Timestamps are ISO-8601 UTC strings; JSON columns are text. */
import type { Generated } from 'kysely';

export interface RunsTable {
  id: string;
  owner: string;
  goal: string;
  model: string;
  status: string;
  status_detail: string | null;
  approvals: string;
  limits_json: string;
  metadata_json: string | null;
  idempotency_key: string | null;
  /** Highest event seq handed out for this run; the row lock on it orders appends. */
  last_seq: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
  turn: number;
  progress_json: string | null;
  result: string | null;
  error_json: string | null;
  /** 1 once the run holds one of its owner's concurrency slots. */
  admitted: number;
  /** Last progress time of a run the sweeper found stalled; null once it moves again. */
  stalled_at: string | null;
  /** Times follow-up messages continued the run after it ended. */
  laps: Generated<number>;
  /** Webhook subscriptions ({ url, events? }[]) as JSON, frozen when the run was created. */
  webhooks_json: string | null;
  /** The schedule whose firing started this run. */
  schedule_id: string | null;
  cache_read_tokens: Generated<number>;
  cache_write_tokens: Generated<number>;
  /** What the current step is doing when the workflow's status cannot say (a model call being retried). */
  step_note: string | null;
  /** The agent the run is (null: the default agent as the current code defines it, as before agents). */
  agent: string | null;
  /** The agent version the run is pinned to (see AgentData). */
  agent_version: string | null;
  /** The run's structured input as JSON (agents with an input schema). */
  input_json: string | null;
  /** The run's validated structured output as JSON (agents with an output schema), once it completed. */
  output_json: string | null;
  /** An upgrade to the agent's current version was asked for; the next model call applies it. */
  upgrade_requested_at: string | null;
  /** The run that delegated to this one (a sub-agent's child run); null for a root. */
  parent_run_id: string | null;
  /** Depth in the run tree (a root: 0). */
  depth: Generated<number>;
  /** The team the run belongs to (migration 019); null: a personal run. */
  team: string | null;
  /**
   * While an execution's start is owed (committed, not yet known to Temporal: migration 024), its lap plus one: 1 the
   * run's first start, 2 and up a follow-up's continuation; 0 when none is owed (shared/store/runs.ts).
   */
  start_owed: Generated<number>;
  /** The approval timeout the run was started with (null: runs from before migration 024, which used the default). */
  approval_timeout_sec: number | null;
  created_at: string;
  updated_at: string;
  ended_at: string | null;
}

export interface EventsTable {
  run_id: string;
  seq: number;
  key: string;
  type: string;
  at: string;
  data_json: string;
}

export interface MessagesTable {
  id: Generated<number>;
  run_id: string;
  key: string;
  turn: number;
  kind: string;
  tool_use_id: string | null;
  content_json: string;
  created_at: string;
}

export interface EffectsTable {
  key: string;
  run_id: string;
  kind: string;
  name: string;
  status: string;
  attempts: number;
  /** Attempts that ended in their worker with a known failure (migration 022); fewer than `attempts`: one vanished. */
  attempts_failed: Generated<number>;
  result_json: string | null;
  started_at: string;
  completed_at: string | null;
}

export interface ApprovalsTable {
  id: string;
  run_id: string;
  kind: string;
  turn: number;
  tool_use_id: string | null;
  tool: string | null;
  input_json: string | null;
  input_hash: string | null;
  risk: string | null;
  reason: string;
  /** pending | approved | rejected | expired */
  status: string;
  requested_at: string;
  expires_at: string;
  decided_by: string | null;
  channel: string | null;
  comment: string | null;
  decided_at: string | null;
  slack_channel: string | null;
  slack_ts: string | null;
  /** When an approved re-run (`effect_in_doubt`) was spent by the attempt it let through; null while unused. */
  used_at: string | null;
  /** The Slack account that decided it, when it was decided in Slack (migration 018). */
  slack_user: string | null;
}

export interface InputRequestsTable {
  id: string;
  run_id: string;
  turn: number;
  tool_use_id: string;
  question: string;
  /** pending | answered | expired */
  status: string;
  answer: string | null;
  answered_by: string | null;
  requested_at: string;
  expires_at: string;
  answered_at: string | null;
}

export interface ApprovalAuditTable {
  id: Generated<number>;
  approval_id: string;
  run_id: string;
  actor: string;
  channel: string;
  decision: string;
  /** accepted | conflict | forbidden | expired */
  outcome: string;
  tool: string | null;
  input_hash: string | null;
  comment: string | null;
  at: string;
  /** The Slack account behind `actor`, for decisions made in Slack (migration 018). */
  slack_user: string | null;
}

export interface LiveTextTable {
  run_id: string;
  turn: number;
  attempt: number;
  text: string;
  updated_at: string;
}

export interface WsTicketsTable {
  /** SHA-256 of the ticket; the ticket itself is never stored. */
  id: string;
  user: string;
  expires_at: string;
  used_at: string | null;
  /** The API key the ticket was issued to (migration 020): the socket it opens acts as that key, and ends with it. */
  key_id: string | null;
  /** That key's scopes, as a JSON array; null: the credential had none (all). */
  scopes_json: string | null;
  /** The browser session the ticket was issued to (migration 021): the socket it opens ends with the session. */
  session_id: string | null;
  /** When the credential that asked stops working by itself (a JWT's exp; migration 021): the socket ends then. */
  credential_expires_at: string | null;
}

export interface UserMessagesTable {
  id: string;
  run_id: string;
  author: string;
  text: string;
  /** Caps the message raised, as JSON. */
  limits_json: string | null;
  /** pending | accepted */
  status: string;
  /** The turn the message joined before, once accepted. */
  turn: number | null;
  idempotency_key: string | null;
  created_at: string;
  accepted_at: string | null;
}

export interface WebhookDeliveriesTable {
  id: string;
  run_id: string;
  url: string;
  event_type: string;
  /** The event's seq. */
  seq: number;
  /** The JSON body, fixed when the event happened: every attempt sends the same bytes. */
  body: string;
  /** pending | delivered | failed */
  status: string;
  /** When a worker started the delivery workflow; null: not yet. */
  dispatched_at: string | null;
  created_at: string;
  delivered_at: string | null;
}

export interface WebhookAttemptsTable {
  delivery_id: string;
  n: number;
  at: string;
  status: number | null;
  error: string | null;
  ms: number;
}

export interface SchedulesTable {
  id: string;
  owner: string;
  name: string;
  goal: string;
  /** What each firing starts: model, approvals, limits, approvalTimeoutSec, webhooks (resolved). */
  request_json: string;
  cron: string | null;
  every_sec: number | null;
  timezone: string;
  overlap: string;
  created_at: string;
  deleted_at: string | null;
  /** The team the schedule and its firings' runs belong to (migration 019); null: personal. */
  team: string | null;
  /** The API key the schedule was created with (migration 027); null: a credential that is not a key. */
  key_id: string | null;
}

export interface WatchersTable {
  /** The API process. */
  instance: string;
  run_id: string;
  user: string;
  /** Open subscriptions of this user to this run in this process. */
  sockets: number;
  seen_at: string;
}

export interface ModelCallsTable {
  key: string;
  run_id: string;
  owner: string;
  model: string;
  /** UTC day, YYYY-MM-DD. */
  day: string;
  at_ms: number;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  cost_usd: number;
}

export interface CapacityBooksTable {
  model: string;
  rpm: number;
  input_tpm: number;
  output_tpm: number;
  updated_ms: number;
  /** Calibrated from actual usage: prompt tokens per character sent. */
  tokens_per_char: number;
}

export interface CapacityWaitersTable {
  run_id: string;
  model: string;
  owner: string;
  input_tokens: number;
  output_tokens: number;
  enqueued_ms: number;
  expires_ms: number;
}

export interface CapacityOwnerTurnsTable {
  model: string;
  owner: string;
  served_ms: number;
}

export interface CapacityReservationsTable {
  key: string;
  run_id: string;
  owner: string;
  model: string;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
  expires_ms: number;
}

export interface RateLimitHitsTable {
  id: Generated<number>;
  model: string;
  run_id: string;
  at_ms: number;
}

export interface WorkspacesTable {
  run_id: string;
  /** `active` (materialised on a worker), `hibernated` (durable copy only), `released` (gone). */
  state: string;
  version: number;
  manifest_json: string;
  files: number;
  bytes: number;
  /** The worker whose disk holds the workspace while active (its own task queue). */
  holder: string | null;
  local_bytes: Generated<number>;
  /** Restores so far: keys each restore's and hibernation's events. */
  cycle: Generated<number>;
  restores: Generated<number>;
  restore_ms: Generated<number>;
  updated_at: string;
  released_at: string | null;
}

export interface WorkspaceBlobsTable {
  run_id: string;
  hash: string;
  size: number;
  data: Buffer;
}

/** One row per agent version (migration 013): its data, stored once, referenced by runs. */
export interface AgentVersionsTable {
  name: string;
  version: string;
  data_json: string;
  published_at: string;
}

/** Which worker process serves which agent at which version, refreshed while it lives. */
export interface AgentWorkersTable {
  identity: string;
  agent: string;
  version: string;
  started_at: string;
  seen_at: string;
}

export interface TeamMembersTable {
  team: string;
  user_id: string;
  /** A Role of contract/identity.ts. */
  role: string;
  /** `provider`: from the identity provider's roles claim, replaced by each sign-in or token not older than the last write; `admin`: given by an admin. */
  source: string;
  updated_at: string;
}

/**
 * When the provider issued the `provider` roles stored for a user (migration 025): an older token's roles never
 * replace them (team-members.ts).
 */
export interface ProviderRolesIssuedTable {
  user_id: string;
  /** The issuing token's `iat` (or the sign-in's time), in epoch milliseconds. */
  issued_at_ms: number;
}

/** A team's daily model budget, set by the team's admin (migration 019). */
export interface TeamBudgetsTable {
  team: string;
  daily_usd: number;
  set_by: string;
  updated_at: string;
}

export interface UsersTable {
  id: string;
  /** Lower case; only a verified email is stored. */
  email: string | null;
  name: string | null;
  updated_at: string;
}

/** API keys (migration 018): a hash of each secret, never the secret. */
export interface ApiKeysTable {
  id: string;
  owner: string;
  name: string;
  /** Scopes of contract/identity.ts, as a JSON array. */
  scopes_json: string;
  /** SHA-256 of the secret part, hex. */
  secret_hash: string;
  created_at: string;
  expires_at: string | null;
  /** Written at most about once a minute per key. */
  last_used_at: string | null;
  revoked_at: string | null;
  revoked_by: string | null;
  /** The key that made this one (migration 026); null: a credential that is not a key did. */
  made_by: string | null;
}

export interface SessionsTable {
  /** SHA-256 of the session cookie's secret. */
  id: string;
  user_id: string;
  created_at: string;
  /** Last use, for the idle expiry (written at most once a minute). */
  seen_at: string;
  /** The absolute expiry. */
  expires_at: string;
  revoked_at: string | null;
}

export interface SignInsTable {
  /** SHA-256 of the OAuth `state`. */
  id: string;
  code_verifier: string;
  nonce: string;
  return_to: string;
  expires_at: string;
}

export interface Database {
  runs: RunsTable;
  events: EventsTable;
  messages: MessagesTable;
  effects: EffectsTable;
  approvals: ApprovalsTable;
  input_requests: InputRequestsTable;
  approval_audit: ApprovalAuditTable;
  live_text: LiveTextTable;
  ws_tickets: WsTicketsTable;
  team_members: TeamMembersTable;
  provider_roles_issued: ProviderRolesIssuedTable;
  users: UsersTable;
  api_keys: ApiKeysTable;
  sessions: SessionsTable;
  sign_ins: SignInsTable;
  team_budgets: TeamBudgetsTable;
  user_messages: UserMessagesTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  schedules: SchedulesTable;
  watchers: WatchersTable;
  model_calls: ModelCallsTable;
  capacity_books: CapacityBooksTable;
  capacity_waiters: CapacityWaitersTable;
  capacity_owner_turns: CapacityOwnerTurnsTable;
  capacity_reservations: CapacityReservationsTable;
  rate_limit_hits: RateLimitHitsTable;
  workspaces: WorkspacesTable;
  workspace_blobs: WorkspaceBlobsTable;
  agent_versions: AgentVersionsTable;
  agent_workers: AgentWorkersTable;
}
