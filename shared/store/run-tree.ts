/**
 * Walking a run tree (sub-agents' child runs, migration 014) for what rolls up it: which sub-agent of which
 * tree a request comes from, the runs below one, and those of them still live (and which of those paused
 * themselves, for a tree's resume). Depth is bounded
 * (`SUBAGENT_BOUNDS.maxDepth`), so a walk up is a handful of reads; a walk down is one recursive query.
 */
import { sql } from 'kysely';
import type { SubagentOrigin } from '../../contract/api';
import type { EventData } from '../../contract/events';
import { SELF_PAUSED_BY, TERMINAL_STATUSES } from '../../contract/run';
import { parseJson, type Executor } from './executor';

/** A walk up stops here whatever the rows say: a parent link can never make it loop. */
const MAX_WALK = 64;

export class RunTreeRepo {
  constructor(private readonly db: Executor) {}

  /** Which sub-agent a run is, and of which tree; null for a root run (or an unknown one). */
  async originOf(runId: string): Promise<SubagentOrigin | null> {
    const run = await this.link(runId);
    if (!run?.parentRunId) return null;
    let rootRunId = run.parentRunId;
    for (let i = 0; i < MAX_WALK; i++) {
      const up = await this.link(rootRunId);
      if (!up?.parentRunId) break;
      rootRunId = up.parentRunId;
    }
    const toolUseId = parseJson<{ toolUseId?: unknown } | null>(run.metadataJson, null)?.toolUseId;
    return { runId: run.id, agent: run.agent, parentRunId: run.parentRunId, toolUseId: typeof toolUseId === 'string' ? toolUseId : null, rootRunId, depth: run.depth };
  }

  /** Whether `ancestorId` is above `runId` in its tree (a run is not its own ancestor). */
  async isAncestor(ancestorId: string, runId: string): Promise<boolean> {
    let at = (await this.link(runId))?.parentRunId ?? null;
    for (let i = 0; at && i < MAX_WALK; i++) {
      if (at === ancestorId) return true;
      at = (await this.link(at))?.parentRunId ?? null;
    }
    return false;
  }

  /** The ids of every run below `runId` in its tree (children, theirs, …); `live`: only those not ended. */
  async descendantIds(runId: string, opts: { live?: boolean } = {}): Promise<string[]> {
    const { rows } = await sql<{ id: string; status: string }>`
      with recursive tree(id, status) as (
        select id, status from runs where parent_run_id = ${runId}
        union all
        select runs.id, runs.status from runs join tree on runs.parent_run_id = tree.id
      )
      select id, status from tree`.execute(this.db);
    return rows.filter((r) => !opts.live || !(TERMINAL_STATUSES as readonly string[]).includes(r.status)).map((r) => r.id);
  }

  /**
   * Whether the run's latest pause is one it took itself — at its segment cap, or out of its owner's or team's
   * daily budget — rather than one a person asked for: a tree's resume leaves such a run to its own resume.
   * A pause recorded before pauses carried their cause says so by its `by` alone.
   */
  async pausedItself(runId: string): Promise<boolean> {
    const row = await this.db.selectFrom('events').select('data_json').where('run_id', '=', runId).where('type', '=', 'run.paused').orderBy('seq', 'desc').limit(1).executeTakeFirst();
    if (!row) return false;
    const pause = parseJson<Partial<EventData<'run.paused'>>>(row.data_json, {});
    return pause.cause !== undefined ? pause.cause !== 'request' : pause.by === SELF_PAUSED_BY;
  }

  private async link(id: string) {
    const row = await this.db
      .selectFrom('runs')
      .select(['id', 'agent', 'parent_run_id', 'depth', 'metadata_json'])
      .where('id', '=', id)
      .executeTakeFirst();
    return row && { id: row.id, agent: row.agent ?? null, parentRunId: row.parent_run_id ?? null, depth: Number(row.depth ?? 0), metadataJson: row.metadata_json };
  }
}
