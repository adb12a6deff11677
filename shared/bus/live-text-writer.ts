/**
 * Worker side of a cross-process bus: keeps each run's streamed text and persists it to `live_text`
 * at most every LIVE_TEXT_FLUSH_MS (at once on a reset), so an API process that joins mid-message
 * can read the text so far. Cleared when the message is complete.
 *
 * Writes go on one clock for all runs: each tick of LIVE_TEXT_FLUSH_MS writes every run then due in one
 * statement, so a worker streaming many runs makes one live-text statement a tick (and one for each write
 * wanted at once), not one per run: a statement costs far more than the text it carries.
 *
 * One write at a time: a tick that comes while the last write is still out waits for it, and the runs due by then
 * go in one statement as soon as it ends. Ticks that fired regardless piled their statements up behind each other's
 * row locks once a write took longer than a tick (a thousand runs streaming), each holding a pooled connection
 * while it waited, until the pool had none left for the runs' own statements.
 *
 * Nobody needs the partial message fresh to the 50 ms while nobody watches the run: then it is
 * persisted every UNWATCHED_FLUSH_MS. Which streaming runs are watched is read from presence (one
 * query for all of them every WATCH_CHECK_MS); a run that becomes watched is flushed at once, so a
 * new subscriber has the text so far straight away. The bus asks the same question before it sends a
 * delta to other processes (`unwatched`), and is told when a run becomes watched (`onWatched`, with
 * the text so far) so that it can send what it held back.
 */
import type { Logger } from '../logger';
import type { Store } from '../store';
import type { DeltaMessage } from './bus';
import { StreamedTexts, type StreamSnapshot } from './streamed-text';

/** How often a worker persists the text being streamed, for other processes to read. */
export const LIVE_TEXT_FLUSH_MS = 50;
/** The same while nobody watches the run. */
export const UNWATCHED_FLUSH_MS = 1_000;
/** How often the writer asks which of its streaming runs are watched. */
export const WATCH_CHECK_MS = 250;
/** Checks in a row that must find a streaming run unwatched before its text is written slowly. */
const SLOW_AFTER_CHECKS = 2;

export class LiveTextWriter {
  private readonly streams = new StreamedTexts();
  /** Runs whose text changed since it was written, and when it is due to be written (ms since the epoch). */
  private readonly due = new Map<string, number>();
  private writeTimer?: NodeJS.Timeout;
  /** When the armed write fires (ms since the epoch). */
  private writeTimerAt = Infinity;
  /** A write is out: the next waits for it. */
  private writing = false;
  /** Messages that ended while a write was out: their text is cleared once it is in (run → turn). */
  private readonly clearsAfterWrite = new Map<string, number>();
  /**
   * Runs streaming now; and for each, how many checks in a row found nobody watching it. Only a run
   * seen unwatched twice running is written slowly: a run not yet checked, or watched once, is not.
   */
  private readonly streaming = new Set<string>();
  private readonly unwatchedChecks = new Map<string, number>();
  private watchTimer?: NodeJS.Timeout;
  /** Writes of a run's live text so far (for tests and benchmarks that count them). */
  flushes = 0;
  /** Statements those writes took. */
  statements = 0;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    /** A streaming run that was `unwatched` is watched now (or presence could not be read): its text so far. */
    private readonly onWatched: (runId: string, text: StreamSnapshot) => void = () => undefined,
  ) {}

  /**
   * Presence says nobody watches the run, checked twice in a row while it streams. Unknown (not yet
   * checked, or a failed check) is not unwatched: a watcher must never miss text.
   */
  unwatched(runId: string): boolean {
    return this.streaming.has(runId) && this.isSlow(runId);
  }

  /** The run counts as watched from now on; if it was not, its text so far is written now and handed to `onWatched`. */
  private markWatched(runId: string): void {
    const was = this.unwatched(runId);
    this.unwatchedChecks.delete(runId);
    if (!was) return;
    this.scheduleFlush(runId, true); // someone arrived
    const text = this.streams.snapshot(runId);
    if (text && text.text !== '') this.onWatched(runId, text);
  }

  /** While anything streams, keeps `watched` current; a run that became watched is flushed now. */
  private checkWatchers(): void {
    if (this.watchTimer || this.streaming.size === 0) return;
    this.watchTimer = setTimeout(() => {
      const checked = [...this.streaming];
      // Bounded: forget what is known of runs not streaming once many have been seen.
      if (this.unwatchedChecks.size > 10_000) for (const runId of [...this.unwatchedChecks.keys()]) if (!this.streaming.has(runId)) this.unwatchedChecks.delete(runId);
      void this.store.watchers
        .watched(checked)
        .then((now) => {
          for (const runId of checked) {
            if (now.has(runId)) this.markWatched(runId);
            else this.unwatchedChecks.set(runId, (this.unwatchedChecks.get(runId) ?? 0) + 1);
          }
        })
        .catch((err: unknown) => {
          // Not knowing who watches, treat every run as watched: text sent for nobody is the cheaper mistake.
          this.logger.debug({ err }, 'could not read presence; treating the streaming runs as watched');
          for (const runId of checked) this.markWatched(runId);
        })
        .finally(() => {
          this.watchTimer = undefined;
          this.checkWatchers();
        });
    }, WATCH_CHECK_MS);
    this.watchTimer.unref();
  }

  private isSlow(runId: string): boolean {
    return (this.unwatchedChecks.get(runId) ?? 0) >= SLOW_AFTER_CHECKS;
  }

  write(msg: DeltaMessage): void {
    const { runId } = msg;
    if (msg.type === 'delta.end') {
      // The message is stored by now; readers take its end from the llm.message event (run-feed.ts).
      // Whether anyone watches carries over to the run's next message (unwatchedChecks is kept).
      this.streaming.delete(runId);
      this.streams.delete(runId);
      this.due.delete(runId);
      // After the write out, which may hold this message's text: landing after the clear, it would bring it back.
      if (this.writing) this.clearsAfterWrite.set(runId, msg.turn);
      else this.clear(runId, msg.turn);
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
    if (this.due.has(runId) && !now) return;
    const at = Date.now() + (now ? 0 : this.isSlow(runId) ? UNWATCHED_FLUSH_MS : LIVE_TEXT_FLUSH_MS);
    this.due.set(runId, at);
    // On the shared clock: the next tick at or after `at` (at once for a write wanted now).
    this.armWrite(now ? Date.now() : Math.ceil(at / LIVE_TEXT_FLUSH_MS) * LIVE_TEXT_FLUSH_MS);
  }

  private armWrite(at: number): void {
    // The write out arms the clock again when it ends.
    if (this.writing || at >= this.writeTimerAt) return;
    clearTimeout(this.writeTimer);
    this.writeTimerAt = at;
    this.writeTimer = setTimeout(() => this.writeDue(), Math.max(0, at - Date.now()));
    this.writeTimer.unref();
  }

  /** Writes every run due by now in one statement, and arms the clock for the next one due. */
  private writeDue(): void {
    this.writeTimer = undefined;
    this.writeTimerAt = Infinity;
    const now = Date.now();
    const texts = [];
    for (const [runId, at] of this.due) {
      if (at > now) continue;
      this.due.delete(runId);
      const state = this.streams.snapshot(runId);
      if (state) texts.push({ runId, ...state });
    }
    if (texts.length === 0) return this.armNextDue();
    this.flushes += texts.length;
    this.statements += 1;
    this.writing = true;
    // In the order of the runs' ids, as every writer's rows are: two statements that share rows lock them in one order.
    texts.sort((a, b) => (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0));
    this.store.liveText
      .putMany(texts)
      .catch((err) => this.logger.warn({ err, runs: texts.length }, 'could not persist live text'))
      .finally(() => {
        this.writing = false;
        for (const [runId, turn] of this.clearsAfterWrite) this.clear(runId, turn);
        this.clearsAfterWrite.clear();
        this.armNextDue();
      });
  }

  private clear(runId: string, turn: number): void {
    this.store.liveText.clear(runId, turn).catch((err) => this.logger.warn({ err, runId }, 'could not clear live text'));
  }

  /** Arms the clock for the earliest run due: at once for one already due (one that waited for the write that just ended). */
  private armNextDue(): void {
    let next = Infinity;
    for (const at of this.due.values()) next = Math.min(next, at);
    if (next === Infinity) return;
    this.armWrite(next <= Date.now() ? Date.now() : Math.ceil(next / LIVE_TEXT_FLUSH_MS) * LIVE_TEXT_FLUSH_MS);
  }

  close(): void {
    clearTimeout(this.watchTimer);
    this.streaming.clear();
    this.unwatchedChecks.clear();
    clearTimeout(this.writeTimer);
    this.writeTimer = undefined;
    this.writeTimerAt = Infinity;
    this.due.clear();
    this.clearsAfterWrite.clear();
    this.streams.clear();
  }
}
