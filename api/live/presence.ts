/**
 * This API process's share of presence: it counts its open subscriptions per run and user, writes
 * every change through to the database (so other replicas and the workers see it at once), and
 * refreshes its rows every PRESENCE_REFRESH_MS. A socket that dies is dropped within the ping
 * interval (ws-server terminates it), and with it its subscriptions here.
 */
import crypto from 'node:crypto';
import type { Logger } from '../../shared/logger';
import type { Store } from '../../shared/store';
import { PRESENCE_REFRESH_MS } from '../../shared/store/watchers';

export class Presence {
  readonly instance = `api_${crypto.randomBytes(8).toString('hex')}`;
  private readonly counts = new Map<string, Map<string, number>>();
  private readonly timer: NodeJS.Timeout;
  /** Writes in order, so a quick subscribe-unsubscribe never lands out of order. */
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
  ) {
    this.timer = setInterval(
      () =>
        this.write(async () => {
          await this.store.watchers.refresh(this.instance);
          // Rows of replicas gone for an hour are dropped, so the table stays the size of who watches now.
          await this.store.watchers.purgeStale(new Date(Date.now() - 3_600_000).toISOString());
        }),
      PRESENCE_REFRESH_MS,
    );
    this.timer.unref();
  }

  /** A subscription of `user` to `runId` opened; returns the function that closes it. */
  watch(runId: string, user: string): () => void {
    this.change(runId, user, +1);
    let closed = false;
    return () => {
      if (closed) return;
      closed = true;
      this.change(runId, user, -1);
    };
  }

  private change(runId: string, user: string, by: number): void {
    const users = this.counts.get(runId) ?? new Map<string, number>();
    const n = (users.get(user) ?? 0) + by;
    if (n > 0) users.set(user, n);
    else users.delete(user);
    if (users.size) this.counts.set(runId, users);
    else this.counts.delete(runId);
    this.write(() => this.store.watchers.set(this.instance, runId, user, Math.max(0, n)));
  }

  private write(fn: () => Promise<void>): void {
    this.chain = this.chain.then(fn).catch((err: unknown) => this.logger.warn({ err }, 'could not record presence'));
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.chain;
    await this.store.watchers.removeInstance(this.instance).catch(() => undefined);
  }
}
