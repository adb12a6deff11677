/**
 * Which runs' requests a caller may act on, as the store filters them: the inbox reads one page at a time in SQL
 * (issue 26) rather than every pending request with its run, checked in memory. `Access` (api/access.ts) says what
 * scope a caller has; this turns it into a condition on the joined `runs` row, and the inbox's keyset into one on
 * the request's table.
 */
import { sql, type RawBuilder, type SqlBool } from 'kysely';
import type { InboxItem } from '../../contract/api';

/** Runs owned by `owner`, or of one of `teams`, or (`personal`) of no team. Nothing at all when all three are off. */
export interface RunScope {
  owner: string | null;
  teams: string[];
  personal: boolean;
}

export type InboxKind = InboxItem['kind'];

/** Where a request stands in the inbox's order: oldest first; at one instant approvals before questions; then by id. */
export interface InboxKey {
  requestedAt: string;
  kind: InboxKind;
  id: string;
}

/** At one instant approvals come before questions. */
export const KIND_RANK: Record<InboxKind, number> = { approval: 0, question: 1 };

/** The inbox's order with ids compared as JavaScript does (tests; the store orders ties by id as its database does). */
export function compareInboxKeys(a: InboxKey, b: InboxKey): number {
  if (a.requestedAt !== b.requestedAt) return a.requestedAt < b.requestedAt ? -1 : 1;
  if (a.kind !== b.kind) return KIND_RANK[a.kind] - KIND_RANK[b.kind];
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export function isEmptyScope(scope: RunScope): boolean {
  return scope.owner === null && scope.teams.length === 0 && !scope.personal;
}

/** The scope as a condition on `runs` (joined to the request). Never called with an empty scope. */
export function runInScope(scope: RunScope): RawBuilder<SqlBool> {
  const any: RawBuilder<unknown>[] = [];
  if (scope.owner !== null) any.push(sql`runs.owner = ${scope.owner}`);
  if (scope.teams.length) any.push(sql`runs.team in (${sql.join(scope.teams)})`);
  if (scope.personal) any.push(sql`runs.team is null`);
  return sql<SqlBool>`(${sql.join(any, sql` or `)})`;
}

/** Requests of one kind (in `table`) that come after `after` in the inbox's order. */
export function afterInInbox(table: 'approvals' | 'input_requests', kind: InboxKind, after: InboxKey): RawBuilder<SqlBool> {
  const at = sql.ref(`${table}.requested_at`);
  const id = sql.ref(`${table}.id`);
  const own = KIND_RANK[kind];
  const theirs = KIND_RANK[after.kind];
  if (own > theirs) return sql<SqlBool>`${at} >= ${after.requestedAt}`;
  if (own < theirs) return sql<SqlBool>`${at} > ${after.requestedAt}`;
  return sql<SqlBool>`(${at}, ${id}) > (${after.requestedAt}, ${after.id})`;
}

/** What the inbox shows and checks of the run a request belongs to, read in the same statement. */
export interface ScopedRun {
  owner: string;
  team: string | null;
  goal: string;
  parentRunId: string | null;
}

export const SCOPED_RUN_COLUMNS = ['runs.owner as run_owner', 'runs.team as run_team', 'runs.goal as run_goal', 'runs.parent_run_id as run_parent_run_id'] as const;

export function scopedRunOf(row: { run_owner: string; run_team: string | null; run_goal: string; run_parent_run_id: string | null }): ScopedRun {
  return { owner: row.run_owner, team: row.run_team, goal: row.run_goal, parentRunId: row.run_parent_run_id };
}
