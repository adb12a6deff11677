/**
 * The deployment's limits for one model and one owner, as config states them: the API key's
 * per-minute rate limits (a model's own entry, else `*`) and an owner's daily budget (their own,
 * else everyone's).
 */
import type { Config } from '../config';
import type { RateLimits } from './token-buckets';

export function rateLimitsFor(config: Config, model: string): RateLimits | undefined {
  const entry = config.model.rateLimits.get(model) ?? config.model.rateLimits.get('*');
  if (!entry) return undefined;
  const limits: RateLimits = {};
  if (entry.rpm !== undefined) limits.rpm = entry.rpm;
  if (entry.inputTpm !== undefined) limits.input_tpm = entry.inputTpm;
  if (entry.outputTpm !== undefined) limits.output_tpm = entry.outputTpm;
  return Object.keys(limits).length ? limits : undefined;
}

export function dailyBudgetFor(config: Config, owner: string): number | undefined {
  return config.budgets.perUser.get(owner) ?? config.budgets.dailyUsd;
}

/** The UTC day of an epoch-ms time, `YYYY-MM-DD`: budgets are per UTC day. */
export const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** Milliseconds from `ms` until the next UTC day starts. */
export function msUntilNextUtcDay(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1) - ms;
}
