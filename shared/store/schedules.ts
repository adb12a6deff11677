/**
 * Schedules (migration 007): who owns each, what its firings start, and the API key it was created with (migration
 * 027). Temporal keeps the timing.
 */
import type { ApprovalPolicy, RunLimits } from '../../contract/run';
import { nowIso, parseJson, type Executor } from './executor';
import type { SchedulesTable } from './schema';
import type { RunWebhooks } from './webhooks';

/** What each firing starts, resolved against the server's defaults and maxima when the schedule was made. */
export interface ScheduledRequest {
  model: string;
  approvals: ApprovalPolicy;
  limits: RunLimits;
  approvalTimeoutSec: number;
  webhooks: RunWebhooks;
  /** The agent each firing's run is (at the agent's version current when it fires), and its structured input; absent: no agent. */
  agent?: string;
  input?: unknown;
  /** Each run starts from its predecessor's workspace (absent on schedules made before this existed). */
  sharedWorkspace?: boolean;
}

export interface ScheduleRecord {
  id: string;
  owner: string;
  name: string;
  goal: string;
  request: ScheduledRequest;
  cron: string | null;
  everySec: number | null;
  timezone: string;
  overlap: 'skip' | 'buffer_one' | 'allow_all';
  /** The team the schedule and its firings' runs belong to; null: personal. */
  team: string | null;
  /** The API key that created the schedule: its firings stop once the key is revoked or expires. Null: not a key. */
  keyId: string | null;
  createdAt: string;
}

function toRecord(row: SchedulesTable): ScheduleRecord {
  return {
    id: row.id,
    owner: row.owner,
    name: row.name,
    goal: row.goal,
    request: parseJson<ScheduledRequest>(row.request_json, null as never),
    cron: row.cron,
    everySec: row.every_sec === null ? null : Number(row.every_sec),
    timezone: row.timezone,
    overlap: row.overlap as ScheduleRecord['overlap'],
    team: row.team ?? null,
    keyId: row.key_id ?? null,
    createdAt: row.created_at,
  };
}

export class SchedulesRepo {
  constructor(private readonly db: Executor) {}

  async insert(s: Omit<ScheduleRecord, 'createdAt' | 'team' | 'keyId'> & { team?: string | null; keyId?: string | null }): Promise<ScheduleRecord> {
    await this.db
      .insertInto('schedules')
      .values({ id: s.id, owner: s.owner, name: s.name, goal: s.goal, request_json: JSON.stringify(s.request), cron: s.cron, every_sec: s.everySec, timezone: s.timezone, overlap: s.overlap, team: s.team ?? null, key_id: s.keyId ?? null, created_at: nowIso(), deleted_at: null })
      .execute();
    return (await this.get(s.id))!;
  }

  /** A schedule that has not been deleted. */
  async get(id: string): Promise<ScheduleRecord | undefined> {
    const row = await this.db.selectFrom('schedules').selectAll().where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  async listForOwner(owner: string): Promise<ScheduleRecord[]> {
    const rows = await this.db.selectFrom('schedules').selectAll().where('owner', '=', owner).where('deleted_at', 'is', null).orderBy('created_at', 'desc').execute();
    return rows.map(toRecord);
  }

  /** Schedules the caller owns, and those of `teams` (the teams whose schedules they may read). */
  async listVisible(owner: string, teams: string[]): Promise<ScheduleRecord[]> {
    const rows = await this.db
      .selectFrom('schedules')
      .selectAll()
      .where((eb) => (teams.length ? eb.or([eb('owner', '=', owner), eb('team', 'in', teams)]) : eb('owner', '=', owner)))
      .where('deleted_at', 'is', null)
      .orderBy('created_at', 'desc')
      .execute();
    return rows.map(toRecord);
  }

  async markDeleted(id: string): Promise<void> {
    await this.db.updateTable('schedules').set({ deleted_at: nowIso() }).where('id', '=', id).execute();
  }
}
