/**
 * The bus between processes, through the database: a worker on one side, API processes on the
 * other (any number of replicas on Postgres).
 *
 * Worker side (publish): events are already committed (and, on Postgres, NOTIFYd in their own
 * transaction); model deltas are kept per run and persisted to `live_text` every
 * LIVE_TEXT_FLUSH_MS, and on Postgres also NOTIFYd at once.
 *
 * API side (subscribe): on Postgres, LISTEN turns notifications into local messages; on SQLite,
 * the database is tailed (runs.last_seq and live_text of subscribed runs) at most every
 * `tailIntervalMs` — and only while someone is subscribed.
 */
import type pg from 'pg';
import type { Logger } from '../logger';
import type { Store } from '../store';
import { EVENTS_CHANNEL } from '../store/events';
import type { Bus, BusListener, BusMessage } from './bus';
import { InMemoryBus } from './in-memory-bus';

export const DELTAS_CHANNEL = 'longhaul_deltas';
/** How often a worker persists the text being streamed, for other processes to read. */
export const LIVE_TEXT_FLUSH_MS = 50;
/** NOTIFY payloads must stay under 8000 bytes; text is split well below that. */
const MAX_NOTIFY_TEXT = 2000;

type DeltaMessage = Extract<BusMessage, { type: 'delta' | 'delta.reset' | 'delta.end' }>;

interface StreamState {
  turn: number;
  attempt: number;
  text: string;
}

export class DatabaseBus implements Bus {
  private readonly local = new InMemoryBus();
  private readonly subscribed = new Map<string, number>();
  // Worker side: what each run's model is streaming, and pending persistence.
  private readonly streaming = new Map<string, StreamState>();
  private readonly flushTimers = new Map<string, NodeJS.Timeout>();
  private notifyQueue: DeltaMessage[] = [];
  private notifyScheduled = false;
  private notifyChain: Promise<void> = Promise.resolve();
  // API side.
  private tailTimer?: NodeJS.Timeout;
  private tailing = false;
  private readonly seenSeq = new Map<string, number>();
  private readonly seenText = new Map<string, StreamState>();
  private listener?: pg.PoolClient;
  private closed = false;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly opts: { tailIntervalMs: number },
  ) {}

  /** API side on Postgres: one connection LISTENing for the whole process. */
  async listen(): Promise<void> {
    const pool = this.store.opened.pool;
    if (this.store.dialect !== 'postgres' || !pool) return;
    const client = await pool.connect();
    if (this.closed) {
      client.release();
      return;
    }
    this.listener = client;
    client.on('notification', (n) => this.onNotification(n.channel, n.payload));
    client.on('error', (err) => {
      // A dead connection can report more than one error; only the current listener's first one counts.
      if (client !== this.listener) return;
      this.logger.warn({ err }, 'LISTEN connection lost; reconnecting');
      this.listener = undefined;
      void this.reconnect(client);
    });
    try {
      await client.query(`LISTEN ${EVENTS_CHANNEL}`);
      await client.query(`LISTEN ${DELTAS_CHANNEL}`);
    } catch (err) {
      if (client !== this.listener) return; // its error handler has already taken over and is reconnecting
      this.listener = undefined;
      client.release(true);
      throw err;
    }
  }

  private async reconnect(lost: pg.PoolClient): Promise<void> {
    try {
      lost.release(true);
    } catch {
      // already gone
    }
    while (!this.closed) {
      try {
        await this.listen();
        // Anything may have happened while deaf: have every subscriber re-read from the database.
        for (const runId of this.subscribed.keys()) this.local.publish({ type: 'notify', runId, seq: Number.MAX_SAFE_INTEGER });
        return;
      } catch (err) {
        this.logger.warn({ err }, 'LISTEN reconnect failed; retrying');
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  private onNotification(channel: string, payload: string | undefined): void {
    if (!payload) return;
    try {
      const msg = JSON.parse(payload) as { runId: string; seq?: number } & Partial<DeltaMessage>;
      if (!this.subscribed.has(msg.runId)) return;
      if (channel === EVENTS_CHANNEL) this.local.publish({ type: 'notify', runId: msg.runId, seq: msg.seq ?? 0 });
      else if (channel === DELTAS_CHANNEL) this.local.publish(msg as DeltaMessage);
    } catch (err) {
      this.logger.warn({ err, channel }, 'unreadable notification');
    }
  }

  publish(msg: BusMessage): void {
    switch (msg.type) {
      case 'delta':
      case 'delta.reset':
      case 'delta.end':
        this.publishDelta(msg);
        break;
      default:
        // Events travel through the database itself (and Postgres NOTIFYs them on commit).
        this.local.publish(msg);
    }
  }

  private publishDelta(msg: DeltaMessage): void {
    const { runId } = msg;
    if (msg.type === 'delta.end') {
      this.streaming.delete(runId);
      clearTimeout(this.flushTimers.get(runId));
      this.flushTimers.delete(runId);
      this.store.liveText.clear(runId, msg.turn).catch((err) => this.logger.warn({ err, runId }, 'could not clear live text'));
    } else {
      let state = this.streaming.get(runId);
      if (msg.type === 'delta.reset' || !state || state.turn !== msg.turn || state.attempt !== msg.attempt) {
        state = { turn: msg.turn, attempt: msg.attempt, text: '' };
        this.streaming.set(runId, state);
      }
      if (msg.type === 'delta' && msg.offset === state.text.length) state.text += msg.text;
      this.scheduleFlush(runId, msg.type === 'delta.reset');
    }
    if (this.store.dialect === 'postgres') this.queueNotify(msg);
    this.local.publish(msg);
  }

  private scheduleFlush(runId: string, now: boolean): void {
    if (this.flushTimers.has(runId) && !now) return;
    clearTimeout(this.flushTimers.get(runId));
    const timer = setTimeout(() => {
      this.flushTimers.delete(runId);
      const state = this.streaming.get(runId);
      if (!state) return;
      this.store.liveText
        .put({ runId, turn: state.turn, attempt: state.attempt, text: state.text })
        .catch((err) => this.logger.warn({ err, runId }, 'could not persist live text'));
    }, now ? 0 : LIVE_TEXT_FLUSH_MS);
    timer.unref();
    this.flushTimers.set(runId, timer);
  }

  /**
   * Batches the deltas of one tick into as few NOTIFYs as their size allows, sent in one statement
   * (one transaction: delivered in order), each batch after the one before.
   */
  private queueNotify(msg: DeltaMessage): void {
    this.notifyQueue.push(msg);
    if (this.notifyScheduled) return;
    this.notifyScheduled = true;
    setImmediate(() => {
      this.notifyScheduled = false;
      const batch = coalesce(this.notifyQueue.splice(0));
      if (batch.length === 0) return;
      const calls = batch.map((_, i) => `pg_notify($1, $${i + 2})`).join(', ');
      const params = [DELTAS_CHANNEL, ...batch.map((m) => JSON.stringify(m))];
      this.notifyChain = this.notifyChain
        .then(() => this.store.opened.pool!.query(`select ${calls}`, params))
        .then(
          () => undefined,
          (err: unknown) => this.logger.warn({ err }, 'NOTIFY failed'),
        );
    });
  }

  subscribe(runId: string, listener: BusListener): () => void {
    this.subscribed.set(runId, (this.subscribed.get(runId) ?? 0) + 1);
    if (this.store.dialect === 'sqlite') this.startTailing();
    const unsubscribe = this.local.subscribe(runId, listener);
    return () => {
      unsubscribe();
      const n = (this.subscribed.get(runId) ?? 1) - 1;
      if (n > 0) this.subscribed.set(runId, n);
      else {
        this.subscribed.delete(runId);
        this.seenSeq.delete(runId);
        this.seenText.delete(runId);
      }
    };
  }

  async liveText(runId: string) {
    const row = await this.store.liveText.get(runId);
    return row ? { turn: row.turn, attempt: row.attempt, text: row.text } : null;
  }

  // SQLite: tail the database for subscribed runs.
  private startTailing(): void {
    if (this.tailTimer || this.closed) return;
    this.tailTimer = setInterval(() => void this.tail(), this.opts.tailIntervalMs);
    this.tailTimer.unref();
  }

  private async tail(): Promise<void> {
    if (this.tailing) return; // a slow read never piles up
    const runIds = [...this.subscribed.keys()];
    if (runIds.length === 0) {
      clearInterval(this.tailTimer);
      this.tailTimer = undefined;
      return;
    }
    this.tailing = true;
    try {
      const rows = await this.store.db.selectFrom('runs').select(['id', 'last_seq']).where('id', 'in', runIds).execute();
      for (const row of rows) {
        const seq = Number(row.last_seq);
        if (seq > (this.seenSeq.get(row.id) ?? -1)) {
          this.seenSeq.set(row.id, seq);
          this.local.publish({ type: 'notify', runId: row.id, seq });
        }
      }
      const texts = new Map((await this.store.liveText.getMany(runIds)).map((t) => [t.runId, t]));
      for (const runId of runIds) this.diffText(runId, texts.get(runId));
    } catch (err) {
      this.logger.warn({ err }, 'tailing the database failed');
    } finally {
      this.tailing = false;
    }
  }

  /** Turns successive snapshots of live_text into the deltas between them. */
  private diffText(runId: string, now: { turn: number; attempt: number; text: string } | undefined): void {
    const seen = this.seenText.get(runId);
    if (!now) {
      if (seen) {
        this.seenText.delete(runId);
        this.local.publish({ type: 'delta.end', runId, turn: seen.turn });
      }
      return;
    }
    if (seen && seen.turn === now.turn && seen.attempt !== now.attempt) {
      this.local.publish({ type: 'delta.reset', runId, turn: now.turn, attempt: now.attempt });
    }
    const base = seen && seen.turn === now.turn && seen.attempt === now.attempt ? seen.text.length : 0;
    if (now.text.length > base) {
      this.local.publish({ type: 'delta', runId, turn: now.turn, attempt: now.attempt, offset: base, text: now.text.slice(base) });
    }
    this.seenText.set(runId, { turn: now.turn, attempt: now.attempt, text: now.text });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.tailTimer);
    for (const t of this.flushTimers.values()) clearTimeout(t);
    this.listener?.release();
    await this.local.close();
  }
}

/** Merges consecutive contiguous deltas of the same run and attempt; splits long text. */
function coalesce(queue: DeltaMessage[]): DeltaMessage[] {
  const out: DeltaMessage[] = [];
  for (const m of queue) {
    const last = out[out.length - 1];
    if (
      m.type === 'delta' &&
      last?.type === 'delta' &&
      last.runId === m.runId &&
      last.turn === m.turn &&
      last.attempt === m.attempt &&
      last.offset + last.text.length === m.offset &&
      last.text.length + m.text.length <= MAX_NOTIFY_TEXT
    ) {
      last.text += m.text;
    } else if (m.type === 'delta' && m.text.length > MAX_NOTIFY_TEXT) {
      for (let i = 0; i < m.text.length; i += MAX_NOTIFY_TEXT) out.push({ ...m, offset: m.offset + i, text: m.text.slice(i, i + MAX_NOTIFY_TEXT) });
    } else {
      out.push({ ...m });
    }
  }
  return out;
}
