/** The text of the model message being streamed right now, per run (see migration 004). */
import { nowIso, type Executor } from './executor';

export interface LiveText {
  runId: string;
  turn: number;
  attempt: number;
  text: string;
}

export class LiveTextRepo {
  constructor(private readonly db: Executor) {}

  async put(t: LiveText): Promise<void> {
    await this.putMany([t]);
  }

  /** Several runs' text in one statement (a worker writes every streaming run's at once); one row per run. */
  async putMany(texts: LiveText[]): Promise<void> {
    if (texts.length === 0) return;
    const at = nowIso();
    await this.db
      .insertInto('live_text')
      .values(texts.map((t) => ({ run_id: t.runId, turn: t.turn, attempt: t.attempt, text: t.text, updated_at: at })))
      // Never over a later turn's text: a message's last write may land after the next message's first.
      .onConflict((oc) =>
        oc
          .column('run_id')
          .doUpdateSet((eb) => ({ turn: eb.ref('excluded.turn'), attempt: eb.ref('excluded.attempt'), text: eb.ref('excluded.text'), updated_at: eb.ref('excluded.updated_at') }))
          .whereRef('live_text.turn', '<=', 'excluded.turn'),
      )
      .execute();
  }

  async get(runId: string): Promise<LiveText | undefined> {
    const row = await this.db.selectFrom('live_text').selectAll().where('run_id', '=', runId).executeTakeFirst();
    return row ? { runId: row.run_id, turn: Number(row.turn), attempt: Number(row.attempt), text: row.text } : undefined;
  }

  async getMany(runIds: string[]): Promise<LiveText[]> {
    if (runIds.length === 0) return [];
    const rows = await this.db.selectFrom('live_text').selectAll().where('run_id', 'in', runIds).execute();
    return rows.map((row) => ({ runId: row.run_id, turn: Number(row.turn), attempt: Number(row.attempt), text: row.text }));
  }

  /** The turn's message is stored: its live text goes (unless a later turn already replaced it). */
  async clear(runId: string, turn: number): Promise<void> {
    await this.db.deleteFrom('live_text').where('run_id', '=', runId).where('turn', '<=', turn).execute();
  }
}
