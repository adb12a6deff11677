/**
 * Every configuration option, defined once: its name, its parser (type, default, validation) and
 * its documentation. The validated config (config.ts), its type, and the README's table
 * (`npm run docs:config`, kept in step by test/unit/config.test.ts) all come from OPTIONS.
 */
import path from 'node:path';
import { z } from 'zod';
import { APPROVAL_POLICIES, RISKS } from '../contract/run';
import { isTeamName, parseTeamRole, type TeamRole } from '../contract/identity';

/** The Claude model a run gets when it names none and the server has an API key. */
export const DEFAULT_CLAUDE_MODEL = 'claude-sonnet-5-5';

/**
 * Postgres connections a process's pool opens at most, unless DATABASE_POOL_MAX says: enough for a burst of runs
 * resuming at once (100 decisions: docs/benchmarks.md), while four or so processes stay under Postgres's default
 * `max_connections` (100).
 */
export const DEFAULT_DATABASE_POOL_MAX = 20;

/**
 * How long a Postgres query waits for a connection (a new one to open, or a pooled one to come free) before it
 * fails as the database being unreachable, unless DATABASE_CONNECT_TIMEOUT_MS says. Without it a server that stops
 * answering without closing the socket (a failover, a network partition, a dead host) holds every request until the
 * kernel gives up on the connection, about two minutes, where the API should answer 503 `store_unavailable`.
 */
export const DEFAULT_DATABASE_CONNECT_TIMEOUT_MS = 10_000;

/**
 * How long a Postgres statement already sent waits for the server's answer before it fails as the database being
 * unreachable and its connection is closed, unless DATABASE_STATEMENT_TIMEOUT_MS says. Without it a server that goes
 * silent mid-statement (a partition, a frozen server, a proxy that passes nothing) holds the caller and its pooled
 * connection for good. Every statement Longhaul runs after migrations takes milliseconds, the longest being a wait for
 * another transaction's advisory lock (itself a few short statements), so 30 s is far above any of them yet well
 * inside an activity's or a client's patience. Migrations run without it (open-database.ts).
 */
export const DEFAULT_DATABASE_STATEMENT_TIMEOUT_MS = 30_000;

/** A parser that knows the default it applies, so the README shows exactly that. */
const withDefault = <T extends z.ZodType>(schema: T, def: string | number | boolean): T => schema.meta({ default: `\`${def}\`` });

/** Empty strings count as unset, so `TEMPORAL_ADDRESS=` in a .env file means "not configured". */
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  withDefault(z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return def;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `must be an integer between ${min} and ${max}` });
        return z.NEVER;
      }
      return n;
    }), def);

/** A number of at least `min`; empty or unset: undefined. */
const optionalNum = (min = 0) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return undefined;
      const n = Number(v);
      if (!Number.isFinite(n) || n < min) {
        ctx.addIssue({ code: 'custom', message: `must be a number >= ${min}` });
        return z.NEVER;
      }
      return n;
    });

const num = (def: number, min = 0) => withDefault(optionalNum(min).transform((n) => n ?? def), def);

const bool = (def: boolean) =>
  withDefault(z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return def;
      if (/^(1|true|yes|on)$/i.test(v)) return true;
      if (/^(0|false|no|off)$/i.test(v)) return false;
      ctx.addIssue({ code: 'custom', message: 'must be true or false' });
      return z.NEVER;
    }), def);

const list = z
  .string()
  .optional()
  .transform((v) =>
    (v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );

/** `token:user,token2:user2` → Map(token → user). */
const tokenMap = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v.trim() === '') return undefined;
    const map = new Map<string, string>();
    for (const entry of v.split(',').map((s) => s.trim()).filter(Boolean)) {
      const idx = entry.lastIndexOf(':');
      const token = entry.slice(0, idx).trim();
      const user = entry.slice(idx + 1).trim();
      if (idx <= 0 || !token || !user) {
        ctx.addIssue({ code: 'custom', message: 'entries must look like token:user' });
        return z.NEVER;
      }
      if (token.length < 16) {
        ctx.addIssue({ code: 'custom', message: 'tokens must be at least 16 characters' });
        return z.NEVER;
      }
      map.set(token, user);
    }
    return map;
  });

/** `U123:alice,U456:bob` → Map(slackUserId → longhaul user). */
const slackUserMap = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const map = new Map<string, string>();
    for (const entry of (v ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
      const [slackId, user] = entry.split(':').map((s) => s.trim());
      if (!slackId || !user) {
        ctx.addIssue({ code: 'custom', message: 'entries must look like U123:alice' });
        return z.NEVER;
      }
      map.set(slackId, user);
    }
    return map;
  });

/** `payments:C0123,billing:C0456` → Map(team → Slack channel id) for the team's approval requests. */
const slackTeamChannels = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const map = new Map<string, string>();
    for (const entry of (v ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
      const [team, channel, ...rest] = entry.split(':').map((s) => s.trim());
      if (!team || !channel || rest.length > 0 || !isTeamName(team) || map.has(team)) {
        ctx.addIssue({ code: 'custom', message: `entries must look like payments:C0123, one per team (lower-case team names); got ${JSON.stringify(entry)}` });
        return z.NEVER;
      }
      map.set(team, channel);
    }
    return map;
  });

/**
 * The operator's word on an MCP server's tools, over their annotations (which are the server's own claim):
 * one risk for every tool of the server, or a risk per tool name (the tools not named keep their annotations).
 */
const mcpRisk = z.enum(RISKS);
const mcpRiskOverride = z.union([mcpRisk, z.record(z.string(), mcpRisk)]).optional();
export type McpRiskOverride = z.infer<typeof mcpRiskOverride>;

/** One MCP server: a command to spawn (stdio) or a Streamable HTTP endpoint. */
const mcpServer = z.union([
  z.object({ command: z.string().min(1), args: z.array(z.string()).optional(), env: z.record(z.string(), z.string()).optional(), risk: mcpRiskOverride }).strict(),
  z.object({ url: z.url({ protocol: /^https?$/ }), headers: z.record(z.string(), z.string()).optional(), risk: mcpRiskOverride }).strict(),
]);
export type McpServerSpec = z.infer<typeof mcpServer>;

/** `{"files":{"command":"npx","args":["…"]},"crm":{"url":"https://…/mcp"}}` → name → server. */
const mcpServers = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v.trim() === '') return {} as Record<string, McpServerSpec>;
    try {
      // Names become part of tool names (mcp__<name>__<tool>): letters, digits, - and single _.
      return z.record(z.string().regex(/^[a-zA-Z0-9-]+(_[a-zA-Z0-9-]+)*$/, 'server names are letters, digits, - and single _'), mcpServer).parse(JSON.parse(v));
    } catch (err) {
      // A JSON syntax error quotes the text around it, which may be a header's token: say only where it is.
      const position = err instanceof SyntaxError ? /position \d+/.exec(err.message)?.[0] : undefined;
      const detail = err instanceof SyntaxError ? `not valid JSON${position ? ` (at ${position})` : ''}` : String(err);
      ctx.addIssue({ code: 'custom', message: `must be JSON like {"name":{"command":"node","args":["server.js"]}} or {"name":{"url":"http://…/mcp"}}: ${detail}` });
      return z.NEVER;
    }
  });

/** A Standard Webhooks secret: `whsec_` and base64 of at least 24 bytes. */
const webhookSecret = optionalString.refine((v) => v === undefined || (/^whsec_[A-Za-z0-9+/=]+$/.test(v) && Buffer.from(v.slice(6), 'base64').length >= 24), {
  message: 'must be whsec_ followed by base64 of at least 24 random bytes',
});

const pricingEntry = z
  .object({
    inputPerMTok: z.number().min(0),
    outputPerMTok: z.number().min(0),
    cacheWritePerMTok: z.number().min(0).optional(),
    cacheReadPerMTok: z.number().min(0).optional(),
  })
  .strict();
const pricingTable = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v.trim() === '') return {} as Record<string, z.infer<typeof pricingEntry>>;
    try {
      return z.record(z.string(), pricingEntry).parse(JSON.parse(v));
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `must be JSON like {"model":{"inputPerMTok":3,"outputPerMTok":15}}: ${String(err)}` });
      return z.NEVER;
    }
  });

/** `{"claude-sonnet-5-5":{"rpm":50,"inputTpm":30000},"*":{…}}` → model (or `*`) → per-minute limits. */
const rateLimitEntry = z
  .object({ rpm: z.number().int().positive().optional(), inputTpm: z.number().int().positive().optional(), outputTpm: z.number().int().positive().optional() })
  .strict();
const rateLimits = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v.trim() === '') return new Map<string, z.infer<typeof rateLimitEntry>>();
    try {
      // A Map: a model named `__proto__` is a key like any other.
      return new Map(Object.entries(z.record(z.string().min(1), rateLimitEntry).parse(JSON.parse(v))));
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `must be JSON like {"*":{"rpm":50,"inputTpm":30000,"outputTpm":8000}}: ${String(err)}` });
      return z.NEVER;
    }
  });

/** `alice:50,bob:10` → Map(user → USD per UTC day). */
const budgetMap = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const map = new Map<string, number>();
    for (const entry of (v ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
      const idx = entry.lastIndexOf(':');
      const user = entry.slice(0, idx).trim();
      const usd = Number(entry.slice(idx + 1));
      if (idx <= 0 || !user || !Number.isFinite(usd) || usd < 0) {
        ctx.addIssue({ code: 'custom', message: 'entries must look like alice:50 (USD per day, >= 0)' });
        return z.NEVER;
      }
      map.set(user, usd);
    }
    return map;
  });

/** `ann:payments:admin,bob:payments:approver` → grants of a role on a team to a user. */
const teamRoles = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const grants: (TeamRole & { user: string })[] = [];
    for (const entry of (v ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
      const idx = entry.indexOf(':');
      const user = entry.slice(0, idx).trim();
      const role = idx > 0 ? parseTeamRole(entry.slice(idx + 1).trim()) : undefined;
      if (!user || !role) {
        ctx.addIssue({ code: 'custom', message: 'entries must look like ann:payments:admin (user:team:role; roles viewer, member, approver, admin)' });
        return z.NEVER;
      }
      grants.push({ user, ...role });
    }
    return grants;
  });

/** `payments:50` → Map(team → USD per UTC day). */
const teamBudgetMap = budgetMap.refine((m) => [...m.keys()].every(isTeamName), { message: 'team names are lower case letters, digits, - and _' });

const text = (def: string) => withDefault(z.string().optional().default(def), def);

const oneOf = <const V extends readonly [string, ...string[]]>(values: V, def: V[number]) => withDefault(z.enum(values).optional().default(def), def);

/** A folder, resolved against the working directory. */
const directory = (def: string) =>
  withDefault(
    z
      .string()
      .optional()
      .transform((v) => path.resolve(v && v.trim() ? v : def)),
    def,
  );

const postgresUrl = optionalString.refine((v) => v === undefined || /^postgres(ql)?:\/\//.test(v), {
  message: 'must be a postgres:// URL (leave unset for SQLite under DATA_DIR)',
});

/** A share between 0 and 1 (exclusive of 0), e.g. a target usage. */
const fraction = (def: number) =>
  withDefault(
    optionalNum(0).transform((n, ctx) => {
      if (n === undefined) return def;
      if (n <= 0 || n > 1) {
        ctx.addIssue({ code: 'custom', message: 'must be a number above 0 and at most 1 (e.g. 0.8)' });
        return z.NEVER;
      }
      return n;
    }),
    def,
  );

/** An integer in [min, max], or undefined when unset (a default that depends on another option). */
const optionalInt = (min: number, max: number) =>
  optionalNum(min).refine((n) => n === undefined || (Number.isInteger(n) && n <= max), { message: `must be an integer between ${min} and ${max}` });

export interface OptionSpec<T extends z.ZodType = z.ZodType> {
  parse: T;
  doc: string;
  /** The default as the README shows it; taken from the parser when it has one, else "—". */
  shown: string;
  /**
   * `value`: the whole value is a credential; `url`: a URL (or comma list of URLs) whose userinfo
   * and secret query values are. Never written anywhere (shared/redact.ts, `redactedConfig`).
   */
  secret?: SecretKind;
}

export type SecretKind = 'value' | 'url';

function option<T extends z.ZodType>(parse: T, doc: string, opts: { shown?: string; secret?: SecretKind } = {}): OptionSpec<T> {
  const meta = parse.meta() as { default?: string } | undefined;
  return { parse, doc, shown: opts.shown ?? meta?.default ?? '—', ...(opts.secret && { secret: opts.secret }) };
}

export const OPTIONS = {

  // Where things live
  DATA_DIR: option(directory('./data'), 'SQLite database, dev-server state and run workspaces'),
  DATABASE_URL: option(postgresUrl, '`postgres://…` to use Postgres instead of SQLite', { secret: 'url' }),
  DATABASE_POOL_MAX: option(
    int(DEFAULT_DATABASE_POOL_MAX, 1, 1000),
    'Postgres connections each process (API, worker) may hold at once: a burst of runs resuming together queues for them. An API process keeps one of them for its LISTEN, a worker one for the NOTIFYs of streamed text (from 4 up). Keep processes × this under the server\'s `max_connections` (100 unless raised). A worker\'s waits for them are `longhaul_db_connection_wait_ms`',
  ),
  DATABASE_CONNECT_TIMEOUT_MS: option(
    int(DEFAULT_DATABASE_CONNECT_TIMEOUT_MS, 100, 600_000),
    'Postgres: how long a query waits for a connection (to open, or to come free in the pool) before failing as the database unreachable: the API answers 503 `store_unavailable`, an activity waits for the database and runs again',
  ),
  DATABASE_STATEMENT_TIMEOUT_MS: option(
    int(DEFAULT_DATABASE_STATEMENT_TIMEOUT_MS, 100, 3_600_000),
    'Postgres: how long a statement waits for the server\'s answer before failing as the database unreachable (as above), its connection closed rather than reused. Keep it above the longest statement you expect; migrations are not bound by it',
  ),
  LOG_LEVEL: option(oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'), '`fatal`…`trace`, or `silent`'),
  OTEL_EXPORTER_OTLP_ENDPOINT: option(
    optionalString.refine((v) => v === undefined || /^https?:\/\/\S+$/.test(v), { message: 'must be an http(s) URL' }),
    'OTLP/HTTP endpoint for traces (e.g. `http://collector:4318`); set, every process exports spans there (standard `OTEL_*` variables apply)',
    { secret: 'url' },
  ),
  OTEL_SERVICE_NAME: option(optionalString, 'Service name on exported spans', { shown: '`longhaul-api`, `longhaul-worker` or `longhaul`' }),
  LOG_FORMAT: option(oneOf(['auto', 'json', 'pretty'], 'auto'), '`json` (one object per line), `pretty` (short lines for people), or `auto`: pretty on a terminal, JSON otherwise'),

  // Temporal
  TEMPORAL_ADDRESS: option(optionalString, 'Temporal frontend `host:port`; unset (and no profile): `npm start` runs the dev server'),
  TEMPORAL_NAMESPACE: option(optionalString, 'Temporal namespace', { shown: '`default`' }),
  TEMPORAL_PROFILE: option(optionalString, 'A profile of Temporal\'s client config file (TOML, as the Temporal CLI reads it); the `TEMPORAL_*` variables override it'),
  TEMPORAL_CONFIG_FILE: option(optionalString, 'That config file, when not at the default path (`~/.config/temporalio/temporal.toml`)'),
  TEMPORAL_TASK_QUEUE: option(text('longhaul'), 'Task queue of the worker and of new runs'),
  TEMPORAL_API_KEY: option(optionalString, 'API key (Temporal Cloud); implies TLS', { secret: 'value' }),
  TEMPORAL_TLS: option(bool(false), 'Use TLS to reach Temporal'),
  TEMPORAL_TLS_CLIENT_CERT_PATH: option(optionalString, 'mTLS client certificate (with `TEMPORAL_TLS_CLIENT_KEY_PATH`)'),
  TEMPORAL_TLS_CLIENT_KEY_PATH: option(optionalString, 'mTLS client key'),
  TEMPORAL_TLS_CERT_PATH: option(optionalString, 'Older name of `TEMPORAL_TLS_CLIENT_CERT_PATH` (still read)'),
  TEMPORAL_TLS_KEY_PATH: option(optionalString, 'Older name of `TEMPORAL_TLS_CLIENT_KEY_PATH` (still read)'),
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: option(optionalString, 'CA certificate that signed the server\'s (a private CA)'),
  TEMPORAL_TLS_SERVER_NAME: option(optionalString, 'Server name to expect in its certificate (SNI), when it differs from the address'),
  TEMPORAL_DEV_PORT: option(int(7233, 1, 65535), 'Port of the dev server `npm start` runs'),
  TEMPORAL_DEV_UI_PORT: option(int(8233, 0, 65535), 'Port of its web UI (`0`: no UI)'),
  TEMPORAL_UI_URL: option(
    optionalString
      .refine((v) => v === undefined || /^https?:\/\/[^\s]+$/.test(v), { message: 'must be an http(s) URL' })
      // Every run owner is given this link: credentials in it would be handed to them all, and a browser link cannot use them anyway.
      .refine((v) => v === undefined || !v.includes('@'), { message: 'has user:password@ in it, which every run owner would see in the link; put the UI behind your sign-in instead' }),
    'The Temporal Web UI, for a link from each run to its workflow; `npm start` sets it to its dev server\'s UI', { secret: 'url' }),
  WORKFLOW_BUNDLE_PATH: option(optionalString, 'Prebuilt workflow bundle (skips bundling at worker start)'),

  // Model
  ANTHROPIC_API_KEY: option(optionalString, 'Claude API key; unset: only the offline `demo` model is available', { secret: 'value' }),
  ANTHROPIC_BASE_URL: option(optionalString, 'Messages API base URL (proxies, tests)', { shown: 'Anthropic', secret: 'url' }),
  MODEL_HTTP_CLIENT: option(
    oneOf(['node', 'fetch'], 'node'),
    '`node`: model calls go over `node:http`/`https` with kept-alive connections (a quarter less CPU a streamed delta than `fetch`; docs/benchmarks.md, session 17); `fetch`: over Node\'s global `fetch`, which follows a dispatcher set with undici\'s `setGlobalDispatcher` (a proxy) and, on Node 24, `NODE_USE_ENV_PROXY`',
  ),
  LLM_MODEL: option(optionalString, 'Model for runs that name none', { shown: `\`${DEFAULT_CLAUDE_MODEL}\` (\`demo\` without a key)` }),
  LLM_MAX_TOKENS: option(int(4096, 1, 128000), '`max_tokens` per model call'),
  MODEL_PRICING: option(pricingTable, 'JSON `{"model":{"inputPerMTok":2,"outputPerMTok":10}}` added to the price table', { shown: 'built-in table' }),
  ALLOWED_MODELS: option(list, 'Comma list of models runs may use besides those in the price table (priced like the dearest)', { shown: 'the price table' }),
  MODEL_RATE_LIMITS: option(
    rateLimits,
    'JSON: model (or `*` for any other) → `{ "rpm"?, "inputTpm"?, "outputTpm"? }`, the API key\'s per-minute limits, shared by every worker; calls wait for room instead of meeting 429s',
    { shown: 'no limiting' },
  ),
  PROMPT_CACHING: option(bool(true), 'Mark the stable prefix of each model call (tools, system, the transcript up to the previous turn) for Anthropic prompt caching'),
  USER_DAILY_BUDGET_USD: option(optionalNum(0), 'Model spend per user per UTC day; a run whose owner is out of budget pauses until the next day', { shown: 'none' }),
  USER_DAILY_BUDGETS: option(budgetMap, '`alice:50,bob:10`: per-user daily budgets (USD) overriding the one above', { shown: 'none' }),
  DEMO_STREAM_DELAY_MS: option(int(25, 0, 10_000), 'Pause between words the demo model streams'),

  // HTTP API
  HOST: option(text('127.0.0.1'), 'API bind address; anything but loopback requires `API_TOKENS` or sign-in (`OIDC_ISSUER`)'),
  PORT: option(int(3000, 0, 65535), 'API port'),
  API_TOKENS: option(tokenMap, '`token:user,…`; when set every `/api` route needs `Authorization: Bearer <token>`', { secret: 'value' }),
  ALLOWED_ORIGINS: option(list, 'Comma list of browser origins allowed to open sockets', { shown: 'the server\'s own' }),
  MAX_BODY_BYTES: option(int(256 * 1024, 1024), 'Largest request body'),
  MAX_GOAL_CHARS: option(int(20_000, 1), 'Longest goal'),
  PROGRESS_QUERY_TIMEOUT_MS: option(int(3000, 100), 'How long the API waits for a worker to answer the progress query'),
  START_RUN_WAIT_MS: option(
    int(100, 0, 10_000),
    'How long `POST /api/runs` waits for Temporal to take the run\'s workflow before it answers `202` all the same; the start goes on after the answer (the sweeper makes it if this API cannot)',
  ),
  START_RUN_TIMEOUT_MS: option(int(10_000, 500), 'How long one try to start a run\'s workflow waits for Temporal (the API tries for two minutes, then the sweeper every minute)'),
  LIVE_TAIL_INTERVAL_MS: option(int(100, 10, 100), 'SQLite with API and worker in separate processes: how often the API tails the database for live updates (10–100)'),
  WS_MAX_BUFFERED_BYTES: option(int(1024 * 1024, 1024), 'A socket that falls this far behind is closed with code 4008 (resume)'),
  WS_PING_INTERVAL_SEC: option(int(15, 1), 'Socket ping interval; a socket that misses a pong is terminated'),
  WS_TICKET_TTL_SEC: option(int(60, 5, 3600), 'Lifetime of a single-use socket ticket (`POST /api/ws-ticket`)'),

  // Tools
  HTTP_TOOL_ALLOWED_HOSTS: option(list, 'Hosts (`host` or `host:port`) `http_request` may call', { shown: 'none' }),
  HTTP_TOOL_IDEMPOTENT_HOSTS: option(list, 'Of those, the hosts that honour `Idempotency-Key`: an `http_request` to one that a crash interrupted is sent again; to any other, a human is asked first', { shown: 'none' }),
  HTTP_TOOL_TIMEOUT_SEC: option(int(30, 1), 'Timeout of one `http_request`'),
  TOOL_OUTPUT_MAX_BYTES: option(int(256 * 1024, 1024), 'Tool output kept and shown to the model; the rest is cut with a marker'),
  TOOL_SANDBOX_SUSPECTS: option(
    bool(true),
    'A tool call re-run after its worker was lost while running it runs in a process of its own (the worker forks its entry), so a tool that kills its process again kills only that one; off, or in a worker not started by `runWorkerProcess`, it runs in the worker after a pause',
  ),
  WORKSPACE_MAX_FILE_BYTES: option(int(1024 * 1024, 1), 'Largest workspace file'),
  WORKSPACE_MAX_TOTAL_BYTES: option(int(50 * 1024 * 1024, 1), 'Largest workspace: its files\' bytes and the size of the list of its files and folders'),
  WORKSPACE_MAX_ENTRIES: option(int(10_000, 1), 'Most files and folders in a workspace'),
  WORKSPACE_MAX_DEPTH: option(int(32, 1), 'Deepest path in a workspace, in folders (`a/b/c.txt` is 3)'),
  WORKSPACE_STORE_URL: option(
    optionalString.refine((v) => v === undefined || /^s3:\/\/[^/]+/.test(v), { message: 'must be s3://bucket/prefix (leave unset to keep workspaces in the database)' }),
    'Where workspace files live durably: unset keeps them in the database; `s3://bucket/prefix` uses an S3-compatible store (endpoint and credentials from the usual `AWS_*` variables)',
    { shown: 'the database' },
  ),
  WORKSPACE_IDLE_SEC: option(int(300, 1), 'A workspace unused this long is dropped from the worker\'s disk (hibernated); the next tool call restores it'),
  WORKSPACE_RETENTION_SEC: option(int(7 * 86_400, 1), 'How long after a run ends its workspace is kept before it is released'),
  MCP_SERVERS: option(
    mcpServers,
    'JSON: name → `{ "command", "args"?, "env"? }` (stdio) or `{ "url", "headers"? }` (Streamable HTTP), each with an optional `"risk"`: `"irreversible"` (every tool of the server) or `{ "<tool>": "irreversible", … }`, which wins over the tools\' annotations. Their tools join as `mcp__<name>__<tool>`',
    { shown: 'none' },
  ),

  // Webhooks
  WEBHOOK_URLS: option(list, 'Comma list of URLs told of every run’s events (`run.completed`, `run.failed`, `run.cancelled`, `approval.requested`, `input.requested`, `run.stalled`)', { secret: 'url' }),
  WEBHOOK_SECRET: option(webhookSecret, 'Signs every webhook (Standard Webhooks: `whsec_` + base64); required when any webhook is used', { secret: 'value' }),
  WEBHOOK_ALLOWED_HOSTS: option(list, 'Hosts (`host` or `host:port`) webhooks may be sent to; the same rules as `http_request`', { shown: 'none' }),
  WEBHOOK_MAX_ATTEMPTS: option(int(10, 1, 100), 'Attempts per webhook delivery (exponential backoff between them)'),
  WEBHOOK_MAX_AGE_SEC: option(int(86_400, 10), 'A delivery not accepted within this long after its event is given up'),

  // Activity execution
  ACTIVITY_HEARTBEAT_TIMEOUT_SEC: option(int(10, 1), 'A worker that stops heartbeating is given up on after this'),
  MODEL_CALL_TIMEOUT_SEC: option(int(600, 1), 'Start-to-close timeout of one model call'),
  TOOL_CALL_TIMEOUT_SEC: option(int(600, 1), 'Start-to-close timeout of one tool call'),
  ACTIVITY_MAX_ATTEMPTS: option(int(6, 1, 100), 'Attempts per model or tool call before the run fails'),
  WORKER_SHUTDOWN_GRACE_SEC: option(int(30, 0), 'On SIGTERM, time given to in-flight activities'),
  WORKER_STICKY_TIMEOUT_SEC: option(int(2, 1, 600), 'How long a dead worker\'s sticky queue holds a run\'s next task'),
  WORKER_DEPLOYMENT_NAME: option(text('longhaul'), 'The Worker Deployment this worker belongs to (its version: this name and `WORKER_BUILD_ID`)'),
  WORKER_BUILD_ID: option(
    optionalString.refine((v) => v === undefined || /^[\w.+-]{1,255}$/.test(v), { message: 'letters, digits and . _ + - only' }),
    'This worker\'s build id',
    { shown: 'the package version and a hash of the workflow bundle' },
  ),
  WORKER_VERSIONING: option(
    bool(false),
    'Worker Deployment Versioning: tasks go to the deployment\'s current version, and runs move to a new current version at their next task (auto-upgrade; keep workflow changes behind `patched()`)',
  ),
  WORKER_HEALTH_ADDRESS: option(
    z
      .string()
      .optional()
      .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()))
      .refine((v) => v === undefined || /^(\[[0-9a-fA-F:]+\]|[^:\s]*):\d{1,5}$/.test(v), { message: 'must be host:port (e.g. 0.0.0.0:9090)' }),
    '`host:port` where a worker answers `GET /healthz` (200 while polling, 503 otherwise) for orchestrators',
  ),
  METRICS_PROMETHEUS_ADDRESS: option(optionalString, '`host:port` where a worker serves its metrics (Temporal SDK and Longhaul) for Prometheus'),

  // Worker concurrency (README: Sizing a worker)
  WORKER_TUNER: option(
    oneOf(['fixed', 'resource'], 'fixed'),
    '`fixed`: the slot counts below are the limits; `resource`: Temporal\'s resource-based tuner hands out slots up to those counts while the process stays under `WORKER_TUNER_TARGET_MEMORY` and `_CPU` (it ramps slowly: one activity slot per 50 ms)',
  ),
  WORKER_ACTIVITY_SLOTS: option(
    int(2000, 1, 100_000),
    'Activities (model and tool calls) a worker runs at once; a streaming model call holds one for its whole stream while the process mostly waits on the network, and costs little memory: 2,000 is room for 1,000 streaming runs and their tool calls',
  ),
  WORKER_LOCAL_ACTIVITY_SLOTS: option(int(200, 1, 100_000), 'Local activities (fast steps, quick steps, bookkeeping) a worker runs at once; each is a call that answered in milliseconds last time'),
  WORKER_WORKFLOW_TASK_SLOTS: option(
    int(100, 2, 10_000),
    'Workflow tasks a worker runs at once; most of a task\'s CPU is on the worker\'s main thread beside the activities, so more only queue there (400 resumed a burst of decisions more slowly than 100): 100 covers the round trips of a resume storm; at most `WORKER_CACHED_WORKFLOWS`',
  ),
  WORKER_WORKSPACE_ACTIVITY_SLOTS: option(
    int(200, 1, 100_000),
    'Tool calls a worker runs at once on its own queue (runs whose workspaces it holds), apart from `WORKER_ACTIVITY_SLOTS`: they use this process\'s disk and CPU, and can never take a model call\'s slot',
  ),
  WORKER_CACHED_WORKFLOWS: option(
    int(1000, 0, 1_000_000),
    'Runs kept in the worker\'s sticky cache (a run parked on a human stays there, holding no slot, until evicted); a cached parked run was measured at ~0.36 MB of the worker\'s memory and an evicted one at next to nothing (docs/benchmarks.md), so 1,000 bounds the cache near 0.36 GB however many runs are parked; the least recently used are evicted and replay their short history at their next task; 0: no cache',
  ),
  WORKER_TUNER_TARGET_MEMORY: option(fraction(0.8), '`WORKER_TUNER=resource`: share of the machine\'s memory the tuner aims to stay under; a fifth is left for the rest of the machine and for spikes'),
  WORKER_TUNER_TARGET_CPU: option(fraction(0.9), '`WORKER_TUNER=resource`: share of the machine\'s CPU the tuner aims to stay under; near full, since a busy CPU slows calls but does not crash the worker'),
  WORKER_POLLERS: option(
    oneOf(['autoscaling', 'fixed'], 'autoscaling'),
    'How many polls for tasks a worker keeps open: `autoscaling` (Temporal\'s recommendation; the server, 1.28 or later, says when more would help) or `fixed` (always the maximum below while slots are free)',
  ),
  WORKER_WORKFLOW_POLLERS: option(optionalInt(2, 1000), 'Most workflow task polls open at once', { shown: '`100` (autoscaling), `10` (fixed): the SDK\'s' }),
  WORKER_ACTIVITY_POLLERS: option(optionalInt(1, 1000), 'Most activity task polls open at once (per queue)', { shown: '`100` (autoscaling), `10` (fixed): the SDK\'s' }),

  // Run defaults and admin maxima
  DEFAULT_MAX_STEPS: option(int(50, 1), 'Steps per run (`maxSteps`: model turns, each one model call and the tool calls it asks for) unless the run asks otherwise'),
  MAX_STEPS_LIMIT: option(int(1000, 1), 'Most steps (model turns) a run may ask for'),
  DEFAULT_MAX_COST_USD: option(num(5), 'Spend cap per run'),
  MAX_COST_USD_LIMIT: option(num(500), 'Highest spend cap a run may ask for'),
  DEFAULT_MAX_DURATION_SEC: option(int(24 * 3600, 1), 'Wall-clock cap per run'),
  MAX_DURATION_SEC_LIMIT: option(int(14 * 24 * 3600, 1), 'Longest wall-clock cap a run may ask for'),
  SUBAGENT_COST_SHARE: option(
    withDefault(
      optionalNum(0).transform((n, ctx) => {
        if (n === undefined) return 0.5;
        if (n <= 0 || n > 1) {
          ctx.addIssue({ code: 'custom', message: 'must be a share above 0 and at most 1' });
          return z.NEVER;
        }
        return n;
      }),
      0.5,
    ),
    "Share of what its parent has left of its cost cap that a sub-agent's run reserves at its start (its cost cap), unless the parent agent's `subagents` entry gives it a `maxCostUsd` of its own",
  ),
  SEGMENT_MAX_TURNS: option(int(40, 1), 'Turns before the run hands off to a fresh segment (continue-as-new)'),
  MAX_SEGMENTS: option(int(20, 1), 'Segments before the run pauses for a human'),
  LOOP_DETECTION_THRESHOLD: option(int(4, 2), 'Identical failing tool calls in a row that stop a run'),
  MAX_CONCURRENT_RUNS_PER_USER: option(int(5, 1), 'Runs per user executing at once; more wait in `queued`'),
  MAX_QUEUED_RUNS_PER_USER: option(int(20, 0), 'Queued runs per user before `POST /api/runs` answers 429'),
  STALL_THRESHOLD_SEC: option(int(15 * 60, 1), 'No progress for this long flags a run as stalled'),
  SCHEDULE_MIN_INTERVAL_SEC: option(int(60, 1), 'Shortest time between a schedule\'s firings: its `everySec`, or its `cron`\'s closest two firings in a day'),
  MAX_SCHEDULES_PER_USER: option(int(10, 0), 'Schedules per user before `POST /api/schedules` answers 429'),
  SUBAGENTS_MAX_PARALLEL_CHILDREN: option(int(4, 1, 100), 'Sub-agents: most child runs of one run at once (the rest wait their turn); an agent\'s `subagentBounds` may set fewer'),
  SUBAGENTS_MAX_DEPTH: option(int(3, 0, 10), 'Sub-agents: deepest a run tree goes (the root run at depth 0; `0`: no delegation); an agent\'s `subagentBounds` may set less'),
  SUBAGENTS_MAX_CHILDREN: option(int(50, 1, 1000), 'Sub-agents: most child runs one run starts over its life (well below Temporal\'s 2,000 pending children); an agent\'s `subagentBounds` may set fewer'),

  // Human in the loop
  DEFAULT_APPROVALS: option(oneOf(APPROVAL_POLICIES, 'write'), 'Approval policy of runs that name none: `none`, `write`, `all`'),
  MIN_APPROVALS: option(oneOf(APPROVAL_POLICIES, 'none'), 'Admin minimum: runs may ask for more approvals, never fewer'),
  APPROVAL_TIMEOUT_SEC: option(int(86_400, 1), 'An unanswered approval or question is rejected after this'),
  MAX_APPROVAL_TIMEOUT_SEC: option(int(30 * 86_400, 1), 'Longest `approvalTimeoutSec` a run may ask for'),
  APPROVERS: option(list, 'Users who may see and decide the approvals of personal runs (runs of no team); a team\'s runs are its approvers\''),
  SELF_APPROVAL: option(bool(true), 'A run\'s owner may decide its approvals'),
  COST_CHECKPOINT_USD: option(num(0), 'Ask to continue each time spend crosses a multiple of this', { shown: '`0` (off)' }),

  // Identity: sign-in with an OpenID Provider (README: Deploying: identity)
  OIDC_ISSUER: option(
    optionalString.refine((v) => v === undefined || /^https?:\/\/[^\s]+$/.test(v), { message: 'must be the provider\'s http(s) issuer URL' }),
    'The OpenID Provider\'s issuer URL (discovery at `/.well-known/openid-configuration`); set, the web UI signs people in there and the API takes its JWTs; needs `OIDC_CLIENT_ID` and `PUBLIC_URL` (the redirect URI is `PUBLIC_URL/auth/callback`)',
  ),
  OIDC_CLIENT_ID: option(optionalString, 'Longhaul\'s client id at the provider'),
  OIDC_CLIENT_SECRET: option(optionalString, 'Its client secret; unset: a public client (PKCE alone)', { secret: 'value' }),
  OIDC_SCOPES: option(optionalString, 'Scopes asked at sign-in (space separated)', { shown: '`openid profile email` and the roles claim\'s name (`groups`)' }),
  OIDC_USER_CLAIM: option(text('sub'), 'The claim (of the ID token, userinfo or a JWT) that is the Longhaul user id'),
  OIDC_ROLES_CLAIM: option(text('groups'), 'The claim listing a user\'s roles as `team:role` strings (`payments:approver`); other values are ignored'),
  OIDC_AUDIENCE: option(optionalString, 'The `aud` a JWT bearer token must carry', { shown: 'the client id' }),
  OIDC_JWT_ALGS: option(
    withDefault(list.transform((v) => (v.length ? v : ['RS256'])).refine((v) => v.every((a) => /^(RS|PS|ES)(256|384|512)$|^EdDSA$|^Ed25519$/.test(a)), { message: 'asymmetric JWS algorithms only (RS256, PS256, ES256, EdDSA…); never none or HS*' }), 'RS256'),
    'Comma list of the signature algorithms a JWT may use; `none` and shared-secret ones are never accepted',
  ),
  OIDC_CLOCK_SKEW_SEC: option(int(60, 0, 300), 'Clock difference tolerated when checking a JWT\'s `exp` and `nbf` (and the ID token\'s)'),
  SESSION_IDLE_SEC: option(int(8 * 3600, 60), 'A browser session unused this long ends'),
  SESSION_MAX_SEC: option(int(7 * 86_400, 60), 'A browser session ends this long after sign-in, however much it is used'),
  // Teams
  TEAM_ROLES: option(teamRoles, '`ann:payments:admin,bob:payments:approver`: roles granted at start (for static-token setups; a sign-in provider\'s roles come from its claim)', { shown: 'none' }),
  TEAM_DAILY_BUDGETS: option(teamBudgetMap, '`payments:50`: model spend per team per UTC day (USD), beside each user\'s; a team admin may set it through the API instead', { shown: 'none' }),

  // Slack
  SLACK_BOT_TOKEN: option(optionalString, 'Slack bot token (with the two below, turns Slack approvals on)', { secret: 'value' }),
  SLACK_SIGNING_SECRET: option(optionalString, 'Verifies Slack interaction requests', { secret: 'value' }),
  SLACK_CHANNEL: option(optionalString, 'Channel approval requests are posted to'),
  SLACK_TEAM_CHANNELS: option(slackTeamChannels, "`payments:C0123,…`: a team run's approval requests go to its team's channel; personal runs and teams not listed use SLACK_CHANNEL", { shown: 'none' }),
  SLACK_USERS: option(slackUserMap, '`U123:alice,…` maps Slack users to Longhaul users'),
  SLACK_MATCH_EMAIL: option(bool(true), "A Slack user not in SLACK_USERS is the Longhaul user with the same verified email (Slack's `users.info`, scope `users:read.email`)"),
  SLACK_API_URL: option(optionalString, 'Base URL of the Slack Web API (tests)', { shown: 'Slack', secret: 'url' }),
  PUBLIC_URL: option(optionalString, 'Where users reach the web UI, for links in Slack messages and the sign-in redirect URI', { secret: 'url' }),
} satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof OPTIONS;

/** The environment's schema, from OPTIONS. */
export const envSchema = z.object(
  Object.fromEntries(Object.entries(OPTIONS).map(([name, o]) => [name, o.parse])) as { [K in OptionName]: (typeof OPTIONS)[K]['parse'] },
);

/** The README's configuration table, from OPTIONS. */
export function configTable(): string {
  const rows = Object.entries(OPTIONS).map(([name, o]) => `| \`${name}\` | ${o.shown} | ${o.doc} |`);
  return ['| Variable | Default | Meaning |', '| --- | --- | --- |', ...rows].join('\n');
}
