/**
 * The bus between processes on SQLite (one machine, worker and API as separate processes). SQLite
 * cannot notify, so an API process tails the database for the runs someone follows — their
 * `last_seq` and `live_text` — at most every `tailIntervalMs`, and only while anyone follows.
 * Successive snapshots of the streamed text become the deltas between them.
 */
import type { Logger } from '../logger';
import type { Store } from '../store';
import type { LiveText } from '../store/live-text';
import { CrossProcessBus } from './cross-process-bus';
import { StreamedTexts } from './streamed-text';

export class SqliteTailBus extends CrossProcessBus {
  private tailTimer?: NodeJS.Timeout;
  private tailing = false;
  private readonly seenSeq = new Map<string, number>();
  private readonly seenText = new StreamedTexts();
  /** The runs feed's tail: rows updated at or after `since`, and which of those at `since` were announced. */
  private runsSince = new Date().toISOString();
  private announcedAtSince = new Set<string>();
  /** Whether the last tail read the runs for the feed (false: nobody listened, `runsSince` is stale). */
  private tailingRuns = false;

  constructor(
    store: Store,
    logger: Logger,
    private readonly opts: { tailIntervalMs: number },
  ) {
    super(store, logger);
  }

  protected override followRuns(): void {
    // A feed that starts now hears of changes from now on (not of every run touched while nobody listened).
    if (!this.tailingRuns) {
      this.runsSince = new Date().toISOString();
      this.announcedAtSince = new Set();
      this.tailingRuns = true;
    }
    this.follow();
  }

  protected follow(): void {
    if (this.tailTimer || this.closed) return;
    this.tailTimer = setInterval(() => void this.tail(), this.opts.tailIntervalMs);
    this.tailTimer.unref();
  }

  protected unfollow(runId: string): void {
    this.seenSeq.delete(runId);
    this.seenText.delete(runId);
  }

  private async tail(): Promise<void> {
    if (this.tailing) return; // a slow read never piles up
    const runIds = [...this.subscribed.keys()];
    const runsFeed = this.local.followsRuns;
    this.tailingRuns = runsFeed;
    if (runIds.length === 0 && !runsFeed) {
      clearInterval(this.tailTimer);
      this.tailTimer = undefined;
      return;
    }
    this.tailing = true;
    try {
      if (runsFeed) await this.tailRuns();
      if (runIds.length === 0) return;
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

  /** Announces every run whose row changed since the last look (new events, status, cost). */
  private async tailRuns(): Promise<void> {
    const rows = await this.store.db
      .selectFrom('runs')
      .select(['id', 'last_seq', 'updated_at'])
      .where('updated_at', '>=', this.runsSince)
      .orderBy('updated_at', 'asc')
      .limit(1000)
      .execute();
    for (const row of rows) {
      const mark = `${row.id}@${row.updated_at}`;
      if (row.updated_at === this.runsSince && this.announcedAtSince.has(mark)) continue;
      if (row.updated_at !== this.runsSince) {
        this.runsSince = row.updated_at;
        this.announcedAtSince = new Set();
      }
      this.announcedAtSince.add(mark);
      this.local.announceRun(row.id, Number(row.last_seq));
    }
  }

  /** Turns the latest snapshot of live_text into the deltas since the one seen before. */
  private diffText(runId: string, now: LiveText | undefined): void {
    const seen = this.seenText.snapshot(runId);
    if (!now) {
      if (seen) {
        this.seenText.delete(runId);
        this.local.publish({ type: 'delta.end', runId, turn: seen.turn });
      }
      return;
    }
    const { appended, replaced } = this.seenText.of(runId).add(now.turn, now.attempt, 0, now.text);
    if (replaced) this.local.publish({ type: 'delta.reset', runId, turn: now.turn, attempt: now.attempt });
    for (const piece of appended) this.local.publish({ type: 'delta', runId, turn: piece.turn, attempt: now.attempt, offset: piece.offset, text: piece.text });
  }

  override async close(): Promise<void> {
    clearInterval(this.tailTimer);
    await super.close();
  }
}
