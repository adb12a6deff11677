/**
 * How long each pooled connection took to get. A process whose pool is too small for its work — or whose event
 * loop is too busy to send a transaction's next statement, so connections come back late — shows it here first:
 * at a thousand streaming runs on one worker, a model call's statements waited seconds for a connection each
 * (docs/benchmarks.md). pg's pool says how many callers wait, not for how long, so each checkout is timed: those
 * that take a client (Kysely) and those that let the pool run a query (`pool.query`, a callback inside pg).
 */
import type pg from 'pg';

type Connect = (callback?: (err: Error | undefined, client: pg.PoolClient | undefined, done: (release?: unknown) => void) => void) => unknown;

/** Pools whose checkouts are timed already: a second timer would count each wait twice. */
const timed = new WeakSet<pg.Pool>();

/** Times every checkout of `pool` from now on; `record` gets each wait in ms (a connection that failed is no wait). */
export function timeConnectionWaits(pool: pg.Pool, record: (waitMs: number) => void): void {
  if (timed.has(pool)) return;
  timed.add(pool);
  const connect = (pool.connect as Connect).bind(pool);
  const timedConnect: Connect = (callback) => {
    const since = performance.now();
    if (callback) {
      return connect((err, client, done) => {
        if (!err) record(performance.now() - since);
        callback(err, client, done);
      });
    }
    return (connect() as Promise<pg.PoolClient>).then((client) => {
      record(performance.now() - since);
      return client;
    });
  };
  (pool as { connect: Connect }).connect = timedConnect;
}
