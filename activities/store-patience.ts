/**
 * An activity that cannot reach the database waits for it inside its attempt (heartbeating: ./heartbeat.ts), and then runs again,
 * instead of failing the attempt. Attempts are few (ACTIVITY_MAX_ATTEMPTS, a minute or so of backoff between the
 * first and the last), and a database restart or failover can take longer: a run whose tool call failed its
 * attempts while Postgres was away ended failed, where it should have waited and gone on by itself. Waiting here
 * costs no attempt, and the activity's own start-to-close timeout still bounds it.
 *
 * Only an error that looks like a lost connection *and* a database that does not answer its ping count: a refused
 * connection from anything else (a tool's own server, the blob store) fails the attempt as before, or it would
 * wait forever for a database that is fine. Local activities (bookkeeping) are left to their own retries: they
 * cannot heartbeat, and their retry policy is already patient with the database.
 *
 * Running the attempt again is what a retry would do: the ledger keeps each effect and paid-for answer once.
 */
import { Context } from '@temporalio/activity';
import type { Logger } from '../shared/logger';
import { isStoreOutage } from '../shared/store/outage';

/** How often a waiting activity asks whether the database is back (and heartbeats). */
export const STORE_PING_EVERY_MS = 1000;

type ActivityFunction = (arg: any) => Promise<unknown>;

interface PatienceDeps {
  store: { ping(): Promise<void> };
  logger: Logger;
  /** Tests only: STORE_PING_EVERY_MS otherwise. */
  pingEveryMs?: number;
}

export function patientWithStore<A extends Record<string, ActivityFunction>>(activities: A, deps: PatienceDeps): A {
  const wrapped = {} as Record<string, ActivityFunction>;
  for (const [name, fn] of Object.entries(activities)) {
    wrapped[name] = async (arg: unknown) => {
      for (;;) {
        try {
          return await fn(arg);
        } catch (err) {
          if (!isStoreOutage(err) || Context.current().info.isLocal) throw err;
          if (!(await waitedForStore(deps, name))) throw err;
        }
      }
    };
  }
  return wrapped as A;
}

/** Waits while the database does not answer; false when it answered at once (the error was not its). */
async function waitedForStore(deps: PatienceDeps, activity: string): Promise<boolean> {
  const ctx = Context.current();
  let waited = false;
  for (;;) {
    try {
      await deps.store.ping();
      if (waited) deps.logger.info({ activity, attempt: ctx.info.attempt }, 'the database is back; running the activity again');
      return waited;
    } catch (err) {
      if (!isStoreOutage(err)) throw err;
      if (!waited) deps.logger.warn({ activity, attempt: ctx.info.attempt }, 'the database cannot be reached; the activity waits for it');
      waited = true;
      await ctx.sleep(deps.pingEveryMs ?? STORE_PING_EVERY_MS); // rejects when the activity is cancelled or times out
    }
  }
}
