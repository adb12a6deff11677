/**
 * A run's ending is recorded once, and a step that records it again answers as the first did. Bookkeeping runs as
 * local activities, whose markers are written with the workflow task that ran them: when that task fails (a signal
 * came in while it ran), the step runs again. An ending that ran again used to decide again: a follow-up sent after
 * the first decision, whose new execution the API had already started, reopened the closing execution too, and two
 * executions ran the lap (CI, test/integration/client.test.ts, seen as a cancel that found the run still running).
 * The row is written again while it says the run ended: a step before the ending in the same task runs again too.
 * And the ending run's release of its slot wakes the owner's oldest waiting runs, never itself.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Client } from '@temporalio/client';
import { createRunActivities } from '../../activities/run-activities';
import type { ActivityDeps } from '../../activities/deps';
import { eventKeys } from '../../contract/keys';
import type { Progress } from '../../contract/run';
import type { SyncRunStateArgs } from '../../contract/activity-io';
import { InMemoryBus } from '../../shared/bus/in-memory-bus';
import type { Store } from '../../shared/store';
import { openTestStore } from '../support/test-store';

const LIMITS = { maxSteps: 5, maxCostUsd: 1, maxDurationSec: 60 };
const USAGE = { inputTokens: 10, outputTokens: 5, costUsd: 0.01 };

describe('run endings', () => {
  let store: Store;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ store, close } = await openTestStore('sqlite'));
  });
  afterAll(() => close());

  const activities = () => createRunActivities({ store, bus: new InMemoryBus() } as unknown as ActivityDeps);

  async function runningRun(id: string, owner = 'ann'): Promise<void> {
    await store.runs.insert({ id, owner, goal: id, model: 'demo', approvals: 'none', limits: LIMITS });
    await store.runs.markAdmitted(id);
    await store.runs.updateState(id, { status: 'running', statusDetail: null });
  }

  function completion(runId: string, turn: number, lap?: number): SyncRunStateArgs {
    const progress: Progress = {
      runId,
      status: 'completed',
      statusDetail: null,
      waitingFor: null,
      model: 'demo',
      turn,
      segment: 1,
      usage: USAGE,
      limits: LIMITS,
      pendingApprovals: [],
      pendingInput: null,
      error: null,
      lastEventAt: null,
    };
    return { runId, progress, events: [{ key: eventKeys.completed(lap), type: 'run.completed', data: { turns: turn, usage: USAGE } }], ended: true, reopenable: true };
  }

  /** What the API does with a follow-up to an ended run: the message, and the run queued again in a new lap. */
  async function followUp(runId: string, messageId: string): Promise<number> {
    return store.transaction(async (tx) => {
      await tx.runs.lock(runId);
      await tx.userMessages.insert({ id: messageId, runId, by: 'ann', text: 'one more thing' });
      return tx.runs.reopen(runId, LIMITS);
    });
  }

  it('answers an ending that runs again as it was recorded, leaving a follow-up sent after it to the new execution', async () => {
    const { syncRunState } = activities();
    await runningRun('run_end_again');
    const first = await syncRunState(completion('run_end_again', 2));
    expect(first.reopened).toBeUndefined();
    expect(await store.runs.get('run_end_again')).toMatchObject({ status: 'completed' });

    const lap = await followUp('run_end_again', 'msg_after_ending');
    const again = await syncRunState(completion('run_end_again', 2));

    expect(again).toEqual({ at: first.at });
    // The follow-up's lap is untouched: queued for the execution the API starts, its message still waiting for it.
    expect(await store.runs.get('run_end_again')).toMatchObject({ status: 'queued', laps: lap, endedAt: null });
    expect((await store.userMessages.pending('run_end_again')).map((m) => m.id)).toEqual(['msg_after_ending']);
    const endings = (await store.events.list('run_end_again', { after: 0, limit: 100 })).filter((e) => e.type === 'run.completed');
    expect(endings).toHaveLength(1);
  });

  it('writes the ended state again when a step of the same task that ran again rewrote it first', async () => {
    const { syncRunState } = activities();
    await runningRun('run_end_rewritten');
    const first = await syncRunState(completion('run_end_rewritten', 2));
    // The task's earlier step (the run still running) runs again before the ending does.
    await store.runs.updateState('run_end_rewritten', { status: 'running', statusDetail: null, ended: false });
    expect(await syncRunState(completion('run_end_rewritten', 2))).toEqual({ at: first.at });
    expect(await store.runs.get('run_end_rewritten')).toMatchObject({ status: 'completed' });
    expect((await store.events.list('run_end_rewritten', { after: 0, limit: 100 })).filter((e) => e.type === 'run.completed')).toHaveLength(1);
  });

  it('still goes on in a new lap when a follow-up waits at an ending not recorded yet', async () => {
    const { syncRunState } = activities();
    await runningRun('run_end_reopened');
    await store.userMessages.insert({ id: 'msg_before_ending', runId: 'run_end_reopened', by: 'ann', text: 'and this' });
    const ended = await syncRunState(completion('run_end_reopened', 2));
    expect(ended).toMatchObject({ reopened: true });
    expect(await store.runs.get('run_end_reopened')).toMatchObject({ status: 'running', endedAt: null });
    expect(await store.events.hasKey('run_end_reopened', eventKeys.completed())).toBe(false);

    // The reopened lap's own ending is a new one, recorded as any.
    await store.userMessages.markAccepted(['msg_before_ending'], 3);
    const lapEnded = await syncRunState(completion('run_end_reopened', 3, ended.lap));
    expect(lapEnded.reopened).toBeUndefined();
    expect(await store.runs.get('run_end_reopened')).toMatchObject({ status: 'completed' });
  });

  it("wakes the owner's oldest waiting runs when a run releases its slot, but not the run itself", async () => {
    await runningRun('run_release_self', 'bea');
    for (const id of ['run_wait_1', 'run_wait_2']) {
      await store.runs.insert({ id, owner: 'bea', goal: id, model: 'demo', approvals: 'none', limits: LIMITS });
      await new Promise((r) => setTimeout(r, 2)); // distinct creation times: the queue's order
    }
    await activities().syncRunState(completion('run_release_self', 1));
    await followUp('run_release_self', 'msg_release_self'); // queued again, the oldest of bea's queued runs
    const signalled: string[] = [];
    const client = {
      withAbortSignal: <T>(_signal: AbortSignal, fn: () => Promise<T>) => fn(),
      workflow: { getHandle: (id: string) => ({ signal: async () => void signalled.push(id) }) },
    } as unknown as Client;
    const env = new MockActivityEnvironment({ workflowExecution: { workflowId: 'run_release_self', runId: 'r1' } }, { client });
    await env.run(activities().releaseRunSlot, { owner: 'bea' });
    expect(signalled).toEqual(['run_wait_1', 'run_wait_2']);
  });
});
