/**
 * Workspaces in the database: each run's lifecycle state, the manifest of its current version, and
 * which worker holds it while active. Writes that change state are conditional, so two workers (or
 * a worker and the API) never both act on one workspace.
 */
import { sql } from 'kysely';
import type { ManifestEntry, WorkspaceState } from '../../contract/workspace';
import { nowIso, parseJson, type Executor } from './executor';

export interface WorkspaceRecord {
  runId: string;
  state: WorkspaceState;
  version: number;
  entries: ManifestEntry[];
  files: number;
  bytes: number;
  holder: string | null;
  cycle: number;
  updatedAt: string;
}

export class WorkspacesRepo {
  constructor(private readonly db: Executor) {}

  async get(runId: string): Promise<WorkspaceRecord | undefined> {
    const row = await this.db.selectFrom('workspaces').selectAll().where('run_id', '=', runId).executeTakeFirst();
    if (!row) return undefined;
    return {
      runId: row.run_id,
      state: row.state as WorkspaceState,
      version: Number(row.version),
      entries: parseJson<ManifestEntry[]>(row.manifest_json, []),
      files: Number(row.files),
      bytes: Number(row.bytes),
      holder: row.holder,
      cycle: Number(row.cycle ?? 0),
      updatedAt: row.updated_at,
    };
  }

  /** State and version only: what a worker checks before each tool call (the manifest is read only to restore). */
  async headOf(runId: string): Promise<{ state: WorkspaceState; version: number } | undefined> {
    const row = await this.db.selectFrom('workspaces').select(['state', 'version']).where('run_id', '=', runId).executeTakeFirst();
    return row ? { state: row.state as WorkspaceState, version: Number(row.version) } : undefined;
  }

  /** Only the state (a run view needs no manifest). */
  async stateOf(runId: string): Promise<WorkspaceState | null> {
    const row = await this.db.selectFrom('workspaces').select('state').where('run_id', '=', runId).executeTakeFirst();
    return (row?.state as WorkspaceState | undefined) ?? null;
  }

  /**
   * Records a new version, if the stored one is still `basedOn` (0: none yet): false when another
   * writer got there first. The workspace is active on `holder`.
   */
  async commit(runId: string, basedOn: number, entries: ManifestEntry[], holder: string, localBytes: number): Promise<boolean> {
    const files = entries.filter((e) => e.kind === 'file').length;
    const bytes = entries.reduce((n, e) => n + (e.kind === 'file' ? e.size : 0), 0);
    const now = nowIso();
    const values = { state: 'active', version: basedOn + 1, manifest_json: JSON.stringify(entries), files, bytes, holder, local_bytes: localBytes, updated_at: now, released_at: null };
    if (basedOn === 0) {
      const inserted = await this.db
        .insertInto('workspaces')
        .values({ run_id: runId, ...values })
        .onConflict((oc) => oc.column('run_id').doNothing())
        .returning('run_id')
        .executeTakeFirst();
      if (inserted) return true;
    }
    const updated = await this.db.updateTable('workspaces').set(values).where('run_id', '=', runId).where('version', '=', basedOn).executeTakeFirst();
    return Number(updated.numUpdatedRows) === 1;
  }

  /** A new run's workspace, as another run's current version left it (durable only: hibernated until a worker restores it). */
  async startFrom(runId: string, from: WorkspaceRecord): Promise<boolean> {
    const inserted = await this.db
      .insertInto('workspaces')
      .values({ run_id: runId, state: 'hibernated', version: 1, manifest_json: JSON.stringify(from.entries), files: from.files, bytes: from.bytes, holder: null, updated_at: nowIso(), released_at: null })
      .onConflict((oc) => oc.column('run_id').doNothing())
      .returning('run_id')
      .executeTakeFirst();
    return inserted !== undefined;
  }

  /** A worker materialised the workspace: it is active there. Returns the restore's cycle number. */
  async restored(runId: string, holder: string, ms: number, localBytes: number): Promise<number> {
    const row = await this.db
      .updateTable('workspaces')
      .set((eb) => ({
        state: 'active',
        holder,
        local_bytes: localBytes,
        cycle: eb('cycle', '+', 1),
        restores: eb('restores', '+', 1),
        restore_ms: eb('restore_ms', '+', ms),
        updated_at: nowIso(),
      }))
      .where('run_id', '=', runId)
      .returning('cycle')
      .executeTakeFirst();
    return Number(row?.cycle ?? 0);
  }

  /** The holder dropped its local copy of `version`: hibernated, unless something changed meanwhile. */
  async hibernate(runId: string, holder: string, version: number): Promise<WorkspaceRecord | undefined> {
    const updated = await this.db
      .updateTable('workspaces')
      .set({ state: 'hibernated', holder: null, local_bytes: 0, updated_at: nowIso() })
      .where('run_id', '=', runId)
      .where('holder', '=', holder)
      .where('version', '=', version)
      .where('state', '=', 'active')
      .executeTakeFirst();
    return Number(updated.numUpdatedRows) === 1 ? this.get(runId) : undefined;
  }

  /** Marks the workspace released (once): true when this call did it. */
  async release(runId: string): Promise<boolean> {
    const updated = await this.db
      .updateTable('workspaces')
      .set({ state: 'released', manifest_json: '[]', files: 0, bytes: 0, holder: null, local_bytes: 0, updated_at: nowIso(), released_at: nowIso() })
      .where('run_id', '=', runId)
      .where('state', '!=', 'released')
      .executeTakeFirst();
    return Number(updated.numUpdatedRows) === 1;
  }

  /** Workspaces of runs that ended before `endedBefore` and still hold a durable copy. */
  async expired(endedBefore: string, limit = 100): Promise<string[]> {
    const rows = await this.db
      .selectFrom('workspaces')
      .innerJoin('runs', 'runs.id', 'workspaces.run_id')
      .select('workspaces.run_id')
      .where('workspaces.state', '!=', 'released')
      .where('runs.ended_at', 'is not', null)
      .where('runs.ended_at', '<', endedBefore)
      .limit(limit)
      .execute();
    return rows.map((r) => r.run_id);
  }

  /** Workspaces by state, bytes stored, bytes on workers' disks, and restores (count, total ms): for /metrics. */
  async stats(): Promise<{ byState: Record<string, number>; storedBytes: number; localBytes: number; restores: number; restoreMs: number }> {
    const rows = await this.db
      .selectFrom('workspaces')
      .select((eb) => [
        'state',
        eb.fn.countAll<number>().as('n'),
        eb.fn.coalesce(eb.fn.sum<number>('bytes'), sql<number>`0`).as('bytes'),
        eb.fn.coalesce(eb.fn.sum<number>('local_bytes'), sql<number>`0`).as('local'),
        eb.fn.coalesce(eb.fn.sum<number>('restores'), sql<number>`0`).as('restores'),
        eb.fn.coalesce(eb.fn.sum<number>('restore_ms'), sql<number>`0`).as('restore_ms'),
      ])
      .groupBy('state')
      .execute();
    const out = { byState: {} as Record<string, number>, storedBytes: 0, localBytes: 0, restores: 0, restoreMs: 0 };
    for (const r of rows) {
      out.byState[r.state] = Number(r.n);
      out.storedBytes += Number(r.bytes);
      out.localBytes += Number(r.local);
      out.restores += Number(r.restores);
      out.restoreMs += Number(r.restore_ms);
    }
    return out;
  }
}
