/**
 * The per-user runs feed of one API process: every socket that asked `{ type: 'watch-runs' }` hears
 * `runs.changed` for each run its user may see that was created, moved on, asks for someone, or
 * ended — so lists, the inbox and its count re-read at once instead of polling. Changes are
 * coalesced per run for a moment (a streaming run changes many times a second) and each changed
 * run is read once per batch, however many sockets watch.
 */
import type { LiveMessage } from '../../contract/api';
import type { Bus } from '../../shared/bus/bus';
import type { Logger } from '../../shared/logger';
import type { Store } from '../../shared/store';
import type { Access } from '../access';
import type { Principal } from '../../contract/identity';

const BATCH_MS = 100;

interface Watcher {
  /** The socket's caller as it is now: the socket re-reads their roles at each keep-alive beat (credential-watch.ts). */
  caller: () => Principal;
  send: (msg: LiveMessage) => void;
}

export class RunsFeed {
  private readonly watchers = new Set<Watcher>();
  private unsubscribe?: () => void;
  private changed = new Set<string>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly deps: { bus: Bus; store: Store; access: Access; logger: Logger }) {}

  /** Starts feeding `send` with the run changes its caller (asked at each change) may see; returns the stop. */
  watch(caller: () => Principal, send: (msg: LiveMessage) => void): () => void {
    const watcher = { caller, send };
    this.watchers.add(watcher);
    this.unsubscribe ??= this.deps.bus.subscribeRuns((runId) => this.note(runId));
    return () => {
      this.watchers.delete(watcher);
      if (this.watchers.size > 0) return;
      this.unsubscribe?.();
      this.unsubscribe = undefined;
    };
  }

  private note(runId: string | null): void {
    if (runId === null) {
      for (const w of this.watchers) w.send({ type: 'runs.resync' });
      return;
    }
    this.changed.add(runId);
    this.timer ??= setTimeout(() => void this.flush(), BATCH_MS);
  }

  private async flush(): Promise<void> {
    const ids = [...this.changed];
    this.changed = new Set();
    try {
      const runs = await this.deps.store.runs.getMany(ids);
      for (const run of runs) {
        const msg: LiveMessage = { type: 'runs.changed', runId: run.id, status: run.status, lastSeq: run.lastSeq };
        for (const w of this.watchers) if (this.deps.access.canSee(w.caller(), run)) w.send(msg);
      }
    } catch (err) {
      this.deps.logger.warn({ err }, 'runs feed: could not read changed runs');
      for (const w of this.watchers) w.send({ type: 'runs.resync' });
    } finally {
      this.timer = undefined;
      if (this.changed.size > 0) this.timer = setTimeout(() => void this.flush(), BATCH_MS);
    }
  }

  close(): void {
    clearTimeout(this.timer);
    this.unsubscribe?.();
    this.watchers.clear();
  }
}
