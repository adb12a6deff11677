/**
 * Who is watching which run (migration 008): each API process writes its open WebSocket and SSE
 * subscriptions here (per run and user) and refreshes them while it lives, so every replica and
 * every worker can tell whether a run's owner is looking. A process that dies stops refreshing;
 * its rows go stale and stop counting.
 */
import { nowIso, type Executor } from './executor';

/** How often an API process refreshes its rows; three missed refreshes and they stop counting. */
export const PRESENCE_REFRESH_MS = 5_000;
export const PRESENCE_STALE_MS = 3 * PRESENCE_REFRESH_MS;

/** The oldest refresh that still counts. */
export const presenceFreshSince = (nowMs = Date.now()): string => new Date(nowMs - PRESENCE_STALE_MS).toISOString();

export interface Watchers {
  count: number;
  users: string[];
}

export class WatchersRepo {
  constructor(private readonly db: Executor) {}

  /** This process's subscriptions of `user` to `runId` (0 removes them). */
  async set(instance: string, runId: string, user: string, sockets: number): Promise<void> {
    if (sockets <= 0) {
      await this.db.deleteFrom('watchers').where('instance', '=', instance).where('run_id', '=', runId).where('user', '=', user).execute();
      return;
    }
    const now = nowIso();
    await this.db
      .insertInto('watchers')
      .values({ instance, run_id: runId, user, sockets, seen_at: now })
      .onConflict((oc) => oc.columns(['instance', 'run_id', 'user']).doUpdateSet({ sockets, seen_at: now }))
      .execute();
  }

  /** This process is alive: its rows stay fresh. */
  async refresh(instance: string): Promise<void> {
    await this.db.updateTable('watchers').set({ seen_at: nowIso() }).where('instance', '=', instance).execute();
  }

  async removeInstance(instance: string): Promise<void> {
    await this.db.deleteFrom('watchers').where('instance', '=', instance).execute();
  }

  /** Everyone watching `runId` in a process seen since `freshSince`. */
  /** Of `runIds`, the ones someone watches now (any live subscription, anyone). */
  async watched(runIds: string[], freshSince: string = presenceFreshSince()): Promise<Set<string>> {
    if (runIds.length === 0) return new Set();
    const rows = await this.db
      .selectFrom('watchers')
      .select('run_id')
      .distinct()
      .where('run_id', 'in', runIds)
      .where('sockets', '>', 0)
      .where('seen_at', '>=', freshSince)
      .execute();
    return new Set(rows.map((r) => r.run_id));
  }

  async forRun(runId: string, freshSince: string = presenceFreshSince()): Promise<Watchers> {
    const rows = await this.db.selectFrom('watchers').select(['user', 'sockets']).where('run_id', '=', runId).where('seen_at', '>=', freshSince).execute();
    const users = [...new Set(rows.map((r) => r.user))].sort();
    return { count: rows.reduce((n, r) => n + Number(r.sockets), 0), users };
  }

  /** Drops rows of processes gone for good. */
  async purgeStale(before: string): Promise<void> {
    await this.db.deleteFrom('watchers').where('seen_at', '<', before).execute();
  }
}
