/** The live feeds of one API process: one per watched run, shared, closed when nobody watches. */
import type { Bus } from '../../shared/bus/bus';
import type { Store } from '../../shared/store';
import { RunFeed } from './run-feed';

export class LiveHub {
  private readonly feeds = new Map<string, Promise<RunFeed>>();
  private readonly refs = new Map<string, number>();

  constructor(
    private readonly store: Store,
    private readonly bus: Bus,
  ) {}

  async acquire(runId: string): Promise<RunFeed> {
    this.refs.set(runId, (this.refs.get(runId) ?? 0) + 1);
    let feed = this.feeds.get(runId);
    if (!feed) {
      feed = RunFeed.open(runId, this.store, this.bus);
      this.feeds.set(runId, feed);
      feed.catch(() => this.feeds.delete(runId));
    }
    return feed;
  }

  release(runId: string): void {
    const n = (this.refs.get(runId) ?? 1) - 1;
    if (n > 0) {
      this.refs.set(runId, n);
      return;
    }
    this.refs.delete(runId);
    const feed = this.feeds.get(runId);
    this.feeds.delete(runId);
    void feed?.then((f) => f.close(), () => undefined);
  }

  get watchedRuns(): number {
    return this.feeds.size;
  }

  close(): void {
    for (const f of this.feeds.values()) void f.then((x) => x.close(), () => undefined);
    this.feeds.clear();
    this.refs.clear();
  }
}
