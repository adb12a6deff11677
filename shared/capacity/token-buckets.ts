/**
 * A model's rate limits as the provider models them: one token bucket per limit, holding at most
 * one minute of the limit and refilled continuously at limit/60 000 per millisecond. Pure
 * arithmetic over plain numbers, so the books in the database and the tests share it.
 *
 * A level may be negative: a call that used more than was reserved leaves a debt that refilling
 * pays off before anyone else fits.
 */
import { CAPACITY_LIMITS, type CapacityLimit } from '../../contract/run';

/** Per-minute limits; an absent one does not limit. */
export type RateLimits = Partial<Record<CapacityLimit, number>>;
/** What is in each bucket (or what a call needs from it). */
export type Amounts = Record<CapacityLimit, number>;

const MS_PER_MINUTE = 60_000;

export const fullBuckets = (limits: RateLimits): Amounts => ({
  rpm: limits.rpm ?? 0,
  input_tpm: limits.input_tpm ?? 0,
  output_tpm: limits.output_tpm ?? 0,
});

/** The buckets `elapsedMs` later: refilled, never above one minute of the limit. */
export function refill(levels: Amounts, limits: RateLimits, elapsedMs: number): Amounts {
  const out = { ...levels };
  for (const d of CAPACITY_LIMITS) {
    const limit = limits[d];
    if (limit === undefined) continue;
    out[d] = Math.min(limit, levels[d] + (limit / MS_PER_MINUTE) * Math.max(0, elapsedMs));
  }
  return out;
}

export function take(levels: Amounts, need: Amounts, limits: RateLimits): Amounts {
  const out = { ...levels };
  for (const d of CAPACITY_LIMITS) if (limits[d] !== undefined) out[d] -= need[d];
  return out;
}

/** The first limit a call could never fit in, even into a full bucket. */
export function exceedsABucket(need: Amounts, limits: RateLimits): CapacityLimit | null {
  for (const d of CAPACITY_LIMITS) {
    const limit = limits[d];
    if (limit !== undefined && need[d] > limit) return d;
  }
  return null;
}

/** How long until `need` fits in every bucket, and which bucket makes it wait longest. */
export function timeToFit(levels: Amounts, need: Amounts, limits: RateLimits): { waitMs: number; limit: CapacityLimit | null } {
  let waitMs = 0;
  let limiting: CapacityLimit | null = null;
  for (const d of CAPACITY_LIMITS) {
    const limit = limits[d];
    if (limit === undefined || levels[d] >= need[d]) continue;
    const ms = Math.ceil(((need[d] - levels[d]) * MS_PER_MINUTE) / limit);
    if (ms > waitMs) {
      waitMs = ms;
      limiting = d;
    }
  }
  return { waitMs, limit: limiting };
}
