/**
 * The conversation, stored by the activities that produce it. The workflow never carries it:
 * a model call loads its context from here by run id.
 */
import { sql, type RawBuilder, type Selectable, type SqlBool } from 'kysely';
import { nowIso, type Executor } from './executor';
import type { Dialect } from './open-database';
import type { MessagesTable } from './schema';

/** `user`: a follow-up message, joined before the model call of its `turn`. */
/** `instruction`: what Longhaul itself tells the model before a turn (e.g. to give its final result through `final_result`). */
export type MessageKind = 'assistant' | 'tool_result' | 'summary' | 'user' | 'instruction';

export interface StoredMessage {
  id: number;
  runId: string;
  key: string;
  turn: number;
  kind: MessageKind;
  toolUseId: string | null;
  content: unknown;
  createdAt: string;
}

export interface NewMessage {
  runId: string;
  key: string;
  turn: number;
  kind: MessageKind;
  toolUseId?: string | null;
  content: unknown;
}

export class MessagesRepo {
  constructor(
    private readonly db: Executor,
    private readonly dialect: Dialect,
  ) {}

  /** Idempotent on (run, key): a retried activity cannot write a message twice. */
  async put(msg: NewMessage): Promise<void> {
    await MessagesRepo.putStatement(msg, sql<SqlBool>`true`).execute(this.db);
  }

  /**
   * `put`'s statement, written only where `onlyIf` holds: on its own (`true`), or as part of an event's statement
   * (shared/store/with-event.ts). Written as SQL, not built: two or three a step, and Kysely's builder took longer to
   * assemble one than the database to run it. (`where` is what lets SQLite read the `on conflict` after a `select`.)
   */
  static putStatement(msg: NewMessage, onlyIf: RawBuilder<SqlBool>): RawBuilder<unknown> {
    return sql`insert into "messages" ("run_id", "key", "turn", "kind", "tool_use_id", "content_json", "created_at")
      select ${msg.runId}, ${msg.key}, ${msg.turn}, ${msg.kind}, ${msg.toolUseId ?? null}, ${JSON.stringify(msg.content)}, ${nowIso()} where ${onlyIf}
      on conflict ("run_id", "key") do nothing`;
  }

  async get(runId: string, key: string): Promise<StoredMessage | undefined> {
    const row = await this.db.selectFrom('messages').selectAll().where('run_id', '=', runId).where('key', '=', key).executeTakeFirst();
    return row ? toStored(row) : undefined;
  }

  /** Messages of the given kinds, in the order they were written. (A model call reads `conversation`.) */
  async list(runId: string, opts: { kinds?: MessageKind[] } = {}): Promise<StoredMessage[]> {
    let q = this.db.selectFrom('messages').selectAll().where('run_id', '=', runId);
    if (opts.kinds?.length) q = q.where('kind', 'in', opts.kinds);
    const rows = await q.orderBy('id', 'asc').execute();
    return rows.map(toStored);
  }

  /**
   * What a model call reads, in one statement: the run's latest summary (none before its first hand-off) and, in
   * the order they were written, its messages of `kinds` from the summary's `recentFromTurn` on (all without one).
   * Read by every model call; one round trip instead of two, each of which waits for a pooled connection on a busy
   * worker.
   */
  async conversation(runId: string, kinds: MessageKind[]): Promise<{ summary?: StoredMessage; rows: StoredMessage[] }> {
    const fromTurn = this.dialect === 'postgres' ? sql`("content_json"::json ->> 'recentFromTurn')::integer` : sql`json_extract("content_json", '$.recentFromTurn')`;
    const { rows } = await sql<Selectable<MessagesTable>>`with "summary" as (
        select * from "messages" where "run_id" = ${runId} and "kind" = 'summary' order by "id" desc limit 1
      )
      select * from "summary"
      union all
      select * from "messages" where "run_id" = ${runId} and "kind" in (${sql.join(kinds)})
        and "turn" >= coalesce((select ${fromTurn} from "summary"), 0)
      order by "id"`.execute(this.db);
    const all = rows.map(toStored);
    return { summary: all.find((m) => m.kind === 'summary'), rows: all.filter((m) => m.kind !== 'summary') };
  }

  async latest(runId: string, kind: MessageKind): Promise<StoredMessage | undefined> {
    const row = await this.db
      .selectFrom('messages')
      .selectAll()
      .where('run_id', '=', runId)
      .where('kind', '=', kind)
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row ? toStored(row) : undefined;
  }
}

function toStored(row: Selectable<MessagesTable>): StoredMessage {
  return {
    id: Number(row.id),
    runId: row.run_id,
    key: row.key,
    turn: Number(row.turn),
    kind: row.kind as MessageKind,
    toolUseId: row.tool_use_id,
    content: JSON.parse(row.content_json),
    createdAt: row.created_at,
  };
}
