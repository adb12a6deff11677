/**
 * Configuration, read once at process start from the environment and validated.
 * Every key is documented in README.md (a test keeps the two in step).
 * Secrets (API keys, tokens, signing secrets) are never logged: use `redactedConfig` for logs.
 */
import path from 'node:path';
import { z } from 'zod';

/** Empty strings count as unset, so `TEMPORAL_ADDRESS=` in a .env file means "not configured". */
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z
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
    });

const num = (def: number, min = 0) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return def;
      const n = Number(v);
      if (!Number.isFinite(n) || n < min) {
        ctx.addIssue({ code: 'custom', message: `must be a number >= ${min}` });
        return z.NEVER;
      }
      return n;
    });

const bool = (def: boolean) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return def;
      if (/^(1|true|yes|on)$/i.test(v)) return true;
      if (/^(0|false|no|off)$/i.test(v)) return false;
      ctx.addIssue({ code: 'custom', message: 'must be true or false' });
      return z.NEVER;
    });

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

const approvalPolicy = z.enum(['none', 'write', 'all']);

const pricingEntry = z.object({ inputPerMTok: z.number().min(0), outputPerMTok: z.number().min(0) });
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

const envSchema = z.object({
  // Where things live
  DATA_DIR: z.string().optional().transform((v) => path.resolve(v && v.trim() ? v : './data')),
  DATABASE_URL: optionalString.refine((v) => v === undefined || /^postgres(ql)?:\/\//.test(v), {
    message: 'must be a postgres:// URL (leave unset for SQLite under DATA_DIR)',
  }),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional().default('info'),

  // Temporal
  TEMPORAL_ADDRESS: optionalString,
  TEMPORAL_NAMESPACE: z.string().optional().default('default'),
  TEMPORAL_TASK_QUEUE: z.string().optional().default('longhaul'),
  TEMPORAL_API_KEY: optionalString,
  TEMPORAL_TLS: bool(false),
  TEMPORAL_TLS_CERT_PATH: optionalString,
  TEMPORAL_TLS_KEY_PATH: optionalString,
  TEMPORAL_DEV_PORT: int(7233, 1, 65535),
  TEMPORAL_DEV_UI_PORT: int(8233, 0, 65535),
  WORKFLOW_BUNDLE_PATH: optionalString,

  // Model
  ANTHROPIC_API_KEY: optionalString,
  ANTHROPIC_BASE_URL: optionalString,
  LLM_MODEL: optionalString,
  LLM_MAX_TOKENS: int(4096, 1, 128000),
  MODEL_PRICING: pricingTable,
  DEMO_STREAM_DELAY_MS: int(25, 0, 10_000),

  // HTTP API
  HOST: z.string().optional().default('127.0.0.1'),
  PORT: int(3000, 0, 65535),
  API_TOKENS: tokenMap,
  ALLOWED_ORIGINS: list,
  MAX_BODY_BYTES: int(256 * 1024, 1024),
  MAX_GOAL_CHARS: int(20_000, 1),
  PROGRESS_QUERY_TIMEOUT_MS: int(3000, 100),
  START_RUN_TIMEOUT_MS: int(10_000, 500),
  LIVE_TAIL_INTERVAL_MS: int(100, 10, 100),
  WS_MAX_BUFFERED_BYTES: int(1024 * 1024, 1024),
  WS_PING_INTERVAL_SEC: int(15, 1),
  WS_TICKET_TTL_SEC: int(60, 5, 3600),

  // Tools
  HTTP_TOOL_ALLOWED_HOSTS: list,
  HTTP_TOOL_TIMEOUT_SEC: int(30, 1),
  TOOL_OUTPUT_MAX_BYTES: int(256 * 1024, 1024),
  WORKSPACE_MAX_FILE_BYTES: int(1024 * 1024, 1),
  WORKSPACE_MAX_TOTAL_BYTES: int(50 * 1024 * 1024, 1),

  // Activity execution
  ACTIVITY_HEARTBEAT_TIMEOUT_SEC: int(10, 1),
  MODEL_CALL_TIMEOUT_SEC: int(600, 1),
  TOOL_CALL_TIMEOUT_SEC: int(600, 1),
  ACTIVITY_MAX_ATTEMPTS: int(6, 1, 100),
  WORKER_SHUTDOWN_GRACE_SEC: int(30, 0),
  WORKER_STICKY_TIMEOUT_SEC: int(2, 1, 600),
  METRICS_PROMETHEUS_ADDRESS: optionalString,

  // Run defaults and admin maxima
  DEFAULT_MAX_STEPS: int(50, 1),
  MAX_STEPS_LIMIT: int(1000, 1),
  DEFAULT_MAX_COST_USD: num(5),
  MAX_COST_USD_LIMIT: num(500),
  DEFAULT_MAX_DURATION_SEC: int(24 * 3600, 1),
  MAX_DURATION_SEC_LIMIT: int(14 * 24 * 3600, 1),
  SEGMENT_MAX_TURNS: int(40, 1),
  MAX_SEGMENTS: int(20, 1),
  LOOP_DETECTION_THRESHOLD: int(4, 2),
  MAX_CONCURRENT_RUNS_PER_USER: int(5, 1),
  MAX_QUEUED_RUNS_PER_USER: int(20, 0),
  STALL_THRESHOLD_SEC: int(15 * 60, 1),

  // Human in the loop
  DEFAULT_APPROVALS: approvalPolicy.optional().default('write'),
  MIN_APPROVALS: approvalPolicy.optional().default('none'),
  APPROVAL_TIMEOUT_SEC: int(86_400, 1),
  MAX_APPROVAL_TIMEOUT_SEC: int(30 * 86_400, 1),
  APPROVERS: list,
  SELF_APPROVAL: bool(true),
  COST_CHECKPOINT_USD: num(0),

  // Slack
  SLACK_BOT_TOKEN: optionalString,
  SLACK_SIGNING_SECRET: optionalString,
  SLACK_CHANNEL: optionalString,
  SLACK_USERS: slackUserMap,
  SLACK_API_URL: optionalString,
  PUBLIC_URL: optionalString,
});

export type Env = z.input<typeof envSchema>;
type Parsed = z.output<typeof envSchema>;

export interface Config {
  dataDir: string;
  /** host:port where a worker serves Temporal SDK and Longhaul metrics for Prometheus. */
  metricsPrometheusAddress?: string;
  databaseUrl?: string;
  logLevel: Parsed['LOG_LEVEL'];
  temporal: {
    address?: string;
    namespace: string;
    taskQueue: string;
    apiKey?: string;
    tls: boolean;
    tlsCertPath?: string;
    tlsKeyPath?: string;
    devPort: number;
    devUiPort: number;
    workflowBundlePath?: string;
  };
  model: {
    apiKey?: string;
    baseUrl?: string;
    /** The model a run gets when it names none: LLM_MODEL, or "demo" when no API key is set. */
    defaultModel: string;
    maxTokens: number;
    pricing: Record<string, { inputPerMTok: number; outputPerMTok: number }>;
    demoStreamDelayMs: number;
  };
  api: {
    host: string;
    port: number;
    tokens?: Map<string, string>;
    allowedOrigins: string[];
    maxBodyBytes: number;
    maxGoalChars: number;
    progressQueryTimeoutMs: number;
    /** How long POST /api/runs waits for Temporal to accept the workflow before answering 503. */
    startRunTimeoutMs: number;
    publicUrl?: string;
    /** SQLite, API apart from the worker: how often the database is tailed for live updates. */
    liveTailIntervalMs: number;
    wsMaxBufferedBytes: number;
    wsPingIntervalSec: number;
    wsTicketTtlSec: number;
  };
  tools: {
    httpAllowedHosts: string[];
    httpTimeoutSec: number;
    outputMaxBytes: number;
    workspaceMaxFileBytes: number;
    workspaceMaxTotalBytes: number;
  };
  activities: {
    heartbeatTimeoutSec: number;
    modelCallTimeoutSec: number;
    toolCallTimeoutSec: number;
    maxAttempts: number;
    workerShutdownGraceSec: number;
    workerStickyTimeoutSec: number;
  };
  runs: {
    defaultMaxSteps: number;
    maxStepsLimit: number;
    defaultMaxCostUsd: number;
    maxCostUsdLimit: number;
    defaultMaxDurationSec: number;
    maxDurationSecLimit: number;
    segmentMaxTurns: number;
    maxSegments: number;
    loopDetectionThreshold: number;
    maxConcurrentPerUser: number;
    maxQueuedPerUser: number;
    stallThresholdSec: number;
  };
  approvals: {
    defaultPolicy: 'none' | 'write' | 'all';
    minPolicy: 'none' | 'write' | 'all';
    timeoutSec: number;
    maxTimeoutSec: number;
    approvers: string[];
    selfApproval: boolean;
    costCheckpointUsd: number;
  };
  slack?: {
    botToken: string;
    signingSecret: string;
    channel: string;
    users: Map<string, string>;
    apiUrl?: string;
  };
}

export class ConfigError extends Error {
  constructor(public readonly issues: string[]) {
    super(`Invalid configuration:\n  ${issues.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
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
  if ((e.TEMPORAL_TLS_CERT_PATH === undefined) !== (e.TEMPORAL_TLS_KEY_PATH === undefined)) {
    issues.push('TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH must be set together');
  }
  if (e.DEFAULT_MAX_STEPS > e.MAX_STEPS_LIMIT) issues.push('DEFAULT_MAX_STEPS must not exceed MAX_STEPS_LIMIT');
  if (e.DEFAULT_MAX_COST_USD > e.MAX_COST_USD_LIMIT) issues.push('DEFAULT_MAX_COST_USD must not exceed MAX_COST_USD_LIMIT');
  if (e.DEFAULT_MAX_DURATION_SEC > e.MAX_DURATION_SEC_LIMIT) {
    issues.push('DEFAULT_MAX_DURATION_SEC must not exceed MAX_DURATION_SEC_LIMIT');
  }
  if (e.APPROVAL_TIMEOUT_SEC > e.MAX_APPROVAL_TIMEOUT_SEC) {
    issues.push('APPROVAL_TIMEOUT_SEC must not exceed MAX_APPROVAL_TIMEOUT_SEC');
  }
  if (issues.length) throw new ConfigError(issues);

  return {
    dataDir: e.DATA_DIR,
    metricsPrometheusAddress: e.METRICS_PROMETHEUS_ADDRESS,
    databaseUrl: e.DATABASE_URL,
    logLevel: e.LOG_LEVEL,
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      apiKey: e.TEMPORAL_API_KEY,
      tls: e.TEMPORAL_TLS || Boolean(e.TEMPORAL_API_KEY) || Boolean(e.TEMPORAL_TLS_CERT_PATH),
      tlsCertPath: e.TEMPORAL_TLS_CERT_PATH,
      tlsKeyPath: e.TEMPORAL_TLS_KEY_PATH,
      devPort: e.TEMPORAL_DEV_PORT,
      devUiPort: e.TEMPORAL_DEV_UI_PORT,
      workflowBundlePath: e.WORKFLOW_BUNDLE_PATH,
    },
    model: {
      apiKey: e.ANTHROPIC_API_KEY,
      baseUrl: e.ANTHROPIC_BASE_URL,
      defaultModel: e.LLM_MODEL ?? (e.ANTHROPIC_API_KEY ? 'claude-sonnet-5-5' : 'demo'),
      maxTokens: e.LLM_MAX_TOKENS,
      pricing: e.MODEL_PRICING,
      demoStreamDelayMs: e.DEMO_STREAM_DELAY_MS,
    },
    api: {
      host: e.HOST,
      port: e.PORT,
      tokens: e.API_TOKENS,
      allowedOrigins: e.ALLOWED_ORIGINS,
      maxBodyBytes: e.MAX_BODY_BYTES,
      maxGoalChars: e.MAX_GOAL_CHARS,
      progressQueryTimeoutMs: e.PROGRESS_QUERY_TIMEOUT_MS,
      startRunTimeoutMs: e.START_RUN_TIMEOUT_MS,
      publicUrl: e.PUBLIC_URL,
      liveTailIntervalMs: e.LIVE_TAIL_INTERVAL_MS,
      wsMaxBufferedBytes: e.WS_MAX_BUFFERED_BYTES,
      wsPingIntervalSec: e.WS_PING_INTERVAL_SEC,
      wsTicketTtlSec: e.WS_TICKET_TTL_SEC,
    },
    tools: {
      httpAllowedHosts: e.HTTP_TOOL_ALLOWED_HOSTS.map((h) => h.toLowerCase()),
      httpTimeoutSec: e.HTTP_TOOL_TIMEOUT_SEC,
      outputMaxBytes: e.TOOL_OUTPUT_MAX_BYTES,
      workspaceMaxFileBytes: e.WORKSPACE_MAX_FILE_BYTES,
      workspaceMaxTotalBytes: e.WORKSPACE_MAX_TOTAL_BYTES,
    },
    activities: {
      heartbeatTimeoutSec: e.ACTIVITY_HEARTBEAT_TIMEOUT_SEC,
      modelCallTimeoutSec: e.MODEL_CALL_TIMEOUT_SEC,
      toolCallTimeoutSec: e.TOOL_CALL_TIMEOUT_SEC,
      maxAttempts: e.ACTIVITY_MAX_ATTEMPTS,
      workerShutdownGraceSec: e.WORKER_SHUTDOWN_GRACE_SEC,
      workerStickyTimeoutSec: e.WORKER_STICKY_TIMEOUT_SEC,
    },
    runs: {
      defaultMaxSteps: e.DEFAULT_MAX_STEPS,
      maxStepsLimit: e.MAX_STEPS_LIMIT,
      defaultMaxCostUsd: e.DEFAULT_MAX_COST_USD,
      maxCostUsdLimit: e.MAX_COST_USD_LIMIT,
      defaultMaxDurationSec: e.DEFAULT_MAX_DURATION_SEC,
      maxDurationSecLimit: e.MAX_DURATION_SEC_LIMIT,
      segmentMaxTurns: e.SEGMENT_MAX_TURNS,
      maxSegments: e.MAX_SEGMENTS,
      loopDetectionThreshold: e.LOOP_DETECTION_THRESHOLD,
      maxConcurrentPerUser: e.MAX_CONCURRENT_RUNS_PER_USER,
      maxQueuedPerUser: e.MAX_QUEUED_RUNS_PER_USER,
      stallThresholdSec: e.STALL_THRESHOLD_SEC,
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
    slack:
      e.SLACK_BOT_TOKEN && e.SLACK_SIGNING_SECRET && e.SLACK_CHANNEL
        ? {
            botToken: e.SLACK_BOT_TOKEN,
            signingSecret: e.SLACK_SIGNING_SECRET,
            channel: e.SLACK_CHANNEL,
            users: e.SLACK_USERS,
            apiUrl: e.SLACK_API_URL,
          }
        : undefined,
  };
}

/** The config keys this module reads; README.md documents each one. */
export const CONFIG_KEYS: readonly string[] = Object.keys(envSchema.shape);

/** A copy safe to log: secrets replaced by a marker. */
export function redactedConfig(config: Config): Record<string, unknown> {
  return {
    ...config,
    databaseUrl: config.databaseUrl?.replace(/\/\/([^:@/]+):([^@/]+)@/, '//$1:***@'),
    temporal: { ...config.temporal, apiKey: config.temporal.apiKey ? '***' : undefined },
    model: { ...config.model, apiKey: config.model.apiKey ? '***' : undefined },
    api: { ...config.api, tokens: config.api.tokens ? `${config.api.tokens.size} tokens` : undefined },
    slack: config.slack ? { ...config.slack, botToken: '***', signingSecret: '***', users: config.slack.users.size } : undefined,
  };
}
