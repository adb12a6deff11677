/**
 * What the two buses between processes share (postgres-bus.ts, sqlite-tail-bus.ts). A worker
 * publishes: events are already committed in the database; deltas are persisted by the
 * LiveTextWriter. An API process subscribes: the subclass learns of new events and text from the
 * database its own way, and hands them to local listeners as `notify` (read the events from the
 * database, the one source of truth) and deltas.
 */
import type { Logger } from '../logger';
import type { Store } from '../store';
import { isDeltaMessage, type Bus, type BusListener, type BusMessage, type DeltaMessage, type RunsListener } from './bus';
import { InMemoryBus } from './in-memory-bus';
import { LiveTextWriter } from './live-text-writer';
import type { StreamSnapshot } from './streamed-text';

export abstract class CrossProcessBus implements Bus {
  protected readonly local = new InMemoryBus();
  /** Runs with local subscribers, and how many. */
  protected readonly subscribed = new Map<string, number>();
  private readonly writer: LiveTextWriter;
  protected closed = false;

  constructor(
    protected readonly store: Store,
    protected readonly logger: Logger,
  ) {
    // A run that becomes watched gets the text held back from it at once (from offset 0: a reader keeps only what is new).
    this.writer = new LiveTextWriter(store, logger, (runId, text) => this.forward({ type: 'delta', runId, offset: 0, ...text }));
  }

  publish(msg: BusMessage): void {
    if (isDeltaMessage(msg)) {
      this.writer.write(msg);
      // A run nobody watches (presence, as the writer last read it) has no reader for its deltas in any process:
      // an API process drops deltas of runs it has no socket for. Its text so far is persisted (liveText), and
      // sent at once when someone arrives. Resets and ends are rare, and always go.
      if (msg.type !== 'delta' || !this.writer.unwatched(msg.runId)) this.forward(msg);
      // Nobody in this process follows the run (a worker's usual case): the local bus would only keep a second
      // copy of the text for nobody (a local subscriber reads the text so far from liveText(), not from it).
      if (!this.subscribed.has(msg.runId)) return;
    }
    // Events travel through the database itself; local listeners (same process) hear at once.
    this.local.publish(msg);
  }

  /** Sends a delta to other processes right away, where the database allows it (NOTIFY). */
  protected forward(_msg: DeltaMessage): void {}

  /** Starts following `runId` in the database: its first local subscriber arrived. */
  protected abstract follow(runId: string): void;
  /** Its last local subscriber left. */
  protected abstract unfollow(runId: string): void;

  subscribe(runId: string, listener: BusListener): () => void {
    const n = this.subscribed.get(runId) ?? 0;
    this.subscribed.set(runId, n + 1);
    if (n === 0) this.follow(runId);
    const unsubscribe = this.local.subscribe(runId, listener);
    return () => {
      unsubscribe();
      const left = (this.subscribed.get(runId) ?? 1) - 1;
      if (left > 0) this.subscribed.set(runId, left);
      else {
        this.subscribed.delete(runId);
        this.unfollow(runId);
      }
    };
  }

  subscribeRuns(listener: RunsListener): () => void {
    const unsubscribe = this.local.subscribeRuns(listener);
    this.followRuns();
    return unsubscribe;
  }

  /** A runs listener arrived: make sure changes to any run reach `local.announceRun`. */
  protected followRuns(): void {}

  async liveText(runId: string): Promise<StreamSnapshot | null> {
    const row = await this.store.liveText.get(runId);
    return row ? { turn: row.turn, attempt: row.attempt, text: row.text } : null;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.writer.close();
    await this.local.close();
  }
}
