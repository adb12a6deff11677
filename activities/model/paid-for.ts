/**
 * Keeping a model's answer once it is paid for: shared by the turn's model call (../model-activities.ts) and the relay
 * summary (../summary-activities.ts), which the provider charges alike. An attempt that fails after the answer came
 * is retried, and the retry asks the model — and pays — again; so the commit of an answer waits out the database
 * rather than fail, and an attempt whose answer another attempt stored first returns that one.
 */
import { Context } from '@temporalio/activity';
import { isStoreOutage } from '../../shared/store/outage';
import type { Store } from '../../shared/store';

/** How long a paid-for answer waits between tries of its commit while the database is away. */
const STORE_AWAY_RETRY_MS = 1000;

/**
 * Commits a paid-for answer, waiting for the database while it cannot be reached (a restart, the network between)
 * instead of failing the attempt, whose retry would ask — and pay — the model again (the attempt heartbeats meanwhile). Ends when
 * the commit goes through, on any other error, or when the activity is cancelled or times out (the retry then finds
 * the ledger entry or asks again, as before). A commit whose answer was lost with the connection may have landed:
 * the ledger says so before it is tried again, and then `undefined` is returned (nothing written twice).
 */
export async function commitPaidFor<T>(key: string, store: Store, commit: () => Promise<T>): Promise<T | undefined> {
  for (let tries = 1; ; tries++) {
    try {
      if (tries > 1 && (await store.effects.get(key))?.status === 'completed') return undefined;
      return await commit();
    } catch (err) {
      if (!isStoreOutage(err)) throw err;
      await Context.current().sleep(STORE_AWAY_RETRY_MS);
    }
  }
}

/** The answer stored under the ledger key `key`, by the attempt whose commit completed it. */
export async function storedAnswer<T>(store: Store, key: string): Promise<T> {
  return (await store.effects.get(key))!.result as T;
}
