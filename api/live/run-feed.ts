/**
 * One run's live feed inside an API process, shared by every socket watching that run: committed
 * events in seq order with no gaps (read from the database whenever the bus says there are new
 * ones, or when an in-memory event arrives out of order), and the text the model is streaming.
 */
import type { Bus, BusMessage } from '../../shared/bus/bus';
import { StreamedText, type TextPiece } from '../../shared/bus/streamed-text';
import type { Store } from '../../shared/store';
import type { RunEvent } from '../../contract/events';

/** One piece of streamed text; the same object reaches every listener, so it is serialised once. */
export type DeltaPiece = TextPiece;

export interface FeedListener {
  event(event: RunEvent): void;
  delta(piece: DeltaPiece): void;
  /** The model call of `turn` is being retried: drop its partial text. */
  reset(turn: number): void;
}

const PAGE = 500;
const RESYNC_MS = 100;

export class RunFeed {
  private lastSeq = 0;
  /** The latest turn whose llm.message was delivered: its streamed text is complete. */
  private finalTurn = 0;
  private readonly stream = new StreamedText();
  private readonly listeners = new Set<FeedListener>();
  private refreshing = false;
  private refreshAgain = false;
  private unsubscribe: () => void = () => undefined;
  private resyncTimer?: NodeJS.Timeout;
  private closed = false;

  private constructor(
    readonly runId: string,
    private readonly store: Store,
    private readonly bus: Bus,
  ) {}

  static async open(runId: string, store: Store, bus: Bus): Promise<RunFeed> {
    const feed = new RunFeed(runId, store, bus);
    feed.lastSeq = await store.events.lastSeq(runId);
    // Subscribe, then read the text so far in the same tick where the bus can (in memory): no delta
    // falls between. Across processes, read the persisted copy; deltas meanwhile are merged with it.
    feed.unsubscribe = bus.subscribe(runId, (msg) => feed.onMessage(msg));
    const now = bus.liveTextNow?.(runId);
    if (now) feed.stream.add(now.turn, now.attempt, 0, now.text);
    else if (now === undefined) await feed.resync();
    // Anything committed between reading last_seq and now is picked up here.
    feed.refresh();
    return feed;
  }

  /** Events up to here have been emitted to listeners. */
  get seq(): number {
    return this.lastSeq;
  }

  /** The text streamed so far for the current model message, if any (always from offset 0). */
  currentText(): { turn: number; text: string } | null {
    const s = this.stream.snapshot;
    return s && s.text ? { turn: s.turn, text: s.text } : null;
  }

  add(listener: FeedListener): void {
    this.listeners.add(listener);
  }

  remove(listener: FeedListener): void {
    this.listeners.delete(listener);
  }

  get size(): number {
    return this.listeners.size;
  }

  private onMessage(msg: BusMessage): void {
    if (this.closed) return;
    switch (msg.type) {
      case 'event':
        if (msg.event.seq === this.lastSeq + 1 && !this.refreshing) this.emitEvent(msg.event);
        else if (msg.event.seq > this.lastSeq) this.refresh();
        break;
      case 'notify':
        if (msg.seq > this.lastSeq) this.refresh();
        break;
      case 'delta':
        // Text of a message already final (its event delivered) is old news, however late it arrives.
        if (msg.turn <= this.finalTurn) break;
        if (this.applyDelta(msg.turn, msg.attempt, msg.offset, msg.text)) this.scheduleResync();
        break;
      case 'delta.reset':
        this.stream.start(msg.turn, msg.attempt);
        for (const l of [...this.listeners]) l.reset(msg.turn);
        break;
      case 'delta.end':
        this.stream.end(msg.turn);
        break;
    }
  }

  private emitEvent(event: RunEvent): void {
    this.lastSeq = event.seq;
    if (event.type === 'llm.message') {
      // The message is final: whatever of its text had not reached this process yet (the worker
      // persists streamed text on a timer) is delivered as the stream's last piece, before the event.
      const s = this.stream.snapshot;
      if (s && s.turn === event.data.turn && event.data.text.length > s.text.length && event.data.text.startsWith(s.text)) {
        this.applyDelta(s.turn, s.attempt, s.text.length, event.data.text.slice(s.text.length));
      }
      this.stream.end(event.data.turn);
      this.finalTurn = Math.max(this.finalTurn, event.data.turn);
    }
    for (const l of [...this.listeners]) l.event(event);
  }

  /** Reads every event after the last one emitted, in order; coalesces concurrent requests. */
  private refresh(): void {
    if (this.refreshing) {
      this.refreshAgain = true;
      return;
    }
    this.refreshing = true;
    void (async () => {
      try {
        do {
          this.refreshAgain = false;
          for (;;) {
            const events = await this.store.events.list(this.runId, { after: this.lastSeq, limit: PAGE });
            for (const e of events) if (e.seq === this.lastSeq + 1) this.emitEvent(e);
            if (events.length < PAGE || this.closed) break;
          }
        } while (this.refreshAgain && !this.closed);
      } catch {
        // The next notification (or subscriber) retries; the database is the source of truth.
      } finally {
        this.refreshing = false;
      }
    })();
  }

  /**
   * Adds a delta and tells listeners what became contiguous. Returns true while pieces wait behind
   * a gap (this process joined mid-stream): the text so far must be fetched.
   */
  private applyDelta(turn: number, attempt: number, offset: number, text: string): boolean {
    const { appended, replaced, gap } = this.stream.add(turn, attempt, offset, text);
    if (replaced) for (const l of [...this.listeners]) l.reset(turn);
    for (const piece of appended) for (const l of [...this.listeners]) l.delta(piece);
    return gap;
  }

  private scheduleResync(): void {
    if (this.resyncTimer || this.closed) return;
    this.resyncTimer = setTimeout(() => {
      this.resyncTimer = undefined;
      void this.resync();
    }, 0);
  }

  /** Cross-process buses: fill a gap in the streamed text from the worker's persisted copy. */
  private async resync(): Promise<void> {
    const live = await this.bus.liveText?.(this.runId).catch(() => null);
    if (this.closed || !live) return;
    if (this.applyDelta(live.turn, live.attempt, 0, live.text)) {
      // Still a gap: the worker persists every few tens of milliseconds; look again shortly.
      this.resyncTimer = setTimeout(() => {
        this.resyncTimer = undefined;
        void this.resync();
      }, RESYNC_MS);
    }
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.resyncTimer);
    this.unsubscribe();
    this.listeners.clear();
  }
}
