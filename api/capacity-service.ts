/**
 * What operators and users read about model capacity and money: the capacity books per model
 * (`GET /api/capacity`, also on /metrics) and spend by day (`GET /api/usage`).
 */
import type { CapacityReport, UsageReport } from '../contract/api';
import { rateLimitsFor, dailyBudgetFor, utcDay } from '../shared/capacity/model-limits';
import type { Config } from '../shared/config';
import type { Store } from '../shared/store';
import type { Access } from './access';
import { mayOnTeam, scopeAllows, type Principal } from '../contract/identity';
import { ApiError } from './errors';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const DEFAULT_USAGE_DAYS = 30;
const MAX_USAGE_DAYS = 366;

export class CapacityService {
  constructor(private readonly deps: { store: Store; config: Config; access: Access }) {}

  /** The models reported: each one named in MODEL_RATE_LIMITS, and each one that has books. */
  private async models(nowMs: number): Promise<string[]> {
    const named = [...this.deps.config.model.rateLimits.keys()].filter((m) => m !== '*');
    return [...new Set([...named, ...(await this.deps.store.capacity.knownModels(nowMs - HOUR_MS))])].sort();
  }

  /** Another user's spend: legacy APPROVERS (as before teams), or an admin of a team the user holds a role on. */
  private async mayReadSpendOf(caller: Principal, user: string): Promise<boolean> {
    if (this.deps.access.isLegacyApprover(caller)) return true;
    const theirs = await this.deps.store.teamMembers.rolesOf(user);
    return theirs.some((r) => mayOnTeam(caller, r.team, 'administer'));
  }

  async capacity(nowMs = Date.now()): Promise<CapacityReport> {
    const { store, config } = this.deps;
    const models = await Promise.all(
      (await this.models(nowMs)).map(async (model) => {
        const limits = rateLimitsFor(config, model);
        // Reading the books refills them to now; without a transaction nothing is written or locked.
        const books = limits ? await store.capacity.books(model, limits, nowMs) : undefined;
        const used = await store.modelCalls.usedSince(model, nowMs - 60_000);
        return {
          model,
          limits: { rpm: limits?.rpm ?? null, inputTpm: limits?.input_tpm ?? null, outputTpm: limits?.output_tpm ?? null },
          usedLastMinute: used,
          reserved: await store.capacity.reservedFor(model, nowMs),
          available: {
            rpm: limits?.rpm !== undefined && books ? Math.floor(books.levels.rpm) : null,
            inputTpm: limits?.input_tpm !== undefined && books ? Math.floor(books.levels.input_tpm) : null,
            outputTpm: limits?.output_tpm !== undefined && books ? Math.floor(books.levels.output_tpm) : null,
          },
          runsWaiting: await store.capacity.countWaiting(model, nowMs),
          rateLimitedLastHour: await store.capacity.rateLimitedSince(model, nowMs - HOUR_MS),
        };
      }),
    );
    return { models, at: new Date(nowMs).toISOString() };
  }

  async usage(caller: Principal, q: { from?: string; to?: string; user?: string }, nowMs = Date.now()): Promise<UsageReport> {
    const user = q.user ?? caller.user;
    if (!scopeAllows(caller.scopes, 'read')) throw new ApiError(403, 'scope_missing', "this credential's scopes do not allow read");
    if (user !== caller.user && !(await this.mayReadSpendOf(caller, user))) {
      throw new ApiError(403, 'forbidden', "only legacy APPROVERS and the admins of a user's teams may read another user's spend");
    }
    const to = q.to ?? utcDay(nowMs);
    const from = q.from ?? utcDay(Date.parse(`${to}T00:00:00Z`) - (DEFAULT_USAGE_DAYS - 1) * DAY_MS);
    if (from > to) throw new ApiError(400, 'invalid_query', 'from must not be after to');
    if ((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS >= MAX_USAGE_DAYS) {
      throw new ApiError(400, 'invalid_query', `at most ${MAX_USAGE_DAYS} days at a time`);
    }
    const days = await this.deps.store.modelCalls.spendByDay({ owner: user, from, to });
    return {
      user,
      from,
      to,
      dailyBudgetUsd: dailyBudgetFor(this.deps.config, user) ?? null,
      days,
      totalUsd: days.reduce((sum, d) => sum + d.costUsd, 0),
    };
  }
}
