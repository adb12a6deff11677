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

  /**
   * Whose spend of another user's the caller may read: all of it for a legacy APPROVER (as before teams); for an
   * admin, only what the user's runs spent on the teams both hold a role on and the caller administers — an admin of
   * one team must not read what the user spends on another team or on their own; undefined: none of it.
   */
  private async spendTeamsOf(caller: Principal, user: string): Promise<'all' | string[] | undefined> {
    if (this.deps.access.isLegacyApprover(caller)) return 'all';
    const theirs = await this.deps.store.teamMembers.rolesOf(user);
    const teams = [...new Set(theirs.filter((r) => mayOnTeam(caller, r.team, 'administer')).map((r) => r.team))].sort();
    return teams.length > 0 ? teams : undefined;
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
    const teams = user === caller.user ? 'all' : await this.spendTeamsOf(caller, user);
    if (teams === undefined) {
      throw new ApiError(403, 'forbidden', "only legacy APPROVERS and the admins of a user's teams may read another user's spend");
    }
    const to = q.to ?? utcDay(nowMs);
    const from = q.from ?? utcDay(Date.parse(`${to}T00:00:00Z`) - (DEFAULT_USAGE_DAYS - 1) * DAY_MS);
    if (from > to) throw new ApiError(400, 'invalid_query', 'from must not be after to');
    if ((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS >= MAX_USAGE_DAYS) {
      throw new ApiError(400, 'invalid_query', `at most ${MAX_USAGE_DAYS} days at a time`);
    }
    const days = await this.deps.store.modelCalls.spendByDay({ owner: user, from, to, ...(teams !== 'all' && { teams }) });
    return {
      user,
      ...(teams !== 'all' && { teams }),
      from,
      to,
      dailyBudgetUsd: dailyBudgetFor(this.deps.config, user) ?? null,
      days,
      totalUsd: days.reduce((sum, d) => sum + d.costUsd, 0),
    };
  }
}
