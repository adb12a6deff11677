/**
 * Worker side of a cross-process bus: keeps each run's streamed text and persists it to `live_text`
 * at most every LIVE_TEXT_FLUSH_MS (at once on a reset), so an API process that joins mid-message
 * can read the text so far. Cleared when the message is complete.
 */
import type { Logger } from '../logger';
import type { Store } from '../store';
import type { DeltaMessage } from './bus';
import { StreamedTexts } from './streamed-text';

/** How often a worker persists the text being streamed, for other processes to read. */
export const LIVE_TEXT_FLUSH_MS = 50;

export class LiveTextWriter {
  private readonly streams = new StreamedTexts();
  private readonly flushTimers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
  ) {}

  write(msg: DeltaMessage): void {
    const { runId } = msg;
    if (msg.type === 'delta.end') {
      this.streams.delete(runId);
      clearTimeout(this.flushTimers.get(runId));
      this.flushTimers.delete(runId);
      this.store.liveText.clear(runId, msg.turn).catch((err) => this.logger.warn({ err, runId }, 'could not clear live text'));
      return;
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
        this.store.liveText.put({ runId, ...state }).catch((err) => this.logger.warn({ err, runId }, 'could not persist live text'));
      },
      now ? 0 : LIVE_TEXT_FLUSH_MS,
    );
    timer.unref();
    this.flushTimers.set(runId, timer);
  }

  close(): void {
    for (const t of this.flushTimers.values()) clearTimeout(t);
    this.flushTimers.clear();
    this.streams.clear();
  }
}
