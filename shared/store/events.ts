/**
 * The run transcript: append-only, `seq` from 1 and gap-free per run. Appends are keyed, so an
 * activity retried after a crash writes its events once. On Postgres each append also NOTIFYs
 * inside its transaction, so listeners hear of exactly the committed events.
 */
import { sql, type Insertable, type OperationNodeSource, type RawBuilder, type Selectable, type SqlBool } from 'kysely';
import type { EventDraft, EventType, RunEvent } from '../../contract/events';
import { inTransaction, nowIso, parseJson, type Executor } from './executor';
import { knownRunErrorCode } from '../../contract/errors';
import { WebhooksRepo, rollsUpToRoot, type RunWebhooks } from './webhooks';
import type { Dialect } from './open-database';
import type { EventsTable, RunsTable } from './schema';

export const EVENTS_CHANNEL = 'longhaul_events';

/**
 * Writes in an event's own statement (appendOneWith): `writes` builds data-modifying statements of other tables'
 * rows, each to be written only where `onlyIf` holds; `run` are assignments to the run's own row (a `set` list:
 * Postgres changes a row once a statement, so they join the event's own change of it).
 */
export interface AlongWithEvent {
  writes: (onlyIf: RawBuilder<SqlBool>) => RawBuilder<unknown>[];
  run: RawBuilder<unknown>[];
  /**
   * A write that decides whether the event is written at all: an insert `returning` the row it wrote, made only
   * where `onlyIf` holds (the run alone, the event's key new); the event and the rest follow only when it wrote one
   * (a ledger entry's start: shared/store/with-event.ts).
   */
  gate?: (onlyIf: RawBuilder<SqlBool>) => RawBuilder<unknown>;
}

/** A new run's first events (`firstEvents`), with the webhooks they may be delivered to. */
export interface FirstEvents {
  runId: string;
  webhooks: RunWebhooks | null;
  rows: { key: string; event: RunEvent }[];
}

const NOTHING_ALONG: AlongWithEvent = { writes: () => [], run: [] };

export class UnknownRunError extends Error {
  constructor(runId: string) {
    super(`unknown run ${runId}`);
    this.name = 'UnknownRunError';
  }
}

export class EventsRepo {
  constructor(
    private readonly db: Executor,
    private readonly dialect: Dialect,
  ) {}

  /**
   * The drafts of a draft list as a new run's first events: seq from 1, a key once (the first draft of it). For
   * `writeFirst`, whose runs are written with these counted (`last_seq`).
   */
  static firstEvents(drafts: EventDraft[], at = nowIso()): { key: string; event: RunEvent }[] {
    const seen = new Set<string>();
    const out: { key: string; event: RunEvent }[] = [];
    for (const draft of drafts) {
      if (seen.has(draft.key)) continue;
      seen.add(draft.key);
      out.push({ key: draft.key, event: { seq: out.length + 1, at, type: draft.type, data: draft.data } as RunEvent });
    }
    return out;
  }

  /** New runs' first events as the rows of `events`. */
  static firstRows(runs: FirstEvents[]): Insertable<EventsTable>[] {
    return runs.flatMap((r) => r.rows.map(({ key, event }) => ({ run_id: r.runId, seq: event.seq, key, type: event.type, at: event.at, data_json: JSON.stringify(event.data) })));
  }

  /**
   * New runs' first events (from `firstEvents`), written together: one insert, their webhooks' deliveries, one
   * NOTIFY statement on Postgres. The runs must be new and written in this transaction with their `last_seq` set to
   * their events' count (a batch of starts: ./runs-with-first-events.ts); `append` is for every other case.
   */
  async writeFirst(runs: FirstEvents[]): Promise<void> {
    const rows = EventsRepo.firstRows(runs);
    if (rows.length === 0) return;
    await inTransaction(this.db, async (trx) => {
      await trx.insertInto('events').values(rows).execute();
      // The outbox, as append's: deliveries are written with the events they tell of.
      for (const r of runs) await new WebhooksRepo(trx).enqueue(r.runId, r.webhooks, r.rows.map((x) => x.event));
      if (this.dialect === 'postgres') {
        const payloads = runs.filter((r) => r.rows.length).map((r) => JSON.stringify({ runId: r.runId, seq: r.rows.length }));
        await sql`select pg_notify(${EVENTS_CHANNEL}, p) from unnest(${payloads}::text[]) as p`.execute(trx);
      }
    });
  }

  /**
   * `writeFirst` in the statement that writes the runs (Postgres; `runs` is an insert `returning` their rows): the
   * events of the runs it writes, and a NOTIFY each. Writes no webhook deliveries: only for first events none is owed
   * for (the caller decides: ./runs-with-first-events.ts). The rows the runs' statement returned.
   */
  async writeFirstWith(runs: OperationNodeSource, firsts: FirstEvents[]): Promise<Selectable<RunsTable>[]> {
    const rows = EventsRepo.firstRows(firsts);
    const column = <K extends keyof (typeof rows)[number]>(name: K) => rows.map((r) => r[name]);
    // The events' insert is read by nothing, but Postgres runs every data-modifying part of a statement. A run's
    // NOTIFY names its last event: `last_seq`, the number written with it.
    const { rows: written } = await sql<Selectable<RunsTable>>`with "written" as (${runs}),
      "first_events" as (
        insert into "events" ("run_id", "seq", "key", "type", "at", "data_json")
        select "e"."run_id", "e"."seq", "e"."key", "e"."type", "e"."at", "e"."data_json"
        from unnest(${column('run_id')}::text[], ${column('seq')}::int[], ${column('key')}::text[], ${column('type')}::text[], ${column('at')}::text[], ${column('data_json')}::text[])
          as "e"("run_id", "seq", "key", "type", "at", "data_json")
        where "e"."run_id" in (select "id" from "written")
      )
      select "written".*,
        case when "written"."last_seq" > 0 then pg_notify(${EVENTS_CHANNEL}, json_build_object('runId', "written"."id", 'seq', "written"."last_seq")::text) end as "notified"
      from "written"`.execute(this.db);
    return written;
  }

  /** Appends the drafts whose keys are new and returns those, with their seq. */
  async append(runId: string, drafts: EventDraft[]): Promise<RunEvent[]> {
    if (drafts.length === 0) return [];
    if (drafts.length === 1 && this.dialect === 'sqlite') return this.appendOneOnSqlite(runId, drafts[0]!);
    if (drafts.length === 1) {
      const appended = await this.appendOneOnPostgres(runId, drafts[0]!);
      if (appended) return appended;
    }
    return inTransaction(this.db, async (trx) => {
      // Write first: takes the run's row lock (Postgres) or the write lock (SQLite) before reading
      // last_seq, so concurrent appenders for one run queue instead of racing for the same seq.
      const locked = await trx
        .updateTable('runs')
        .set((eb) => ({ last_seq: eb.ref('last_seq') }))
        .where('id', '=', runId)
        .returning(['last_seq', 'webhooks_json'])
        .executeTakeFirst();
      if (!locked) throw new UnknownRunError(runId);
      let seq = Number(locked.last_seq);

      const keys = drafts.map((d) => d.key);
      const existing = await trx
        .selectFrom('events')
        .select('key')
        .where('run_id', '=', runId)
        .where('key', 'in', keys)
        .execute();
      const seen = new Set(existing.map((r) => r.key));

      const at = nowIso();
      const rows: { key: string; event: RunEvent }[] = [];
      for (const draft of drafts) {
        if (seen.has(draft.key)) continue;
        seen.add(draft.key);
        seq += 1;
        rows.push({ key: draft.key, event: { seq, at, type: draft.type, data: draft.data } as RunEvent });
      }
      if (rows.length === 0) return [];

      await trx
        .insertInto('events')
        .values(
          rows.map(({ key, event }) => ({
            run_id: runId,
            seq: event.seq,
            key,
            type: event.type,
            at: event.at,
            data_json: JSON.stringify(event.data),
          })),
        )
        .execute();
      // Any event but a stall report is progress: it clears a stall flag.
      const progressed = rows.some((r) => r.event.type !== 'run.stalled');
      await trx
        .updateTable('runs')
        .set({ last_seq: seq, updated_at: at, ...(progressed && { stalled_at: null }) })
        .where('id', '=', runId)
        .execute();
      const events = rows.map((r) => r.event);
      // The outbox: deliveries are written with the events they tell of, or not at all.
      // (A child run's requests go to its root's subscribers too: `enqueue` looks them up.)
      await new WebhooksRepo(trx).enqueue(runId, parseJson<RunWebhooks | null>(locked.webhooks_json, null), events);
      if (this.dialect === 'postgres') {
        await sql`select pg_notify(${EVENTS_CHANNEL}, ${JSON.stringify({ runId, seq })})`.execute(trx);
      }
      return events;
    });
  }

  /**
   * One event on SQLite, in two statements instead of four (most appends are one event; a step makes
   * three): SQLite's transactions take the write lock when they begin, so there is no row to lock first —
   * the insert reads the next seq itself and skips a key already written, and only an inserted event
   * moves the run on.
   */
  private appendOneOnSqlite(runId: string, draft: EventDraft): Promise<RunEvent[]> {
    // Written as SQL, not built: Kysely's builder took longer to assemble and compile these two (three a step) than
    // SQLite took to run them.
    return inTransaction(this.db, async (trx) => {
      const at = nowIso();
      const { rows: insertedRows } = await sql<{ seq: number }>`insert into "events" ("run_id", "seq", "key", "type", "at", "data_json")
        select ${runId}, "last_seq" + 1, ${draft.key}, ${draft.type}, ${at}, ${JSON.stringify(draft.data)} from "runs" where "id" = ${runId}
        on conflict ("run_id", "key") do nothing returning "seq"`.execute(trx);
      const inserted = insertedRows[0];
      if (!inserted) {
        if ((await trx.selectFrom('runs').select('id').where('id', '=', runId).executeTakeFirst()) === undefined) throw new UnknownRunError(runId);
        return []; // written before
      }
      const seq = Number(inserted.seq);
      // Any event but a stall report is progress: it clears a stall flag.
      const progressed = draft.type !== 'run.stalled' ? sql`, "stalled_at" = null` : sql``;
      const { rows: runRows } = await sql<{ webhooks_json: string | null }>`update "runs" set "last_seq" = ${seq}, "updated_at" = ${at}${progressed}
        where "id" = ${runId} returning "webhooks_json"`.execute(trx);
      const run = runRows[0];
      if (!run) throw new UnknownRunError(runId);
      const events = [{ seq, at, type: draft.type, data: draft.data } as RunEvent];
      await new WebhooksRepo(trx).enqueue(runId, parseJson<RunWebhooks | null>(run.webhooks_json, null), events);
      return events;
    });
  }

  /**
   * One event and the writes that go with it (`along`) in one statement, on Postgres and where nothing else must be
   * written with them (see appendOneOnPostgres); otherwise undefined, and nothing is written: the caller writes them
   * in a transaction (shared/store/with-event.ts).
   */
  async appendOneWith(runId: string, draft: EventDraft, along: AlongWithEvent): Promise<RunEvent[] | undefined> {
    return this.dialect === 'postgres' ? this.appendOneOnPostgres(runId, draft, along) : undefined;
  }

  /**
   * One event on Postgres in one statement where nothing is written with it: the run has no webhooks, and the event
   * does not roll up to a root run's (a sub-agent's request). The row lock, the next seq, the key's check, the run's
   * `last_seq` and the NOTIFY go in one round trip instead of five (seven outside a transaction): on a busy worker
   * each round trip holds its pooled connection for a turn of the event loop, and a thousand streaming runs' appends
   * queued for connections behind each other. Otherwise undefined, and `append` takes its full path (the webhooks'
   * outbox rows go in the events' transaction).
   *
   * `along`: other writes in the same statement (a tool's result, a model's answer), made only with a new event: not
   * when the event takes the full path, nor when its key was written before (they were written with it).
   */
  private async appendOneOnPostgres(runId: string, draft: EventDraft, along: AlongWithEvent = NOTHING_ALONG): Promise<RunEvent[] | undefined> {
    const at = nowIso();
    const rollsUp = rollsUpToRoot(draft.type);
    const writes = along.writes(sql<SqlBool>`exists (select 1 from "inserted")`).map((w, i) => sql`, ${sql.ref(`along_${i}`)} as (${w})`);
    const runSet = along.run.map((a) => sql`, ${a}`);
    const gate = along.gate?.(sql<SqlBool>`coalesce((select "alone" from "run"), false) and not exists (select 1 from "events" where "run_id" = ${runId} and "key" = ${draft.key})`);
    // The lock an update takes (no key update): it orders appends as `append`'s own does, and leaves others' inserts
    // of rows that refer to the run (their foreign keys' share locks) unblocked.
    const { rows } = await sql<{ alone: boolean; seq: number | null }>`with "run" as (
        select "last_seq", "webhooks_json" is null and (not ${rollsUp} or "parent_run_id" is null) as "alone"
        from "runs" where "id" = ${runId} for no key update
      )${gate ? sql`, "gate" as (${gate})` : sql``}, "inserted" as (
        insert into "events" ("run_id", "seq", "key", "type", "at", "data_json")
        select ${runId}, "last_seq" + 1, ${draft.key}, ${draft.type}, ${at}, ${JSON.stringify(draft.data)} from "run" where "alone"${gate ? sql` and exists (select 1 from "gate")` : sql``}
        on conflict ("run_id", "key") do nothing returning "seq"
      ), "moved" as (
        update "runs" set "last_seq" = "inserted"."seq", "updated_at" = ${at},
          "stalled_at" = case when ${draft.type === 'run.stalled'} then "runs"."stalled_at" end${sql.join(runSet, sql``)}
        from "inserted" where "runs"."id" = ${runId}
      )${sql.join(writes, sql``)}
      select "run"."alone", "inserted"."seq",
        case when "inserted"."seq" is not null then pg_notify(${EVENTS_CHANNEL}, json_build_object('runId', ${runId}::text, 'seq', "inserted"."seq")::text) end
      from "run" left join "inserted" on true`.execute(this.db);
    const row = rows[0];
    if (!row) throw new UnknownRunError(runId);
    if (!row.alone) return undefined;
    if (row.seq === null) return []; // written before
    return [{ seq: Number(row.seq), at, type: draft.type, data: draft.data } as RunEvent];
  }

  async list(runId: string, opts: { after: number; limit: number }): Promise<RunEvent[]> {
    const rows = await this.db
      .selectFrom('events')
      .select(['seq', 'type', 'at', 'data_json'])
      .where('run_id', '=', runId)
      .where('seq', '>', opts.after)
      .orderBy('seq', 'asc')
      .limit(opts.limit)
      .execute();
    // Rows were written from typed drafts, so each row's data is the shape its type says.
    return rows.map((r) => withKnownCodes({ seq: Number(r.seq), type: r.type as EventType, at: r.at, data: JSON.parse(r.data_json) as unknown } as RunEvent));
  }

  /** When the run's event with `key` was recorded, if it was. */
  async recordedAt(runId: string, key: string): Promise<string | undefined> {
    return (await this.db.selectFrom('events').select('at').where('run_id', '=', runId).where('key', '=', key).executeTakeFirst())?.at;
  }

  async hasKey(runId: string, key: string): Promise<boolean> {
    return (await this.db.selectFrom('events').select('seq').where('run_id', '=', runId).where('key', '=', key).executeTakeFirst()) !== undefined;
  }

  /** The key of the run's latest event of a type (a resume names the pause it ends by its `run.paused` key). */
  async latestKey(runId: string, type: EventType): Promise<string | undefined> {
    const row = await this.db.selectFrom('events').select('key').where('run_id', '=', runId).where('type', '=', type).orderBy('seq', 'desc').limit(1).executeTakeFirst();
    return row?.key;
  }

  async lastSeq(runId: string): Promise<number> {
    const row = await this.db.selectFrom('runs').select('last_seq').where('id', '=', runId).executeTakeFirst();
    return row ? Number(row.last_seq) : 0;
  }
}

/** A `run.failed` recorded before run error codes were closed says `internal` where it named a thrown error. */
function withKnownCodes(event: RunEvent): RunEvent {
  if (event.type !== 'run.failed') return event;
  const { code } = event.data.error;
  return knownRunErrorCode(code) === code ? event : { ...event, data: { ...event.data, error: { ...event.data.error, code: knownRunErrorCode(code) } } };
}

