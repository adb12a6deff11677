/**
 * What a worker measures, through the Temporal SDK's metric meter (exported with the SDK's own
 * metrics at METRICS_PROMETHEUS_ADDRESS): model calls — latency, time to first token, tokens and
 * cost by model, 429s, waits for capacity — and tool calls — duration and failures by tool. The
 * instruments are made once per worker from the meter it is given; tests and tools that run
 * activities without a worker get the no-op meter.
 */
import type { MetricMeter } from '@temporalio/common';
import type { CapacityLimit, Usage } from '../contract/run';

export interface WorkerMetrics {
  modelCall(m: { model: string; latencyMs: number; firstTokenMs: number | null; usage: Usage }): void;
  /** The provider answered 429 despite the books. */
  modelRateLimited(model: string): void;
  /** The books deferred a call: the run sleeps `waitMs` for capacity. */
  modelThrottled(m: { model: string; limit: CapacityLimit; waitMs: number }): void;
  tool(m: { tool: string; durationMs: number; failed: boolean }): void;
}

export function createWorkerMetrics(meter: MetricMeter): WorkerMetrics {
  const latency = meter.createHistogram('longhaul_model_call_duration_ms', 'int', 'ms', 'Model call duration, request to last token, by model');
  const firstToken = meter.createHistogram('longhaul_model_time_to_first_token_ms', 'int', 'ms', 'Model call time to the first streamed text, by model');
  const tokens = meter.createCounter('longhaul_model_tokens_total', 'tokens', 'Tokens by model and kind (input, cache_read, cache_write, output)');
  const cost = meter.createCounter('longhaul_model_cost_microdollars_total', 'microdollars', 'Model spend by model, in millionths of a US dollar');
  const rateLimited = meter.createCounter('longhaul_model_rate_limited_total', 'responses', '429s the provider answered, by model');
  const throttled = meter.createCounter('longhaul_model_throttled_total', 'calls', 'Model calls deferred for capacity, by model and limit');
  const throttleWait = meter.createHistogram('longhaul_model_throttle_wait_ms', 'int', 'ms', 'How long a deferred call was told to wait, by model');
  const toolDuration = meter.createHistogram('longhaul_tool_duration_ms', 'int', 'ms', 'Tool call duration, by tool and outcome');
  const toolFailures = meter.createCounter('longhaul_tool_failures_total', 'calls', 'Tool calls that failed, by tool');

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
  };
}

/** Measures nothing: activities run outside a worker (unit tests, tools). */
export const noWorkerMetrics: WorkerMetrics = { modelCall() {}, modelRateLimited() {}, modelThrottled() {}, tool() {} };
