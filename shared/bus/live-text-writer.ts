/**
 * Worker side of a cross-process bus: keeps each run's streamed text and persists it to `live_text`
 * at most every LIVE_TEXT_FLUSH_MS (at once on a reset), so an API process that joins mid-message
 * can read the text so far. Cleared when the message is complete.
 *
 * Nobody needs the partial message fresh to the 50 ms while nobody watches the run: then it is
 * persisted every UNWATCHED_FLUSH_MS. Which streaming runs are watched is read from presence (one
 * query for all of them every WATCH_CHECK_MS); a run that becomes watched is flushed at once, so a
 * new subscriber has the text so far straight away.
 */
import type { Logger } from '../logger';
import type { Store } from '../store';
import type { DeltaMessage } from './bus';
import { StreamedTexts } from './streamed-text';

/** How often a worker persists the text being streamed, for other processes to read. */
export const LIVE_TEXT_FLUSH_MS = 50;
/** The same while nobody watches the run. */
export const UNWATCHED_FLUSH_MS = 1_000;
/** How often the writer asks which of its streaming runs are watched. */
export const WATCH_CHECK_MS = 250;
/** A finished message stays readable this long (over one SQLite tail interval) before it is cleared. */
const CLEAR_AFTER_MS = 300;

export class LiveTextWriter {
  private readonly streams = new StreamedTexts();
  private readonly flushTimers = new Map<string, NodeJS.Timeout>();
  /** Runs streaming now; and which of them someone watched at the last check. */
  private readonly streaming = new Set<string>();
  private watched = new Set<string>();
  private watchTimer?: NodeJS.Timeout;
  /** Writes of live text so far (for tests and benchmarks that count them). */
  flushes = 0;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
  ) {}

  /** While anything streams, keeps `watched` current; a run that became watched is flushed now. */
  private checkWatchers(): void {
    if (this.watchTimer || this.streaming.size === 0) return;
    this.watchTimer = setTimeout(() => {
      void this.store.watchers
        .watched([...this.streaming])
        .then((now) => {
          for (const runId of now) if (!this.watched.has(runId) && this.streaming.has(runId)) this.scheduleFlush(runId, true);
          this.watched = now;
        })
        .catch((err: unknown) => this.logger.debug({ err }, 'could not read presence; keeping the last answer'))
        .finally(() => {
          this.watchTimer = undefined;
          this.checkWatchers();
        });
    }, WATCH_CHECK_MS);
    this.watchTimer.unref();
  }

  write(msg: DeltaMessage): void {
    const { runId } = msg;
    if (msg.type === 'delta.end') {
      // The whole message is written before it is cleared, and cleared only after tailing readers
      // have had time to see it: a reader never loses the end of a message to a flush not yet due.
      const final = this.streams.snapshot(runId);
      this.streaming.delete(runId);
      this.streams.delete(runId);
      clearTimeout(this.flushTimers.get(runId));
      this.flushTimers.delete(runId);
      const turn = msg.turn;
      void (async () => {
        try {
          if (final && final.turn === turn) {
            this.flushes += 1;
            await this.store.liveText.put({ runId, ...final });
            await new Promise((r) => setTimeout(r, CLEAR_AFTER_MS).unref());
          }
          await this.store.liveText.clear(runId, turn); // a later turn's text is left alone
        } catch (err) {
          this.logger.warn({ err, runId }, 'could not finish live text');
        }
      })();
      return;
    }
    if (!this.streaming.has(runId)) {
      this.streaming.add(runId);
      this.checkWatchers();
    }
    const stream = this.streams.of(runId);
    if (msg.type === 'delta.reset') stream.start(msg.turn, msg.attempt);
    else stream.add(msg.turn, msg.attempt, msg.offset, msg.text);
    this.scheduleFlush(runId, msg.type === 'delta.reset');
  }

  private scheduleFlush(runId: string, now: boolean): void {
    if (this.flushTimers.has(runId) && !now) return;
    clearTimeout(this.flushTimers.get(runId));
    const timer = setTimeout(
      () => {
        this.flushTimers.delete(runId);
        const state = this.streams.snapshot(runId);
        if (!state) return;
        this.flushes += 1;
        this.store.liveText.put({ runId, ...state }).catch((err) => this.logger.warn({ err, runId }, 'could not persist live text'));
      },
      now ? 0 : this.watched.has(runId) ? LIVE_TEXT_FLUSH_MS : UNWATCHED_FLUSH_MS,
    );
    timer.unref();
    this.flushTimers.set(runId, timer);
  }

  close(): void {
    clearTimeout(this.watchTimer);
    this.streaming.clear();
    for (const t of this.flushTimers.values()) clearTimeout(t);
    this.flushTimers.clear();
    this.streams.clear();
  }
}
