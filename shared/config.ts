/**
 * Configuration, read once at process start from the environment and validated against the
 * options defined in config-options.ts (where each option's type, default and doc live).
 * Secrets (API keys, tokens, signing secrets, URL credentials) are never logged: use `redactedConfig`
 * for logs; loadConfig remembers the secret options' values so that redact.ts scrubs them anywhere.
 */
import { DEFAULT_CLAUDE_MODEL, envSchema, OPTIONS, type OptionSpec } from './config-options';
import { isSecretName, redactUrl, redactUrlPath, redactValue, rememberSecretPaths, rememberSecrets } from './redact';
import type { z } from 'zod';
import { AllowedHosts } from './net/allowed-hosts';
import { resolveTemporalConnection, type TemporalConnectionSettings } from './temporal/connection-profile';

export type Env = z.input<typeof envSchema>;
type Parsed = z.output<typeof envSchema>;

export class ConfigError extends Error {
  constructor(public readonly issues: string[]) {
    super(`Invalid configuration:\n  ${issues.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

export type Config = ReturnType<typeof toConfig>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  rememberSecrets(secretOptionValues(env));
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const e = parsed.data;
  const issues: string[] = [];
  const slackKeys = [e.SLACK_BOT_TOKEN, e.SLACK_SIGNING_SECRET, e.SLACK_CHANNEL];
  if (slackKeys.some(Boolean) && !slackKeys.every(Boolean)) {
    issues.push('SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET and SLACK_CHANNEL must be set together');
  }
  if (e.SLACK_TEAM_CHANNELS.size > 0 && !slackKeys.every(Boolean)) issues.push('SLACK_TEAM_CHANNELS needs Slack (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_CHANNEL)');
  const clientCert = e.TEMPORAL_TLS_CLIENT_CERT_PATH ?? e.TEMPORAL_TLS_CERT_PATH;
  const clientKey = e.TEMPORAL_TLS_CLIENT_KEY_PATH ?? e.TEMPORAL_TLS_KEY_PATH;
  if ((clientCert === undefined) !== (clientKey === undefined)) {
    issues.push('TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH (or the older TEMPORAL_TLS_CERT_PATH / TEMPORAL_TLS_KEY_PATH) must be set together');
  }
  let connection: TemporalConnectionSettings | undefined;
  try {
    connection = resolveTemporalConnection(e);
  } catch (err) {
    issues.push(`TEMPORAL_PROFILE / TEMPORAL_CONFIG_FILE: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (e.DEFAULT_MAX_STEPS > e.MAX_STEPS_LIMIT) issues.push('DEFAULT_MAX_STEPS must not exceed MAX_STEPS_LIMIT');
  if (e.DEFAULT_MAX_COST_USD > e.MAX_COST_USD_LIMIT) issues.push('DEFAULT_MAX_COST_USD must not exceed MAX_COST_USD_LIMIT');
  if (e.DEFAULT_MAX_DURATION_SEC > e.MAX_DURATION_SEC_LIMIT) {
    issues.push('DEFAULT_MAX_DURATION_SEC must not exceed MAX_DURATION_SEC_LIMIT');
  }
  if (e.APPROVAL_TIMEOUT_SEC > e.MAX_APPROVAL_TIMEOUT_SEC) {
    issues.push('APPROVAL_TIMEOUT_SEC must not exceed MAX_APPROVAL_TIMEOUT_SEC');
  }
  // The SDK would quietly lower the slots to the cache size; say so instead.
  if (e.WORKER_CACHED_WORKFLOWS > 0 && e.WORKER_WORKFLOW_TASK_SLOTS > e.WORKER_CACHED_WORKFLOWS) {
    issues.push('WORKER_WORKFLOW_TASK_SLOTS must not exceed WORKER_CACHED_WORKFLOWS (a workflow task needs its run in the cache)');
  }
  if (e.WORKER_CACHED_WORKFLOWS === 1) issues.push('WORKER_CACHED_WORKFLOWS must be 0 (no cache) or at least 2');
  const hooksAllowed = new AllowedHosts(e.WEBHOOK_ALLOWED_HOSTS);
  for (const url of e.WEBHOOK_URLS) {
    let refusal: string | null;
    try {
      const parsed = new URL(url);
      // fetch refuses a URL with credentials in it, so such a webhook would never be delivered.
      refusal = parsed.username || parsed.password
        ? 'has user:password@ in it, which fetch refuses to send; let the receiver check the webhook signature (WEBHOOK_SECRET), or put a token in the path'
        : hooksAllowed.refusal(parsed, 'WEBHOOK_ALLOWED_HOSTS');
    } catch {
      refusal = 'not a URL';
    }
    if (refusal) issues.push(`WEBHOOK_URLS: ${redactUrlPath(url)}: ${refusal}`);
  }
  // A webhook URL's path is often its token (Slack, Teams, Discord): shown as scheme and host only, wherever it is written.
  rememberSecretPaths(e.WEBHOOK_URLS);
  if (e.OIDC_ISSUER && (!e.OIDC_CLIENT_ID || !e.PUBLIC_URL)) issues.push('OIDC_ISSUER needs OIDC_CLIENT_ID and PUBLIC_URL (the redirect URI is PUBLIC_URL/auth/callback)');
  if (e.OIDC_ISSUER && e.PUBLIC_URL && !/^https?:\/\/[^\s/]+/.test(e.PUBLIC_URL)) issues.push('PUBLIC_URL must be an http(s) URL for sign-in');
  if (!e.OIDC_ISSUER && e.OIDC_CLIENT_ID) issues.push('OIDC_CLIENT_ID needs OIDC_ISSUER');
  if (e.SESSION_IDLE_SEC > e.SESSION_MAX_SEC) issues.push('SESSION_IDLE_SEC must not exceed SESSION_MAX_SEC');
  if (e.WEBHOOK_URLS.length && !e.WEBHOOK_SECRET) issues.push('WEBHOOK_URLS needs WEBHOOK_SECRET to sign what it sends');
  // A profile's credentials come from its file, not the environment: remembered as well.
  rememberSecrets([connection?.apiKey, ...secretMetadata(connection?.grpcMeta), ...inlineKeys(connection)]);
  if (issues.length || !connection) throw new ConfigError(issues);
  return toConfig(e, connection);
}

/** The validated options, grouped as the code uses them. Its shape is the `Config` type. */
function toConfig(e: Parsed, connection: TemporalConnectionSettings) {
  return {
    dataDir: e.DATA_DIR,
    /** host:port where a worker serves Temporal SDK and Longhaul metrics for Prometheus. */
    metricsPrometheusAddress: e.METRICS_PROMETHEUS_ADDRESS,
    /** host:port where a worker answers GET /healthz. */
    workerHealthAddress: e.WORKER_HEALTH_ADDRESS,
    databaseUrl: e.DATABASE_URL,
    /** Postgres: the most connections this process's pool opens. */
    databasePoolMax: e.DATABASE_POOL_MAX,
    /** Postgres: how long a query waits for a connection before it fails as an outage. */
    databaseConnectTimeoutMs: e.DATABASE_CONNECT_TIMEOUT_MS,
    /** Postgres: how long a statement waits for the server's answer before it fails as an outage and its connection is closed. */
    databaseStatementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    tracing: { otlpEndpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT, serviceName: e.OTEL_SERVICE_NAME },
    temporal: {
      /** Address, namespace, API key, TLS and gRPC metadata: a Temporal profile overridden by TEMPORAL_* (connection-profile.ts). */
      ...connection,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      devPort: e.TEMPORAL_DEV_PORT,
      devUiPort: e.TEMPORAL_DEV_UI_PORT,
      uiUrl: e.TEMPORAL_UI_URL?.replace(/\/+$/, ''),
      workflowBundlePath: e.WORKFLOW_BUNDLE_PATH,
    },
    model: {
      apiKey: e.ANTHROPIC_API_KEY,
      baseUrl: e.ANTHROPIC_BASE_URL,
      httpClient: e.MODEL_HTTP_CLIENT,
      /** The model a run gets when it names none: LLM_MODEL, or "demo" when no API key is set. */
      defaultModel: e.LLM_MODEL ?? (e.ANTHROPIC_API_KEY ? DEFAULT_CLAUDE_MODEL : 'demo'),
      maxTokens: e.LLM_MAX_TOKENS,
      pricing: e.MODEL_PRICING,
      /** Models accepted besides the price table's. */
      allowedModels: e.ALLOWED_MODELS,
      /** Model (or `*`) → the API key's per-minute limits; empty: no limiting. */
      rateLimits: e.MODEL_RATE_LIMITS,
      promptCaching: e.PROMPT_CACHING,
      demoStreamDelayMs: e.DEMO_STREAM_DELAY_MS,
    },
    budgets: {
      /** USD per owner per UTC day; undefined: no budget unless the owner has one of their own. */
      dailyUsd: e.USER_DAILY_BUDGET_USD,
      perUser: e.USER_DAILY_BUDGETS,
    },
    api: {
      host: e.HOST,
      port: e.PORT,
      tokens: e.API_TOKENS,
      allowedOrigins: e.ALLOWED_ORIGINS,
      maxBodyBytes: e.MAX_BODY_BYTES,
      maxGoalChars: e.MAX_GOAL_CHARS,
      progressQueryTimeoutMs: e.PROGRESS_QUERY_TIMEOUT_MS,
      /** How long POST /api/runs waits for the run's workflow to start before answering without it (api/owed-starts.ts). */
      startRunWaitMs: e.START_RUN_WAIT_MS,
      /** How long one try to start a run's workflow waits for Temporal. */
      startRunTimeoutMs: e.START_RUN_TIMEOUT_MS,
      publicUrl: e.PUBLIC_URL,
      /** SQLite, API apart from the worker: how often the database is tailed for live updates. */
      liveTailIntervalMs: e.LIVE_TAIL_INTERVAL_MS,
      wsMaxBufferedBytes: e.WS_MAX_BUFFERED_BYTES,
      wsPingIntervalSec: e.WS_PING_INTERVAL_SEC,
      wsTicketTtlSec: e.WS_TICKET_TTL_SEC,
    },
    tools: {
      httpAllowedHosts: e.HTTP_TOOL_ALLOWED_HOSTS.map((h) => h.toLowerCase()),
      httpIdempotentHosts: e.HTTP_TOOL_IDEMPOTENT_HOSTS.map((h) => h.toLowerCase()),
      httpTimeoutSec: e.HTTP_TOOL_TIMEOUT_SEC,
      outputMaxBytes: e.TOOL_OUTPUT_MAX_BYTES,
      /** A suspect call (its earlier attempt's worker was lost) re-runs in a child process of its own. */
      sandboxSuspects: e.TOOL_SANDBOX_SUSPECTS,
      workspaceMaxFileBytes: e.WORKSPACE_MAX_FILE_BYTES,
      workspaceMaxTotalBytes: e.WORKSPACE_MAX_TOTAL_BYTES,
      workspaceMaxEntries: e.WORKSPACE_MAX_ENTRIES,
      workspaceMaxDepth: e.WORKSPACE_MAX_DEPTH,
      /** MCP servers whose tools every worker offers. */
      mcpServers: e.MCP_SERVERS,
    },
    workspaces: {
      /** `s3://bucket/prefix`, or undefined for the database. */
      storeUrl: e.WORKSPACE_STORE_URL,
      idleSec: e.WORKSPACE_IDLE_SEC,
      retentionSec: e.WORKSPACE_RETENTION_SEC,
    },
    activities: {
      heartbeatTimeoutSec: e.ACTIVITY_HEARTBEAT_TIMEOUT_SEC,
      modelCallTimeoutSec: e.MODEL_CALL_TIMEOUT_SEC,
      toolCallTimeoutSec: e.TOOL_CALL_TIMEOUT_SEC,
      maxAttempts: e.ACTIVITY_MAX_ATTEMPTS,
      workerShutdownGraceSec: e.WORKER_SHUTDOWN_GRACE_SEC,
      workerStickyTimeoutSec: e.WORKER_STICKY_TIMEOUT_SEC,
      deployment: { name: e.WORKER_DEPLOYMENT_NAME, buildId: e.WORKER_BUILD_ID, versioning: e.WORKER_VERSIONING },
    },
    /** How much a worker process runs at once (worker/worker-tuning.ts; README: Sizing a worker). */
    worker: {
      tuner: e.WORKER_TUNER,
      activitySlots: e.WORKER_ACTIVITY_SLOTS,
      localActivitySlots: e.WORKER_LOCAL_ACTIVITY_SLOTS,
      workflowTaskSlots: e.WORKER_WORKFLOW_TASK_SLOTS,
      /** Slots of the worker's own queue (tool calls of the runs whose workspaces it holds). */
      workspaceActivitySlots: e.WORKER_WORKSPACE_ACTIVITY_SLOTS,
      cachedWorkflows: e.WORKER_CACHED_WORKFLOWS,
      /** `WORKER_TUNER=resource`: the usage the tuner aims to stay under, as shares of the machine. */
      targetMemoryUsage: e.WORKER_TUNER_TARGET_MEMORY,
      targetCpuUsage: e.WORKER_TUNER_TARGET_CPU,
      pollers: e.WORKER_POLLERS,
      /** Undefined: the SDK's default for the poller behaviour. */
      workflowPollers: e.WORKER_WORKFLOW_POLLERS,
      activityPollers: e.WORKER_ACTIVITY_POLLERS,
    },
    runs: {
      defaultMaxSteps: e.DEFAULT_MAX_STEPS,
      maxStepsLimit: e.MAX_STEPS_LIMIT,
      defaultMaxCostUsd: e.DEFAULT_MAX_COST_USD,
      maxCostUsdLimit: e.MAX_COST_USD_LIMIT,
      defaultMaxDurationSec: e.DEFAULT_MAX_DURATION_SEC,
      maxDurationSecLimit: e.MAX_DURATION_SEC_LIMIT,
      /** A sub-agent's cost cap, as a share of what its parent has left (when its delegation names none). */
      subagentCostShare: e.SUBAGENT_COST_SHARE,
      segmentMaxTurns: e.SEGMENT_MAX_TURNS,
      maxSegments: e.MAX_SEGMENTS,
      loopDetectionThreshold: e.LOOP_DETECTION_THRESHOLD,
      maxConcurrentPerUser: e.MAX_CONCURRENT_RUNS_PER_USER,
      maxQueuedPerUser: e.MAX_QUEUED_RUNS_PER_USER,
      stallThresholdSec: e.STALL_THRESHOLD_SEC,
      scheduleMinIntervalSec: e.SCHEDULE_MIN_INTERVAL_SEC,
      maxSchedulesPerUser: e.MAX_SCHEDULES_PER_USER,
    },
    /** The server's maxima on delegation to sub-agents (an agent's `subagentBounds` may set less: contract/run.ts subagentBoundsOf). */
    subagents: {
      maxParallelChildren: e.SUBAGENTS_MAX_PARALLEL_CHILDREN,
      maxDepth: e.SUBAGENTS_MAX_DEPTH,
      maxChildren: e.SUBAGENTS_MAX_CHILDREN,
    },
    approvals: {
      defaultPolicy: e.DEFAULT_APPROVALS,
      minPolicy: e.MIN_APPROVALS,
      timeoutSec: e.APPROVAL_TIMEOUT_SEC,
      maxTimeoutSec: e.MAX_APPROVAL_TIMEOUT_SEC,
      approvers: e.APPROVERS,
      selfApproval: e.SELF_APPROVAL,
      costCheckpointUsd: e.COST_CHECKPOINT_USD,
    },
    teams: {
      /** Roles granted at start (TEAM_ROLES), written to team_members as an admin's grants. */
      roles: e.TEAM_ROLES,
      /** Team → USD per UTC day; a budget an admin set through the API wins. */
      dailyBudgets: e.TEAM_DAILY_BUDGETS,
    },
    webhooks: {
      /** Told of every run's events (copied into each run when it is created). */
      urls: e.WEBHOOK_URLS,
      secret: e.WEBHOOK_SECRET,
      allowedHosts: e.WEBHOOK_ALLOWED_HOSTS,
      maxAttempts: e.WEBHOOK_MAX_ATTEMPTS,
      maxAgeSec: e.WEBHOOK_MAX_AGE_SEC,
    },
    /** Sign-in with an OpenID Provider and its JWTs; undefined when OIDC_ISSUER is unset. */
    oidc: e.OIDC_ISSUER
      ? {
          issuer: e.OIDC_ISSUER,
          clientId: e.OIDC_CLIENT_ID!,
          clientSecret: e.OIDC_CLIENT_SECRET,
          scopes: e.OIDC_SCOPES ?? `openid profile email ${e.OIDC_ROLES_CLAIM}`,
          userClaim: e.OIDC_USER_CLAIM,
          rolesClaim: e.OIDC_ROLES_CLAIM,
          audience: e.OIDC_AUDIENCE ?? e.OIDC_CLIENT_ID!,
          jwtAlgorithms: e.OIDC_JWT_ALGS,
          clockSkewSec: e.OIDC_CLOCK_SKEW_SEC,
          /** Where the provider sends the browser back: PUBLIC_URL/auth/callback. */
          redirectUri: new URL('/auth/callback', e.PUBLIC_URL!).href,
          publicUrl: e.PUBLIC_URL!,
        }
      : undefined,
    sessions: { idleSec: e.SESSION_IDLE_SEC, maxSec: e.SESSION_MAX_SEC },
    slack:
      e.SLACK_BOT_TOKEN && e.SLACK_SIGNING_SECRET && e.SLACK_CHANNEL
        ? {
            botToken: e.SLACK_BOT_TOKEN,
            signingSecret: e.SLACK_SIGNING_SECRET,
            channel: e.SLACK_CHANNEL,
            teamChannels: e.SLACK_TEAM_CHANNELS,
            users: e.SLACK_USERS,
            matchEmail: e.SLACK_MATCH_EMAIL,
            apiUrl: e.SLACK_API_URL,
          }
        : undefined,
  };
}

/** The config keys this module reads; README.md documents each one. */
export const CONFIG_KEYS: readonly string[] = Object.keys(OPTIONS);

/**
 * The raw values of the options config-options.ts marks wholly secret (keys, tokens: long and
 * random), and the passwords in its URL options, so that redaction finds them anywhere, even
 * where a URL is cut short in a text by a quote in its password (shared/redact.ts). Short
 * passwords are redacted only where the URL is written (rememberSecrets keeps none under 8
 * characters), and so is a password equal to its user name (`longhaul:longhaul`, the development
 * default): either would otherwise blank out every ordinary mention of a word.
 */
function secretOptionValues(env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const [name, spec] of Object.entries(OPTIONS) as [string, OptionSpec][]) {
    const raw = env[name]?.trim();
    if (!raw || !spec.secret) continue;
    if (spec.secret === 'url') out.push(...(name === 'WEBHOOK_URLS' ? raw.split(',') : [raw]).flatMap(urlPasswords));
    else if (name === 'API_TOKENS') out.push(...raw.split(',').map((entry) => entry.slice(0, entry.lastIndexOf(':')).trim()));
    else out.push(raw);
  }
  return out;
}

/** A URL's password, as written and decoded; read from the text when the URL does not parse (everything between `user:` and the last `@`). */
function urlPasswords(raw: string): string[] {
  let user = '';
  let password = '';
  try {
    const url = new URL(raw.trim());
    [user, password] = [url.username, url.password];
  } catch {
    const userinfo = /^[a-z][a-z0-9+.-]*:\/\/(.*)@/is.exec(raw.trim())?.[1] ?? '';
    const colon = userinfo.indexOf(':');
    if (colon >= 0) [user, password] = [userinfo.slice(0, colon), userinfo.slice(colon + 1)];
  }
  if (!password) return [];
  let plain = password;
  try {
    plain = decodeURIComponent(password);
  } catch {
    // Not percent-encoded text: as written.
  }
  return [password, plain].filter((p) => p !== user && p !== decodeSafe(user));
}

function decodeSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * The configuration with every value that is a URL (it starts with `scheme://`) redacted as a
 * whole: in a text, a URL ends at a quote or a space, which a password may hold.
 */
function urlsRedacted(value: unknown): unknown {
  if (typeof value === 'string') return /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? redactUrl(value) : value;
  if (Array.isArray(value)) return value.map(urlsRedacted);
  if (value === null || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, urlsRedacted(v)]));
}

/** Values of gRPC metadata that carry credentials (`authorization`, `x-api-key`…); others (`x-team`) are ordinary words. */
function secretMetadata(meta: Record<string, string> | undefined): string[] {
  return Object.entries(meta ?? {}).flatMap(([key, value]) => (isSecretName(key) ? [value, value.replace(/^(Bearer|Basic)\s+/i, '')] : []));
}

/** A profile's inline private key (its lines, so a key printed in pieces is caught too). */
function inlineKeys(connection: TemporalConnectionSettings | undefined): string[] {
  const key = connection?.tls?.clientKey;
  if (!key || !('data' in key)) return [];
  const text = typeof key.data === 'string' ? key.data : Buffer.from(key.data).toString('utf8');
  return [text.trim(), ...text.split('\n').map((line) => line.trim()).filter((line) => line.length >= 16 && !line.startsWith('-----'))];
}

/**
 * A copy safe to log: fields named like credentials hidden (API keys, tokens, signing secrets,
 * gRPC metadata, TLS keys), every URL without its userinfo and secret query values, and every
 * value of a secret option replaced (shared/redact.ts).
 */
export function redactedConfig(config: Config): Record<string, unknown> {
  const c = urlsRedacted(config) as Config;
  return redactValue({
    ...c,
    // The deployment's webhook URLs carry tokens in their paths (Slack, Teams, Discord): scheme and host only.
    webhooks: { ...c.webhooks, urls: config.webhooks.urls.map(redactUrlPath) },
    // MCP server env and headers often hold credentials: show only which servers there are.
    tools: { ...c.tools, mcpServers: Object.fromEntries(Object.entries(config.tools.mcpServers).map(([name, s]) => [name, 'url' in s ? 'http' : 'stdio'])) },
    slack: c.slack ? { ...c.slack, users: c.slack.users.size } : undefined,
  }) as Record<string, unknown>;
}
