/**
 * Who gets the model's capacity next when it is short. Owners take turns (the owner served least
 * recently first; one who was never served goes first), and each owner's calls go first come,
 * first served. Then every waiter's start time is planned in that order against the buckets, so
 * no one is promised capacity someone ahead of them was promised, and the books never overbook.
 * Pure: the capacity books run it inside their transaction; the tests run it directly.
 */
import type { CapacityLimit } from '../../contract/run';
import { refill, take, timeToFit, type Amounts, type RateLimits } from './token-buckets';

export interface Waiter {
  runId: string;
  owner: string;
  need: Amounts;
  enqueuedMs: number;
}

/** Round-robin across owners, FIFO within each. `lastServedMs`: when each owner was last granted capacity. */
export function fairOrder(waiters: readonly Waiter[], lastServedMs: ReadonlyMap<string, number>): Waiter[] {
  const byOwner = new Map<string, Waiter[]>();
  for (const w of [...waiters].sort((a, b) => a.enqueuedMs - b.enqueuedMs || a.runId.localeCompare(b.runId))) {
    byOwner.set(w.owner, [...(byOwner.get(w.owner) ?? []), w]);
  }
  const owners = [...byOwner.keys()].sort((a, b) => (lastServedMs.get(a) ?? 0) - (lastServedMs.get(b) ?? 0) || byOwner.get(a)![0]!.enqueuedMs - byOwner.get(b)![0]!.enqueuedMs);
  const order: Waiter[] = [];
  for (let round = 0; order.length < waiters.length; round++) {
    for (const owner of owners) {
      const next = byOwner.get(owner)![round];
      if (next) order.push(next);
    }
  }
  return order;
}

export interface PlannedStart {
  /** Milliseconds from now until the waiter's call fits (0: now). */
  waitMs: number;
  /** The bucket it waits for; null when it fits now. */
  limit: CapacityLimit | null;
}

/**
 * When each waiter, in order, can start: each starts no earlier than the one before it, once the
 * buckets (as they refill) hold its need after everyone ahead took theirs.
 */
export function planStarts(levels: Amounts, limits: RateLimits, ordered: readonly Waiter[]): Map<string, PlannedStart> {
  const plan = new Map<string, PlannedStart>();
  let at = 0;
  let now = levels;
  let limiting: CapacityLimit | null = null;
  for (const w of ordered) {
    const fit = timeToFit(now, w.need, limits);
    if (fit.waitMs > 0) {
      now = refill(now, limits, fit.waitMs);
      at += fit.waitMs;
      limiting = fit.limit;
    }
    plan.set(w.runId, { waitMs: at, limit: at > 0 ? limiting : null });
    now = take(now, w.need, limits);
  }
  return plan;
}
