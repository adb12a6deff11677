/**
 * The fake Anthropic server's rate limiter, modelled as Anthropic describes its own: a token bucket
 * per limit (requests, input tokens, output tokens per minute), capacity one minute's worth,
 * refilled continuously. Input counts uncached input and cache writes, not cache reads; output is
 * reserved at `max_tokens` when a request starts and the unused part returned when it ends.
 */
export type LimitName = 'requests' | 'input-tokens' | 'output-tokens';
export type FakeLimits = Partial<Record<LimitName, number>>;

const NAMES: LimitName[] = ['requests', 'input-tokens', 'output-tokens'];

export class FakeRateLimiter {
  private levels: Record<LimitName, number> = { requests: 0, 'input-tokens': 0, 'output-tokens': 0 };
  private at = Date.now();
  /** Requests refused with 429. */
  refused = 0;
  /** The lowest any bucket ever went: below zero means a request was let through that did not fit. */
  lowest = Infinity;

  constructor(private limits: FakeLimits) {
    for (const n of NAMES) this.levels[n] = limits[n] ?? 0;
  }

  private refill(): void {
    const now = Date.now();
    for (const n of NAMES) {
      const limit = this.limits[n];
      if (limit !== undefined) this.levels[n] = Math.min(limit, this.levels[n] + ((now - this.at) * limit) / 60_000);
    }
    this.at = now;
  }

  /** Takes a request's share, or says how many seconds until it would fit. */
  admit(need: Record<LimitName, number>): { ok: true } | { ok: false; retryAfterSec: number } {
    this.refill();
    let waitMs = 0;
    for (const n of NAMES) {
      const limit = this.limits[n];
      if (limit !== undefined && this.levels[n] < need[n]) waitMs = Math.max(waitMs, ((need[n] - this.levels[n]) * 60_000) / limit);
    }
    if (waitMs > 0) {
      this.refused += 1;
      return { ok: false, retryAfterSec: Math.max(1, Math.ceil(waitMs / 1000)) };
    }
    for (const n of NAMES) {
      if (this.limits[n] === undefined) continue;
      this.levels[n] -= need[n];
      this.lowest = Math.min(this.lowest, this.levels[n]);
    }
    return { ok: true };
  }

  /** Gives back what a finished request reserved and did not use. */
  giveBack(name: LimitName, amount: number): void {
    this.refill();
    const limit = this.limits[name];
    if (limit !== undefined) this.levels[name] = Math.min(limit, this.levels[name] + amount);
  }

  /** Someone else using the same key leaves only `left` in each bucket named, behind Longhaul's back. */
  drainTo(left: Partial<Record<LimitName, number>>): void {
    this.refill();
    for (const n of NAMES) if (left[n] !== undefined && this.limits[n] !== undefined) this.levels[n] = Math.min(this.levels[n], left[n]!);
  }

  /** The `anthropic-ratelimit-*` headers, as sent with every response. */
  headers(): Record<string, string> {
    this.refill();
    const out: Record<string, string> = {};
    for (const n of NAMES) {
      const limit = this.limits[n];
      if (limit === undefined) continue;
      const level = Math.max(0, Math.floor(this.levels[n]));
      out[`anthropic-ratelimit-${n}-limit`] = String(limit);
      out[`anthropic-ratelimit-${n}-remaining`] = String(level);
      out[`anthropic-ratelimit-${n}-reset`] = new Date(Date.now() + ((limit - level) * 60_000) / limit).toISOString();
    }
    return out;
  }
}
