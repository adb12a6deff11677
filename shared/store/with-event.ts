/**
 * Writes that land with one event or not at all: a tool call's result, a model call's answer. The event's key says
 * whether they landed: a key written before writes nothing (its writes were written with it). On Postgres, for a run
 * whose events nothing else is written with (no webhooks; see EventsRepo.appendOneWith), they go in the event's own
 * statement, one round trip. A step's transactions were five to seven round trips each, and on a busy worker each
 * round trip holds its pooled connection for a turn of the event loop: at a thousand streaming runs the pool was
 * always out and a statement waited seconds for a connection (docs/benchmarks.md, session 15). Otherwise, and on
 * SQLite, they are written one by one in a transaction, after the event. An answer with no event of its own (the relay
 * summary) lands with its ledger entry's completion instead (writeWithCompletion).
 */
import type { RawBuilder, SqlBool } from 'kysely';
import type { EventDraft, RunEvent } from '../../contract/events';
import type { Usage } from '../../contract/run';
import { EffectsRepo, type EffectEntry } from './effects';
import type { AlongWithEvent } from './events';
import type { Store } from './index';
import { MessagesRepo, type NewMessage } from './messages';
import { ModelCallsRepo, type ModelCallRecord } from './model-calls';
import { RunsRepo } from './runs';

/**
 * One write to land with an event. Messages written together have no order among themselves (the parts of one
 * Postgres statement run in no set order, so their ids may not follow the list): the context orders a turn's
 * messages by turn and tool use (activities/model/context-builder.ts), not by id.
 */
export type WriteWithEvent =
  | { message: NewMessage }
  /** The ledger entry of `key` completed with its result. */
  | { completed: { key: string; result: unknown } }
  | { modelCall: ModelCallRecord }
  /** The run's usage, and the turn it is on. */
  | { usage: { usage: Usage; turn: number } }
  /** The run's final result. */
  | { output: unknown };

/** The writes as parts of the event's statement. */
function alongWithEvent(writes: WriteWithEvent[]): AlongWithEvent {
  const run: RawBuilder<unknown>[] = [];
  for (const w of writes) {
    if ('usage' in w) run.push(RunsRepo.usageAssignments(w.usage.usage, w.usage.turn));
    else if ('output' in w) run.push(RunsRepo.outputAssignment(w.output));
  }
  return {
    run,
    writes: (onlyIf: RawBuilder<SqlBool>) =>
      writes.flatMap((w) => {
        if ('message' in w) return [MessagesRepo.putStatement(w.message, onlyIf)];
        if ('completed' in w) return [EffectsRepo.completeStatement(w.completed.key, w.completed.result, onlyIf)];
        if ('modelCall' in w) return [ModelCallsRepo.recordStatement(w.modelCall, onlyIf)];
        return []; // the run's own row: `run` above
      }),
  };
}

/** Writes one of them on its own (the path of SQLite, and of runs whose events have more written with them). */
async function writeOne(tx: Store, runId: string, w: WriteWithEvent): Promise<void> {
  if ('message' in w) await tx.messages.put(w.message);
  else if ('completed' in w) await tx.effects.complete(w.completed.key, w.completed.result);
  else if ('modelCall' in w) await tx.modelCalls.record(w.modelCall);
  else if ('usage' in w) await tx.runs.addUsage(runId, w.usage.usage, w.usage.turn);
  else await tx.runs.setOutput(runId, w.output);
}

/** The event's statement, or the transaction: the event's appended form (none when its key was written before). */
export async function writeWithEvent(store: Store, runId: string, draft: EventDraft, writes: WriteWithEvent[]): Promise<RunEvent[]> {
  const appended = await store.events.appendOneWith(runId, draft, alongWithEvent(writes));
  if (appended) return appended;
  return store.transaction(async (tx) => {
    const events = await tx.events.append(runId, [draft]);
    if (events.length > 0) for (const w of writes) await writeOne(tx, runId, w);
    return events;
  });
}

/**
 * Writes that land with a ledger entry's completion or not at all, for an answer with no event of its own (the relay
 * summary): the completion decides, as an event's key does above. False, with nothing written, when another attempt
 * completed the entry first. In one transaction (the caller's, when it has one).
 */
export async function writeWithCompletion(store: Store, runId: string, completed: { key: string; result: unknown }, writes: WriteWithEvent[]): Promise<boolean> {
  return store.transaction(async (tx) => {
    if (!(await tx.effects.completeFirst(completed.key, completed.result))) return false;
    for (const w of writes) await writeOne(tx, runId, w);
    return true;
  });
}

/**
 * A ledger entry's start with the event that says so (`tool.started`), for a call not begun before: one statement
 * on Postgres for a run alone. Otherwise undefined, with nothing written: the caller begins the entry in a
 * transaction, as ever (what an earlier attempt left is read there).
 */
export async function beginWithEvent(store: Store, key: string, entry: EffectEntry, draft: EventDraft): Promise<RunEvent[] | undefined> {
  const appended = await store.events.appendOneWith(entry.runId, draft, { gate: (onlyIf) => EffectsRepo.beginStatement(key, entry, onlyIf), writes: () => [], run: [] });
  return appended?.length ? appended : undefined;
}
