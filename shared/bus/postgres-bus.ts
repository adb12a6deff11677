/**
 * The bus between processes on Postgres, for any number of API replicas and workers. Events are
 * NOTIFYd by the transaction that commits them (store/events.ts); a worker NOTIFYs model deltas
 * within NOTIFY_BATCH_MS, all runs' in one statement, one statement at a time, on a connection it holds (only of runs someone watches: cross-process-bus.ts). Each API process LISTENs on one connection
 * and turns notifications into local messages; a lost connection is re-established and every
 * follower told to re-read.
 */
import type pg from 'pg';
import { EVENTS_CHANNEL } from '../store/events';
import type { DeltaMessage } from './bus';
import { CrossProcessBus } from './cross-process-bus';

export const DELTAS_CHANNEL = 'longhaul_deltas';
/** NOTIFY payloads must stay under 8000 bytes; text is split well below that. */
const MAX_NOTIFY_TEXT = 2000;
/**
 * How long a worker gathers deltas before it NOTIFYs them. Each statement costs the worker (and Postgres) far
 * more than a delta's own work; sent per delta, they were the largest single cost of a streamed token. Within
 * this window every streaming run's deltas go in one statement, so statements per second stay at most
 * 1000 / NOTIFY_BATCH_MS however many runs stream; a delta waits at most this long for it.
 */
export const NOTIFY_BATCH_MS = 10;
/** A worker holds a connection of its pool for its NOTIFYs only when the pool has at least this many. */
const MIN_POOL_TO_HOLD_NOTIFIER = 4;

export class PostgresBus extends CrossProcessBus {
  private listener?: pg.PoolClient;
  private notifyQueue: DeltaMessage[] = [];
  private notifyScheduled = false;
  /** A NOTIFY statement is out: deltas wait for it, and then all go in the next. */
  private notifying = false;
  /**
   * The connection a worker's NOTIFYs go on: one of the pool's, held. Through the pool itself each waited for a
   * connection behind the runs' own statements, seconds on a busy worker; a watcher's delta waited with it.
   */
  private notifier?: pg.PoolClient;

  /** API side: one connection LISTENing for the whole process. */
  async listen(): Promise<void> {
    const pool = this.store.opened.pool;
    if (!pool) return;
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
        this.local.announceRun(null, 0); // runs feeds: re-read everything
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
      if (channel === EVENTS_CHANNEL) this.local.announceRun(msg.runId, msg.seq ?? 0);
      if (!this.subscribed.has(msg.runId)) return;
      if (channel === EVENTS_CHANNEL) this.local.publish({ type: 'notify', runId: msg.runId, seq: msg.seq ?? 0 });
      else if (channel === DELTAS_CHANNEL) this.local.publish(msg as DeltaMessage);
    } catch (err) {
      this.logger.warn({ err, channel }, 'unreadable notification');
    }
  }

  // LISTEN covers every run at once: nothing to start or stop per run.
  protected follow(): void {}
  protected unfollow(): void {}

  /**
   * Batches the deltas of NOTIFY_BATCH_MS into as few NOTIFYs as their size allows, sent in one statement
   * (one transaction: delivered in order). One statement at a time: deltas that come while one is out wait for it,
   * and then all go in the next, at once. A batch formed every window whatever the last one's fate queued up behind
   * it when a statement took longer than the window (a worker busy with a thousand streams, its pool's connections
   * all taken): each waited for a connection in turn, and the wait grew for as long as the load lasted.
   */
  protected override forward(msg: DeltaMessage): void {
    this.notifyQueue.push(msg);
    if (this.notifyScheduled || this.notifying) return;
    this.notifyScheduled = true;
    setTimeout(() => {
      this.notifyScheduled = false;
      this.notifyNow();
    }, NOTIFY_BATCH_MS);
  }

  private notifyNow(): void {
    const batch = coalesce(this.notifyQueue.splice(0));
    if (batch.length === 0) return;
    const calls = batch.map((_, i) => `pg_notify($1, $${i + 2})`).join(', ');
    const params = [DELTAS_CHANNEL, ...batch.map((m) => JSON.stringify(m))];
    this.notifying = true;
    void this.notify(`select ${calls}`, params).finally(() => {
      this.notifying = false;
      // What came meanwhile has waited a window or more already.
      if (this.notifyQueue.length > 0) this.notifyNow();
    });
  }

  private async notify(text: string, params: string[]): Promise<void> {
    let client: pg.PoolClient | undefined;
    try {
      const pool = this.store.opened.pool!;
      // A pool of a few connections cannot spare one for good: then each NOTIFY takes its turn for one.
      if ((pool.options.max ?? 10) < MIN_POOL_TO_HOLD_NOTIFIER) return void (await pool.query(text, params));
      client = this.notifier ?? (await this.holdNotifier());
      await client.query(text, params);
    } catch (err) {
      this.logger.warn({ err }, 'NOTIFY failed');
      // A failed statement may have left its connection unusable (or it was closed for want of an answer): the next gets a new one.
      if (client) this.dropNotifier(client);
    }
  }

  private async holdNotifier(): Promise<pg.PoolClient> {
    const client = await this.store.opened.pool!.connect();
    // Lost while held (Postgres restarting): without a listener its error would end the process.
    client.on('error', (err) => {
      this.logger.warn({ err }, 'NOTIFY connection lost');
      this.dropNotifier(client);
    });
    this.notifier = client;
    return client;
  }

  private dropNotifier(client: pg.PoolClient): void {
    if (this.notifier !== client) return;
    this.notifier = undefined;
    client.release(true);
  }

  override async close(): Promise<void> {
    await super.close();
    this.listener?.release();
    this.notifier?.release();
    this.notifier = undefined;
  }
}

/**
 * Merges each run's contiguous deltas of the same attempt (the runs' messages interleave in the queue; each
 * run's keep their order, which is the only order a run's stream has); splits long text.
 */
export function coalesce(queue: DeltaMessage[]): DeltaMessage[] {
  const byRun = new Map<string, DeltaMessage[]>();
  for (const m of queue) {
    const out = byRun.get(m.runId) ?? [];
    byRun.set(m.runId, out);
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
  return [...byRun.values()].flat();
}
