/**
 * One run's live feed inside an API process, shared by every socket watching that run: committed
 * events in seq order with no gaps (read from the database whenever the bus says there are new
 * ones, or when an in-memory event arrives out of order), and the text the model is streaming.
 */
import type { Bus, BusMessage } from '../../shared/bus/bus';
import { InMemoryBus } from '../../shared/bus/in-memory-bus';
import type { Store } from '../../shared/store';
import type { RunEvent } from '../../contract/events';

/** One piece of streamed text; the same object reaches every listener, so it is serialised once. */
export interface DeltaPiece {
  turn: number;
  offset: number;
  text: string;
}

export interface FeedListener {
  event(event: RunEvent): void;
  delta(piece: DeltaPiece): void;
  /** The model call of `turn` is being retried: drop its partial text. */
  reset(turn: number): void;
}

interface Stream {
  turn: number;
  attempt: number;
  /** Contiguous from offset 0. */
  text: string;
  /** Deltas that arrived ahead of `text` (this process started listening mid-stream). */
  ahead: { offset: number; text: string }[];
}

const PAGE = 500;
const RESYNC_MS = 100;

export class RunFeed {
  private lastSeq = 0;
  private stream: Stream | null = null;
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
    // Subscribe, then read the text so far in the same tick (in memory): no delta falls between.
    feed.unsubscribe = bus.subscribe(runId, (msg) => feed.onMessage(msg));
    if (bus instanceof InMemoryBus) {
      const live = bus.liveTextNow(runId);
      if (live) feed.stream = { ...live, ahead: [] };
    } else {
      await feed.resync();
    }
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
    return this.stream && this.stream.text ? { turn: this.stream.turn, text: this.stream.text } : null;
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
        this.onDelta(msg.turn, msg.attempt, msg.offset, msg.text);
        break;
      case 'delta.reset':
        this.startStream(msg.turn, msg.attempt, true);
        break;
      case 'delta.end':
        if (this.stream && this.stream.turn <= msg.turn) this.stream = null;
        break;
    }
  }

  private emitEvent(event: RunEvent): void {
    this.lastSeq = event.seq;
    if (event.type === 'llm.message' && this.stream && this.stream.turn <= Number(event.data.turn)) this.stream = null;
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

  private startStream(turn: number, attempt: number, announceReset: boolean): Stream {
    const replacing = this.stream && this.stream.turn === turn && this.stream.attempt !== attempt;
    this.stream = { turn, attempt, text: '', ahead: [] };
    if (replacing || announceReset) for (const l of [...this.listeners]) l.reset(turn);
    return this.stream;
  }

  private onDelta(turn: number, attempt: number, offset: number, text: string): void {
    let s = this.stream;
    if (!s || s.turn !== turn || s.attempt !== attempt) s = this.startStream(turn, attempt, false);
    if (offset > s.text.length) {
      // A gap: this process missed the start of the stream. Keep it, and fetch the text so far.
      s.ahead.push({ offset, text });
      this.scheduleResync();
      return;
    }
    this.append(s, offset, text);
  }

  private append(s: Stream, offset: number, text: string): void {
    const overlap = s.text.length - offset;
    if (overlap >= text.length) return;
    const piece = text.slice(overlap);
    const at = s.text.length;
    s.text += piece;
    const delta: DeltaPiece = { turn: s.turn, offset: at, text: piece };
    for (const l of [...this.listeners]) l.delta(delta);
    // Deltas held back behind a gap may now fit.
    s.ahead.sort((a, b) => a.offset - b.offset);
    while (s.ahead.length && s.ahead[0]!.offset <= s.text.length) {
      const next = s.ahead.shift()!;
      this.append(s, next.offset, next.text);
    }
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
    let s = this.stream;
    if (!s || s.turn !== live.turn || s.attempt !== live.attempt) {
      if (s && (s.turn > live.turn || (s.turn === live.turn && s.attempt > live.attempt))) return; // stale copy
      s = this.startStream(live.turn, live.attempt, false);
    }
    if (live.text.length > s.text.length) this.append(s, s.text.length, live.text.slice(s.text.length));
    if (s.ahead.length) {
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
