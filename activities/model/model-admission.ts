/**
 * Whether a model call may go now: the owner's daily budget, the caps of its run tree (a run with sub-agents'
 * runs, or one itself), then the model's shared rate limits.
 * A call that may go reserves what it will use (1 request, its estimated input, `max_tokens` of
 * output — as the provider itself reserves — and its worst-case cost); one that may not is told
 * how long to wait, and the workflow sleeps on a timer. After the call its actual usage settles
 * the books: unused reservation goes back, a debt stays, and the provider's own count wins when
 * it says less is left.
 *
 * Input is counted as the provider counts it toward input TPM: uncached input plus cache writes;
 * cache reads do not count. The estimate is the characters about to be sent times a ratio
 * calibrated from earlier calls' actual usage, less what the cache should serve.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { ModelCallDeferral, Usage } from '../../contract/run';
import { FailureType } from '../../contract/failures';
import { fairOrder, planStarts } from '../../shared/capacity/fair-queue';
import { dailyBudgetFor, msUntilNextUtcDay, rateLimitsFor, utcDay } from '../../shared/capacity/model-limits';
import { exceedsABucket, take, type Amounts, type RateLimits } from '../../shared/capacity/token-buckets';
import type { Config } from '../../shared/config';
import type { PricingTable } from '../../shared/pricing';
import type { Logger } from '../../shared/logger';
import type { Store } from '../../shared/store';
import { DEFAULT_TOKENS_PER_CHAR } from '../../shared/store/capacity';
import { teamDailyBudget } from '../../shared/capacity/team-budget';
import type { ProviderRemaining } from './rate-limit-headers';
import type { ModelCallRecord } from '../../shared/store/model-calls';

/** How long the prompt cache keeps an entry (Anthropic's default ephemeral cache). */
const CACHE_TTL_MS = 5 * 60_000;
/** A waiter that does not come back within this long after its turn loses its place. */
const WAITER_GRACE_MS = 60_000;
/** Reserve a little over the estimate: an underestimate is a debt others wait for. */
const ESTIMATE_MARGIN = 1.1;
/** Weight of the newest call when calibrating tokens per character. */
const CALIBRATION_WEIGHT = 0.3;
/** Runs whose owner an admission remembers. */
const REMEMBERED_OWNERS = 1000;

export interface AdmissionRequest {
  /** The call's ledger key: its reservation is keyed by it. */
  key: string;
  runId: string;
  model: string;
  /** Characters about to be sent (system, tools and messages). */
  promptChars: number;
  /** Of those, the tools and system prompt: the prefix every call of the deployment shares. */
  prefixChars: number;
  /** Identifies that prefix (a hash of it): a worker with other tools has a prefix of its own. */
  prefixKey: string;
  maxTokens: number;
  /**
   * The run is in a run tree (it has a parent, or children): the call must also fit, before it is made, under
   * the cost and step caps of the run and of every run above it, their trees' spend counted — else it is
   * refused for good (`deferred: 'limit'`). Such a call is always admitted with a reservation.
   */
  tree?: boolean;
}

export type Admission = { granted: true; metered: boolean } | ModelCallDeferral;

export interface Settlement {
  key: string;
  model: string;
  promptChars: number;
  /**
   * Absent when the call failed: what it used is unknown, so the rate-limit buckets keep all that admission took for it
   * (nothing is given back). Its reservation still goes, so the worst-case cost it held against budgets and caps is
   * released, and no spend is recorded.
   */
  usage?: Usage;
  remaining?: ProviderRemaining;
  /** The provider's own per-minute limits for the key, when it said. */
  providerLimits?: ProviderRemaining;
  rateLimited?: boolean;
  /** For the spend record. */
  runId: string;
  /** The call was admitted with a reservation (limits or budgets apply). */
  metered: boolean;
  /** The shared prefix the call sent (see AdmissionRequest). */
  prefixKey?: string;
}

/** Tokens a call counts toward input TPM: uncached input plus cache writes. */
export const countedInput = (u: Pick<Usage, 'inputTokens' | 'cacheWriteTokens'>): number => u.inputTokens + (u.cacheWriteTokens ?? 0);

export function createModelAdmission(deps: { store: Store; config: Config; pricing: PricingTable; logger?: Logger; now?: () => number }) {
  const { store, config, pricing } = deps;
  const now = deps.now ?? Date.now;
  /** Limits configured above what the provider grants, said once per model and limit. */
  const warnedAbove = new Set<string>();
  /** When a call with each shared prefix (tools and system) last completed here, writing it to the cache. */
  const prefixCachedAt = new Map<string, number>();
  /** The owners of the latest runs that made a metered call here. */
  const owners = new Map<string, string>();
  /** Their teams (null: a personal run); a run's team never changes either. */
  const teams = new Map<string, string | null>();

  /** Nothing to check: no limits on this model and no budgets anywhere. */
  const unmetered = (model: string) =>
    !rateLimitsFor(config, model) && config.budgets.dailyUsd === undefined && config.budgets.perUser.size === 0;

  /** Whose budget a run's calls count against: read once per run (a run's owner never changes once it is created). */
  async function ownerOf(runId: string): Promise<string> {
    let owner = owners.get(runId);
    if (owner === undefined) {
      const run = await store.runs.get(runId);
      if (!run) throw ApplicationFailure.nonRetryable(`run ${runId} has no record`, FailureType.RunRecordMissing);
      owner = run.owner;
      if (owners.size >= REMEMBERED_OWNERS) {
        const oldest = owners.keys().next().value!;
        owners.delete(oldest);
        teams.delete(oldest);
      }
      owners.set(runId, owner);
      teams.set(runId, run.team);
    }
    return owner;
  }

  /** The run's team (null: personal, or a run with no record, which ownerOf refuses when it matters). */
  async function teamOf(runId: string): Promise<string | null> {
    if (!teams.has(runId) && (await store.runs.get(runId))) await ownerOf(runId);
    return teams.get(runId) ?? null;
  }

  /** Nothing to check for this run's call: no limits, no budgets of its owner's, and none of its team's. */
  async function unmeteredFor(model: string, runId: string): Promise<boolean> {
    if (!unmetered(model)) return false;
    const team = await teamOf(runId);
    return team === null || (await teamDailyBudget(store, config, team)) === undefined;
  }

  async function admit(req: AdmissionRequest): Promise<Admission> {
    // A team's budget is counted beside its owner's: the run's calls wait when either is spent for the day.
    const team = await teamOf(req.runId);
    const teamBudget = team === null ? undefined : await teamDailyBudget(store, config, team);
    if (!req.tree && unmetered(req.model) && !teamBudget) return { granted: true, metered: false };
    const owner = await ownerOf(req.runId);
    const previous = config.model.promptCaching ? await store.modelCalls.latestOfRun(req.runId) : undefined;

    const answer = await store.transaction(async (tx): Promise<Admission> => {
      const t = now();
      const limits = rateLimitsFor(config, req.model);
      const books = limits ? await tx.capacity.books(req.model, limits, t) : undefined;
      const tokensPerChar = books?.tokensPerChar ?? DEFAULT_TOKENS_PER_CHAR;
      // What the cache should serve: all the run's previous call sent; for a run's first call, the
      // tools and system prompt, when any call of this model wrote them in the cache's lifetime.
      const prefixAt = prefixCachedAt.get(req.prefixKey);
      const sharedPrefixCached = config.model.promptCaching && prefixAt !== undefined && t - prefixAt < CACHE_TTL_MS;
      const expectedCached = previous && t - previous.atMs < CACHE_TTL_MS ? previous.cachedTokens : sharedPrefixCached ? req.prefixChars * tokensPerChar : 0;
      const inputEstimate = Math.max(1, Math.ceil((req.promptChars * tokensPerChar - expectedCached) * ESTIMATE_MARGIN));
      const need: Amounts = { rpm: 1, input_tpm: inputEstimate, output_tpm: req.maxTokens };
      const costUsd = pricing.worstCaseUsd(req.model, inputEstimate, req.maxTokens);

      const budget = dailyBudgetFor(config, owner);
      if (budget !== undefined) {
        await tx.capacity.lockOwner(owner);
        const { spentUsd, reservedUsd } = await tx.modelCalls.spentAndReservedOf(owner, utcDay(t), t);
        if (spentUsd + reservedUsd >= budget) return { deferred: 'budget', resumeInMs: msUntilNextUtcDay(t), spentUsd, budgetUsd: budget };
      }
      if (team !== null && teamBudget) {
        await tx.teamBudgets.lock(team);
        const { spentUsd, reservedUsd } = await tx.teamBudgets.spentOn(team, utcDay(t), t);
        if (spentUsd + reservedUsd >= teamBudget.dailyUsd) return { deferred: 'budget', resumeInMs: msUntilNextUtcDay(t), spentUsd, budgetUsd: teamBudget.dailyUsd, team };
      }

      // A run tree's books: the call's true worst case (all its input uncached, even written to the cache at
      // the dearer rate, and every output token) must fit under every cap above it, or it is never made.
      let reservedUsd = costUsd;
      if (req.tree) {
        const tree = await tx.treeMoney.lockedBooks(req.runId, t, req.key);
        const price = pricing.priceOf(req.model);
        const inputUpper = Math.max(1, Math.ceil(req.promptChars * tokensPerChar * ESTIMATE_MARGIN));
        reservedUsd = Math.max(costUsd, (inputUpper * Math.max(price.inputPerMTok, price.cacheWritePerMTok) + req.maxTokens * price.outputPerMTok) / 1_000_000);
        const refusal = tree.refusal(req.runId, reservedUsd);
        if (refusal) return { deferred: 'limit', ...refusal };
      }

      if (limits && books) {
        const tooLarge = exceedsABucket(need, limits);
        if (tooLarge) {
          throw ApplicationFailure.create({
            message: `this call needs ${need[tooLarge]} of ${req.model}'s ${tooLarge} limit of ${limits[tooLarge]} per minute: it could never run`,
            type: FailureType.ModelCallExceedsRateLimit,
            nonRetryable: true,
          });
        }
        const waiting = await tx.capacity.waiters(req.model, t);
        const mine = waiting.find((w) => w.runId === req.runId);
        const me = { runId: req.runId, owner, need, enqueuedMs: mine?.enqueuedMs ?? t };
        const queue = [...waiting.filter((w) => w.runId !== req.runId), me];
        const plan = planStarts(books.levels, limits, fairOrder(queue, await tx.capacity.lastServed(req.model))).get(req.runId)!;
        if (plan.waitMs > 0) {
          await tx.capacity.enqueue(req.model, me, t + plan.waitMs + WAITER_GRACE_MS);
          return { deferred: 'capacity', waitMs: plan.waitMs, limit: plan.limit ?? 'rpm' };
        }
        if (mine) await tx.capacity.dequeue(req.runId);
        await tx.capacity.markServed(req.model, owner, t);
        await tx.capacity.saveBooks(req.model, { ...books, levels: take(books.levels, need, limits) }, t);
      }
      await tx.capacity.addReservation({
        key: req.key,
        runId: req.runId,
        owner,
        model: req.model,
        inputTokens: limits ? need.input_tpm : 0,
        outputTokens: limits ? need.output_tpm : 0,
        costUsd: reservedUsd,
        expiresMs: t + config.activities.modelCallTimeoutSec * 1000,
      });
      return { granted: true, metered: true };
    });
    return answer;
  }

  /**
   * Settles a call: its reservation goes, what it actually used corrects the books, the provider's
   * remaining counts win when lower, and the call is recorded for spend. In the caller's transaction.
   */
  async function settle(tx: Store, s: Settlement): Promise<void> {
    const t = now();
    const reservation = s.metered ? await tx.capacity.takeReservation(s.key) : undefined;
    const limits = s.metered ? rateLimitsFor(config, s.model) : undefined;
    if (limits) {
      const books = await tx.capacity.books(s.model, limits, t);
      const levels = { ...books.levels };
      let tokensPerChar = books.tokensPerChar;
      if (s.usage && reservation) {
        if (limits.input_tpm !== undefined) levels.input_tpm += reservation.inputTokens - countedInput(s.usage);
        if (limits.output_tpm !== undefined) levels.output_tpm += reservation.outputTokens - s.usage.outputTokens;
      }
      if (s.usage && s.promptChars > 0) {
        const promptTokens = s.usage.inputTokens + (s.usage.cacheReadTokens ?? 0) + (s.usage.cacheWriteTokens ?? 0);
        tokensPerChar = (1 - CALIBRATION_WEIGHT) * tokensPerChar + CALIBRATION_WEIGHT * (promptTokens / s.promptChars);
      }
      followProvider(levels, limits, s.remaining);
      // Configured above what the key has: the provider's limit caps the bucket, and the operator is told once.
      for (const [limit, granted] of Object.entries(s.providerLimits ?? {}) as [keyof Amounts, number][]) {
        const configured = limits[limit];
        if (configured === undefined || granted >= configured) continue;
        levels[limit] = Math.min(levels[limit], granted);
        if (!warnedAbove.has(`${s.model}:${limit}`)) {
          warnedAbove.add(`${s.model}:${limit}`);
          deps.logger?.warn({ model: s.model, limit, configured, granted }, `MODEL_RATE_LIMITS gives ${s.model} ${configured} ${limit}, but the API key has ${granted}: lower it`);
        }
      }
      await tx.capacity.saveBooks(s.model, { levels, tokensPerChar }, t);
    }
    if (s.rateLimited) await tx.capacity.recordRateLimited(s.model, s.runId, t);
    if (s.usage && s.prefixKey && config.model.promptCaching) prefixCachedAt.set(s.prefixKey, t);
    if (s.usage) await tx.modelCalls.record(callRecord(s, s.usage, t));
  }

  /**
   * The spend record of a call that was answered: all that settling it writes when it was not metered (no
   * reservation, no books, no prefix to remember), so its commit may write it with the answer (model-activities.ts).
   */
  function callRecord(s: Pick<Settlement, 'key' | 'runId' | 'model'>, usage: Usage, t = now()): ModelCallRecord {
    return { key: s.key, runId: s.runId, model: s.model, atMs: t, day: utcDay(t), usage };
  }

  return { admit, settle, callRecord, unmetered, unmeteredFor };
}

/** The provider counts every use of the key, ours and others': where it says less is left, it is right. */
function followProvider(levels: Amounts, limits: RateLimits, remaining: ProviderRemaining | undefined): void {
  if (!remaining) return;
  for (const [limit, left] of Object.entries(remaining) as [keyof Amounts, number][]) {
    if (limits[limit] !== undefined && left < levels[limit]) levels[limit] = left;
  }
}

export type ModelAdmission = ReturnType<typeof createModelAdmission>;
