/**
 * Bookkeeping the workflow asks for: mirror its state into the database and the transcript, and
 * hand out each user's concurrency slots in order.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import { admissionSignal } from '../contract/workflow-messages';
import { isRunEnding, type EventData, type EventDraft, type RunEvent } from '../contract/events';
import { eventKeys } from '../contract/keys';
import type { Store } from '../shared/store';
import type { ActivityDeps } from './deps';
import type { AssistantBlock } from './model/model-adapter';
import { publishEvents } from './publish';
import { FailureType } from '../contract/failures';
import type { SyncRunStateArgs, SyncRunStateResult } from '../contract/activity-io';

/**
 * A run that starts waiting for its owner while nobody is watching it asks for attention: an
 * `attention.needed` event (webhooks carry it on), written with the request itself.
 */
async function attentionFor(tx: Store, runId: string, events: RunEvent[]): Promise<EventDraft[]> {
  const asks: Omit<EventData<'attention.needed'>, 'owner'>[] = [];
  for (const e of events) {
    if (e.type === 'approval.requested') asks.push({ kind: 'approval', requestId: e.data.approvalId, expiresAt: e.data.expiresAt });
    if (e.type === 'input.requested') asks.push({ kind: 'question', requestId: e.data.requestId, expiresAt: e.data.expiresAt });
  }
  if (asks.length === 0) return [];
  const run = await tx.runs.get(runId);
  if (!run || (await tx.watchers.forRun(runId)).users.includes(run.owner)) return [];
  return asks.map((a) => ({ key: eventKeys.attention(a.requestId), type: 'attention.needed' as const, data: { ...a, owner: run.owner } }));
}

export function createRunActivities(deps: ActivityDeps) {
  const { store, bus } = deps;

  /**
   * `run.completed` carries the run's structured output (agents with an output schema), read here from where
   * the model call stored it: the workflow never carries the value.
   */
  async function withOutput(runId: string, events: EventDraft[]): Promise<EventDraft[]> {
    if (!events.some((e) => e.type === 'run.completed')) return events;
    const output = (await store.runs.get(runId))?.output;
    if (output === null || output === undefined) return events;
    return events.map((e) => (e.type === 'run.completed' ? { ...e, data: { ...e.data, output } } : e));
  }

  /** Returns the time the state was recorded; the workflow stamps it on its search attributes. */
  async function syncRunState({ runId, progress, events: told = [], ended, reopenable }: SyncRunStateArgs): Promise<SyncRunStateResult> {
    let result: string | null | undefined;
    let events = told;
    if (ended && progress.status === 'completed') {
      const last = await store.messages.latest(runId, 'assistant');
      result = ((last?.content as AssistantBlock[] | undefined) ?? [])
        .map((b) => (b.type === 'text' ? b.text : ''))
        .join('');
      events = await withOutput(runId, events);
    }
    const ending = ended ? told.find((e) => isRunEnding(e.type)) : undefined;
    const written = await store.transaction(async (tx): Promise<RunEvent[] | { recordedAt: string } | { lap: number }> => {
      if (ended) await tx.runs.lock(runId);
      const state = { status: progress.status, statusDetail: progress.statusDetail, progress, error: progress.error, ...(result !== undefined && { result }) };
      // This ending was recorded already: the step runs again when the workflow task that ran it did not complete
      // (a local activity's marker is written with its task: a signal arriving meanwhile fails the task). The ending
      // stands as recorded. Deciding again could find a follow-up that came after it, which the API has already
      // given a new execution: this one would take the follow-up too, and both would run the lap. The row is written
      // again while it still says the run ended (a step of the same task that ran again before this one rewrote its
      // status); not once a follow-up has reopened it, which is the new lap's.
      const recordedAt = ending ? await tx.events.recordedAt(runId, ending.key) : undefined;
      if (recordedAt !== undefined) {
        if ((await tx.runs.get(runId))?.endedAt) await tx.runs.updateState(runId, { ...state, ended: false });
        return { recordedAt };
      }
      if (ended && reopenable && (await tx.userMessages.pending(runId)).length > 0) return { lap: await tx.runs.nextLap(runId) };
      await tx.runs.updateState(runId, { ...state, ended });
      // An ended run waits for no model capacity and holds none (a cancel during a throttle wait).
      if (ended) await tx.capacity.forgetRun(runId);
      const appended = await tx.events.append(runId, events);
      return [...appended, ...(await tx.events.append(runId, await attentionFor(tx, runId, appended)))];
    });
    if ('recordedAt' in written) return { at: written.recordedAt };
    if ('lap' in written) return { at: new Date().toISOString(), reopened: true, lap: written.lap };
    publishEvents(bus, runId, written);
    return { at: written[written.length - 1]?.at ?? new Date().toISOString() };
  }

  /**
   * Gives the run one of its owner's concurrency slots if one is free and no older run of the same
   * owner is still waiting (first in, first out). Otherwise says how many runs are ahead.
   */
  async function claimRunSlot({ runId, owner, maxConcurrent }: { runId: string; owner: string; maxConcurrent: number }): Promise<{ admitted: boolean; ahead: number; active: number }> {
    return store.transaction(async (tx) => {
      // Serialise slot decisions per owner, without blocking other owners. Through the transaction's own
      // repository: `tx.db` is the pool, where the lock ended at once and a second connection was needed
      // while this one was held (a full pool of these waited on each other for ever).
      await tx.runs.lockSlots(owner);
      const run = await tx.runs.get(runId);
      // The API removes a run whose start it could not confirm; a workflow that started anyway stops here.
      if (!run) throw ApplicationFailure.create({ message: `run ${runId} has no record in the database`, type: FailureType.RunRecordMissing, nonRetryable: true });
      const active = await tx.runs.countActive(owner);
      if (run.admitted) return { admitted: true, ahead: 0, active };
      const ahead = await tx.runs.queuedAhead(owner, run);
      // Admit when the free slots cover every older waiting run and this one: older runs keep their
      // place (first in, first out) without a younger one waiting on them while slots stand empty.
      if (active + ahead < maxConcurrent) {
        await tx.runs.markAdmitted(runId);
        return { admitted: true, ahead: 0, active: active + 1 };
      }
      return { admitted: false, ahead, active };
    });
  }

  /**
   * A run ended: wake its owner's oldest waiting runs so they try for the freed slot. Never the ending run itself,
   * which a follow-up may have queued again meanwhile: its execution is closing, and the signal would only fail the
   * task that closes it (its new execution claims a slot of its own).
   */
  async function releaseRunSlot({ owner }: { owner: string }): Promise<void> {
    const { client, info } = Context.current();
    const ending = info.workflowExecution?.workflowId;
    const waiting = (await store.runs.queued(owner, 6)).filter((run) => run.id !== ending).slice(0, 5);
    for (const run of waiting) {
      try {
        await client.workflow.getHandle(run.id).signal(admissionSignal);
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
    }
  }

  return { syncRunState, claimRunSlot, releaseRunSlot };
}
