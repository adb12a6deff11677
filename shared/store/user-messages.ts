/**
 * Follow-up messages (migration 005). The API records each one here first, `pending`; the run takes
 * the pending ones into its conversation at a turn boundary (`accepted`, with that turn). A message
 * is never lost between the two: whoever ends or continues a run looks here for pending messages.
 */
import type { FollowUpStatus, RunLimits } from '../../contract/run';
import { nowIso, parseJson, type Executor } from './executor';
import type { UserMessagesTable } from './schema';

export interface UserMessageRecord {
  id: string;
  runId: string;
  by: string;
  text: string;
  limits: Partial<RunLimits> | null;
  status: FollowUpStatus;
  turn: number | null;
  idempotencyKey: string | null;
  createdAt: string;
  acceptedAt: string | null;
}

function toRecord(row: UserMessagesTable): UserMessageRecord {
  return {
    id: row.id,
    runId: row.run_id,
    by: row.author,
    text: row.text,
    limits: parseJson<Partial<RunLimits> | null>(row.limits_json, null),
    status: row.status as UserMessageRecord['status'],
    turn: row.turn === null ? null : Number(row.turn),
    idempotencyKey: row.idempotency_key,
    createdAt: row.created_at,
    acceptedAt: row.accepted_at,
  };
}

export class UserMessagesRepo {
  constructor(private readonly db: Executor) {}

  async insert(m: { id: string; runId: string; by: string; text: string; limits?: Partial<RunLimits> | null; idempotencyKey?: string | null }): Promise<UserMessageRecord> {
    await this.db
      .insertInto('user_messages')
      .values({
        id: m.id,
        run_id: m.runId,
        author: m.by,
        text: m.text,
        limits_json: m.limits ? JSON.stringify(m.limits) : null,
        status: 'pending',
        turn: null,
        idempotency_key: m.idempotencyKey ?? null,
        created_at: nowIso(),
        accepted_at: null,
      })
      .execute();
    return (await this.get(m.id))!;
  }

  async get(id: string): Promise<UserMessageRecord | undefined> {
    const row = await this.db.selectFrom('user_messages').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  async findByIdempotencyKey(runId: string, key: string): Promise<UserMessageRecord | undefined> {
    const row = await this.db.selectFrom('user_messages').selectAll().where('run_id', '=', runId).where('idempotency_key', '=', key).executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  /** Waiting messages of a run, oldest first. */
  async pending(runId: string): Promise<UserMessageRecord[]> {
    const rows = await this.db
      .selectFrom('user_messages')
      .selectAll()
      .where('run_id', '=', runId)
      .where('status', '=', 'pending')
      .orderBy('created_at', 'asc')
      .orderBy('id', 'asc')
      .execute();
    return rows.map(toRecord);
  }

  /** The messages taken in at `turn` of the run (by this attempt or an earlier one of the same step). */
  async acceptedAt(runId: string, turn: number): Promise<UserMessageRecord[]> {
    const rows = await this.db.selectFrom('user_messages').selectAll().where('run_id', '=', runId).where('status', '=', 'accepted').where('turn', '=', turn).orderBy('created_at', 'asc').orderBy('id', 'asc').execute();
    return rows.map(toRecord);
  }

  async markAccepted(ids: string[], turn: number): Promise<void> {
    if (ids.length === 0) return;
    await this.db.updateTable('user_messages').set({ status: 'accepted', turn, accepted_at: nowIso() }).where('id', 'in', ids).where('status', '=', 'pending').execute();
  }
}
