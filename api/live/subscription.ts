/**
 * One client's view of one run: a snapshot, then every event after the client's `after` — first
 * caught up from the database, then live from the run's feed — with no gap and no duplicate at the
 * switch-over (feed events that arrive during catch-up are held and de-duplicated by seq), and the
 * model's text: everything streamed so far as one delta at offset 0, then the rest.
 */
import type { Store } from '../../shared/store';
import type { RunEvent } from '../../contract/events';
import type { LiveMessage, RunView } from '../../contract/api';
import type { LiveHub } from './live-hub';
import type { DeltaPiece, FeedListener, RunFeed } from './run-feed';

export type { LiveMessage };

/**
 * Where a subscription's messages go, with their JSON. Returns false once the client is gone or
 * cut off.
 */
export type Sink = (msg: LiveMessage, json: string) => boolean;

// Every subscriber to a run gets the same event and delta objects: serialise each once, not once
// per socket (5,000 sockets on one run would otherwise mean 5,000 JSON.stringify calls per event).
const eventJson = new WeakMap<RunEvent, string>();
const deltaJson = new WeakMap<DeltaPiece, string>();

function cached<K extends object>(cache: WeakMap<K, string>, key: K, make: () => LiveMessage): { msg: LiveMessage; json: string } {
  const msg = make();
  let json = cache.get(key);
  if (json === undefined) {
    json = JSON.stringify(msg);
    cache.set(key, json);
  }
  return { msg, json };
}

const PAGE = 500;

export class Subscription {
  private feed?: RunFeed;
  private cursor: number;
  private live = false;
  private held: RunEvent[] = [];
  private stopped = false;
  private unwatch?: () => void;
  private readonly listener: FeedListener = {
    event: (e) => (this.live ? this.deliver(e) : this.held.push(e)),
    delta: (piece) => {
      if (this.live) this.sendCached(cached(deltaJson, piece, () => ({ type: 'delta', runId: this.runId, ...piece })));
    },
    reset: (turn) => {
      if (this.live) this.send({ type: 'delta.reset', runId: this.runId, turn });
    },
  };

  constructor(
    readonly runId: string,
    after: number,
    private readonly deps: { hub: LiveHub; store: Store; snapshot: () => Promise<RunView>; /** Counts this subscriber as watching (presence); returns the undo. */ watch?: () => () => void },
    private readonly sink: Sink,
  ) {
    this.cursor = after;
  }

  /** The last seq this client has been sent. */
  get delivered(): number {
    return this.cursor;
  }

  async start(): Promise<void> {
    this.unwatch = this.deps.watch?.();
    this.feed = await this.deps.hub.acquire(this.runId);
    if (this.stopped) return this.releaseFeed();
    this.feed.add(this.listener); // from here on, nothing the feed emits is missed
    const progress = await this.deps.snapshot();
    this.send({ type: 'snapshot', runId: this.runId, progress });
    // Catch up from the database.
    for (;;) {
      if (this.stopped) return;
      const page = await this.deps.store.events.list(this.runId, { after: this.cursor, limit: PAGE });
      for (const e of page) this.deliver(e);
      if (page.length < PAGE) break;
    }
    // Switch to live in one synchronous step: events held meanwhile go first, de-duplicated.
    if (this.stopped) return;
    for (const e of this.held) this.deliver(e);
    this.held = [];
    this.live = true;
    const text = this.feed.currentText();
    if (text) this.send({ type: 'delta', runId: this.runId, turn: text.turn, offset: 0, text: text.text });
  }

  private deliver(e: RunEvent): void {
    if (e.seq <= this.cursor) return; // already sent (caught up from the database)
    this.cursor = e.seq;
    this.sendCached(cached(eventJson, e, () => ({ type: 'event', runId: this.runId, event: e })));
  }

  private send(msg: LiveMessage): void {
    this.sendCached({ msg, json: JSON.stringify(msg) });
  }

  private sendCached({ msg, json }: { msg: LiveMessage; json: string }): void {
    if (this.stopped) return;
    if (!this.sink(msg, json)) this.stop();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.unwatch?.();
    this.releaseFeed();
  }

  private releaseFeed(): void {
    if (!this.feed) return;
    this.feed.remove(this.listener);
    this.deps.hub.release(this.runId);
    this.feed = undefined;
  }
}
