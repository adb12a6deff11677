/**
 * New runs with their first events, for a batch of starts (`Store.queueRun`). On Postgres, when no first event is
 * one a webhook is sent for (a start's `run.queued` is not), in one statement: the runs, the events of those written,
 * and a NOTIFY for each. They were three round trips a batch, and in a storm of starts a batch is mostly of one start
 * on a machine whose cores the started runs keep busy: each round trip waited its turn there (docs/benchmarks.md,
 * session 21). Otherwise, and on SQLite, the runs, then the events of those written with their deliveries.
 */
import type { FirstEvents } from './events';
import type { Store } from './index';
import { isWebhookEventType } from '../../contract/events';
import { RunsRepo, type NewRun, type RunRecord } from './runs';

/** A new run and its first events (`EventsRepo.firstEvents`: `lastSeq` is their count). */
export interface RunWithFirstEvents {
  run: NewRun;
  events: FirstEvents['rows'];
}

/**
 * Writes the runs and the first events of those written. A run whose owner and idempotency key are taken is left
 * out with its events (the caller holds the owner's queue lock and looked them up: one left out is a writer that did
 * not take the lock). The runs written, in no particular order. `tx` is a transaction's store: the two writes of the
 * path without one statement must land together.
 */
export async function insertRunsWithFirstEvents(tx: Store, writes: RunWithFirstEvents[]): Promise<RunRecord[]> {
  if (writes.length === 0) return [];
  const runs = writes.map((w) => ({ run: w.run, lastSeq: w.events.length }));
  const firsts: FirstEvents[] = writes.map((w) => ({ runId: w.run.id, webhooks: w.run.webhooks ?? null, rows: w.events }));
  if (tx.dialect !== 'postgres' || !writes.every(aloneWithItsEvents)) {
    const written = await tx.runs.insertMany(runs);
    const ids = new Set(written.map((r) => r.id));
    await tx.events.writeFirst(firsts.filter((f) => ids.has(f.runId)));
    return written;
  }
  const written = await tx.events.writeFirstWith(tx.runs.insertManyStatement(runs), firsts);
  return written.map(RunsRepo.record);
}

/**
 * Whether nothing else is written with the run's first events: no delivery, to its own webhooks (the deployment's
 * are every run's) or its root's (the events that roll up are webhook events too), is owed for any of them.
 */
function aloneWithItsEvents(w: RunWithFirstEvents): boolean {
  return !w.events.some((e) => isWebhookEventType(e.event.type));
}
