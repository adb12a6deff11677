/**
 * What a worker measures, through the Temporal SDK's metric meter (exported with the SDK's own
 * metrics at METRICS_PROMETHEUS_ADDRESS): model calls — latency, time to first token, tokens and
 * cost by model, 429s, waits for capacity — tool calls — duration and failures by tool — stalls
 * flagged, schedule firings skipped and workspace restores. The instruments are made once per
 * worker from the meter it is given, and the counters an alert watches start at 0 (for the models
 * the deployment names), so an alert sees 0 rather than nothing; tests and tools that run
 * activities without a worker get the no-op meter.
 */
import type { MetricMeter } from '@temporalio/common';
import { FIRING_SKIP_REASONS, type FiringSkipReason } from '../contract/activity-io';
import { CAPACITY_LIMITS, type CapacityLimit, type Usage } from '../contract/run';

export interface WorkerMetrics {
  modelCall(m: { model: string; latencyMs: number; firstTokenMs: number | null; usage: Usage }): void;
  /** The provider answered 429 despite the books. */
  modelRateLimited(model: string): void;
  /** The books deferred a call: the run sleeps `waitMs` for capacity. */
  modelThrottled(m: { model: string; limit: CapacityLimit; waitMs: number }): void;
  tool(m: { tool: string; durationMs: number; failed: boolean }): void;
  /** The sweeper flagged a run as stalled. */
  runStalled(): void;
  /** The sweeper deleted an abandoned start: a run queued with no workflow (activities/reap-abandoned-starts.ts). */
  abandonedStartReaped(): void;
  /** The sweeper made a run's workflow start that its API still owed (the API gave up, or died). */
  owedStartMade(): void;
  /** A schedule's firing started no run (its owner's queue was full). */
  scheduleFiringSkipped(reason: FiringSkipReason): void;
  /** This worker restored a run's workspace from its durable copy. */
  workspaceRestored(ms: number): void;
  /** A statement (or transaction) of this worker's waited `ms` for a pooled database connection (Postgres). */
  databaseConnectionWait(ms: number): void;
}

/**
 * `models`: the models the deployment names (its default, those in MODEL_RATE_LIMITS); their
 * counters exist at 0 from the start. `throttledModels`: those with rate limits (only they are throttled).
 */
export function createWorkerMetrics(meter: MetricMeter, known: { models: readonly string[]; throttledModels: readonly string[] } = { models: [], throttledModels: [] }): WorkerMetrics {
  const latency = meter.createHistogram('longhaul_model_call_duration_ms', 'int', 'ms', 'Model call duration, request to last token, by model');
  const firstToken = meter.createHistogram('longhaul_model_time_to_first_token_ms', 'int', 'ms', 'Model call time to the first streamed text, by model');
  const tokens = meter.createCounter('longhaul_model_tokens_total', 'tokens', 'Tokens by model and kind (input, cache_read, cache_write, output)');
  const cost = meter.createCounter('longhaul_model_cost_microdollars_total', 'microdollars', 'Model spend by model, in millionths of a US dollar');
  const rateLimited = meter.createCounter('longhaul_model_rate_limited_total', 'responses', '429s the provider answered, by model');
  const throttled = meter.createCounter('longhaul_model_throttled_total', 'calls', 'Model calls deferred for capacity, by model and limit');
  const throttleWait = meter.createHistogram('longhaul_model_throttle_wait_ms', 'int', 'ms', 'How long a deferred call was told to wait, by model');
  const toolDuration = meter.createHistogram('longhaul_tool_duration_ms', 'int', 'ms', 'Tool call duration, by tool and outcome');
  const toolFailures = meter.createCounter('longhaul_tool_failures_total', 'calls', 'Tool calls that failed, by tool');
  const stalled = meter.createCounter('longhaul_stalled_runs_flagged', 'runs', 'Runs flagged as stalled by the sweeper');
  const reaped = meter.createCounter('longhaul_abandoned_starts_reaped', 'runs', 'Runs queued with no workflow, deleted by the sweeper');
  const owedStarts = meter.createCounter('longhaul_owed_starts_made', 'runs', 'Workflow starts the sweeper made for runs whose API still owed them');
  const firingsSkipped = meter.createCounter('longhaul_schedule_firings_skipped_total', 'firings', "Schedule firings that started no run, by reason (queue_full: the owner's queue was full)");
  const restoreDuration = meter.createHistogram('longhaul_workspace_restore_duration_ms', 'int', 'ms', 'Workspace restores from their durable copies, by duration');
  const connectionWait = meter.createHistogram('longhaul_db_connection_wait_ms', 'int', 'ms', "Waits for one of the worker's pooled database connections (Postgres), each checkout");

  // At 0 from the start: an alert on a rate (`increase(...) > 0`) needs the series to exist.
  for (const model of new Set(known.models)) rateLimited.add(0, { model });
  for (const model of new Set(known.throttledModels)) for (const limit of CAPACITY_LIMITS) throttled.add(0, { model, limit });
  stalled.add(0);
  reaped.add(0);
  owedStarts.add(0);
  for (const reason of FIRING_SKIP_REASONS) firingsSkipped.add(0, { reason });

  return {
    modelCall({ model, latencyMs, firstTokenMs, usage }) {
      latency.record(Math.round(latencyMs), { model });
      if (firstTokenMs !== null) firstToken.record(Math.round(firstTokenMs), { model });
      const kinds: [string, number][] = [
        ['input', usage.inputTokens],
        ['cache_read', usage.cacheReadTokens ?? 0],
        ['cache_write', usage.cacheWriteTokens ?? 0],
        ['output', usage.outputTokens],
      ];
      for (const [kind, n] of kinds) if (n > 0) tokens.add(n, { model, kind });
      const micro = Math.round(usage.costUsd * 1e6);
      if (micro > 0) cost.add(micro, { model });
    },
    modelRateLimited(model) {
      rateLimited.add(1, { model });
    },
    modelThrottled({ model, limit, waitMs }) {
      throttled.add(1, { model, limit });
      throttleWait.record(Math.round(waitMs), { model });
    },
    tool({ tool, durationMs, failed }) {
      toolDuration.record(Math.round(durationMs), { tool, outcome: failed ? 'failed' : 'ok' });
      if (failed) toolFailures.add(1, { tool });
    },
    runStalled() {
      stalled.add(1);
    },
    abandonedStartReaped() {
      reaped.add(1);
    },
    owedStartMade() {
      owedStarts.add(1);
    },
    scheduleFiringSkipped(reason) {
      firingsSkipped.add(1, { reason });
    },
    workspaceRestored(ms) {
      restoreDuration.record(Math.round(ms));
    },
    databaseConnectionWait(ms) {
      connectionWait.record(Math.round(ms));
    },
  };
}

/** Measures nothing: activities run outside a worker (unit tests, tools). */
export const noWorkerMetrics: WorkerMetrics = {
  modelCall() {},
  modelRateLimited() {},
  modelThrottled() {},
  tool() {},
  runStalled() {},
  abandonedStartReaped() {},
  owedStartMade() {},
  scheduleFiringSkipped() {},
  workspaceRestored() {},
  databaseConnectionWait() {},
};
