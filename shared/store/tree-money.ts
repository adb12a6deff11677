/**
 * The books of a run tree (a run and its sub-agents' runs), read for one decision: may this call be made,
 * how much may this new child reserve (shared/capacity/tree-books.ts decides). The tree is the rows linked by
 * `parent_run_id`, its spend their `cost_usd`, its steps their `turn`, its calls in flight the model
 * calls' reservations (`capacity_reservations`).
 *
 * Concurrency: every decision about a tree takes the tree's lock first, then reads, then writes (a
 * reservation, a child's row) in the same transaction — Postgres: a transaction-scoped advisory lock on the
 * root's id; SQLite: its transactions already take the write lock up front (BEGIN IMMEDIATE). So parallel
 * children never both spend the same room. Lock order, everywhere: owner's budget, then tree, then model books.
 */
import { sql } from 'kysely';
import { TERMINAL_STATUSES, type RunLimits } from '../../contract/run';
import { TreeBooks, type InFlightCall, type TreeNode } from '../capacity/tree-books';
import type { Executor } from './executor';
import { parseJson } from './executor';
import type { Dialect } from './open-database';

const ENDED: readonly string[] = TERMINAL_STATUSES;

export class TreeMoneyRepo {
  constructor(
    private readonly db: Executor,
    private readonly dialect: Dialect,
  ) {}

  /** The root of the run's tree (the run itself when it has no parent). Parent links never change, so this needs no lock. */
  async rootOf(runId: string): Promise<string> {
    const { rows } = await sql<{ id: string; parent_run_id: string | null }>`
      with recursive up(id, parent_run_id, hops) as (
        select id, parent_run_id, 0 from runs where id = ${runId}
        union all
        select runs.id, runs.parent_run_id, up.hops + 1 from runs join up on runs.id = up.parent_run_id where up.hops < 64
      )
      select id, parent_run_id from up`.execute(this.db);
    return rows.find((r) => r.parent_run_id === null)?.id ?? rows[rows.length - 1]?.id ?? runId;
  }

  /** Serialises decisions about one tree for the rest of the transaction (Postgres; SQLite already serialises writers). */
  async lockTree(rootId: string): Promise<void> {
    if (this.dialect === 'postgres') await sql`select pg_advisory_xact_lock(hashtext(${`longhaul:tree:${rootId}`}))`.execute(this.db);
  }

  /**
   * Locks the run's tree and reads its books as of `nowMs`. Call inside a transaction. `exceptKey`: a call
   * being admitted again, whose own earlier reservation is not counted against it.
   */
  async lockedBooks(runId: string, nowMs: number, exceptKey?: string): Promise<TreeBooks> {
    const root = await this.rootOf(runId);
    await this.lockTree(root);
    // The runs (their spend) and their calls in flight (their reservations) in one statement, so in one snapshot: a
    // call settling between two reads (its reservation gone, its spend on its run, one commit) would be in neither.
    const { rows } = await sql<{
      kind: 'run' | 'call';
      id: string;
      parent_run_id: string | null;
      limits_json: string | null;
      cost_usd: number | string;
      turn: number | string | null;
      status: string | null;
      key: string | null;
    }>`
      with recursive tree(id) as (
        select id from runs where id = ${root}
        union
        select runs.id from runs join tree on runs.parent_run_id = tree.id
      )
      select 'run' as kind, id, parent_run_id, limits_json, cost_usd, turn, status, null as key from runs where id in (select id from tree)
      union all
      select 'call' as kind, run_id as id, null, null, cost_usd, null, null, key from capacity_reservations
        where run_id in (select id from tree) and expires_ms >= ${nowMs}`.execute(this.db);
    const nodes = rows.filter((r) => r.kind === 'run');
    const calls = rows.filter((r) => r.kind === 'call');
    const tree: TreeNode[] = nodes.map((r) => {
      const limits = parseJson<Partial<RunLimits>>(r.limits_json, {});
      return {
        id: r.id,
        parentRunId: r.parent_run_id,
        maxCostUsd: limits.maxCostUsd ?? 0,
        maxSteps: limits.maxSteps ?? 0,
        costUsd: Number(r.cost_usd),
        steps: Number(r.turn),
        ended: r.status !== null && ENDED.includes(r.status),
      };
    });
    const flying: InFlightCall[] = calls.map((c) => ({ key: c.key ?? '', runId: c.id, costUsd: Number(c.cost_usd) }));
    return new TreeBooks(tree, flying, exceptKey);
  }
}
