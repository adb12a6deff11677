/**
 * Delegation to sub-agents in the run loop, on the time-skipping test server with mocked activities: each
 * delegation is a child workflow (the same run workflow) started after the activity recorded its run; at most
 * maxParallelChildren run at once; a child that fails comes back as the call's tool error and the parent goes
 * on; a delegation the activity refuses (depth, count, input) starts nothing; cancelling the parent cancels its
 * children, each recording its own cancellation, and a parent cancelled while it records a child run starts no
 * workflow for it and ends its row cancelled; a paused parent starts no queued child until it is resumed; a child
 * claims no concurrency slot. The activities' side (rows,
 * events, the child's output as the result) is test/integration/subagents.test.ts.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import fs from 'node:fs';
import path from 'node:path';
import { SUBAGENT_BOUNDS } from '../../contract/run';
import { approvalDecisionSignal, pauseSignal, resumeSignal } from '../../contract/workflow-messages';
import { asksForTools, delegation, endsTurn, toolCall } from '../support/fake-run-activities';
import { startRunWorkflowEnv, type RunHandle, type RunWorkflowEnv } from '../support/run-workflow-env';
import { waitFor } from '../support/wait';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Whether a run's approval announcement has completed and its workflow task with it. The test server (unlike
 * Temporal's) refuses a workflow task that cancels an activity whose completion reached it meanwhile, and the run
 * sticks (see test/workflows/waits.test.ts): a child is cancelled only once this holds.
 */
async function announcementSettled(w: RunWorkflowEnv, runId: string): Promise<boolean> {
  const events = (await w.env.client.workflow.getHandle(runId).fetchHistory()).events ?? [];
  const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'announceApproval');
  const completed = events.some((e) => scheduled && Number(e.activityTaskCompletedEventAttributes?.scheduledEventId) === Number(scheduled.eventId));
  return completed && !!events.at(-1)?.workflowTaskCompletedEventAttributes;
}

/** Whether the run has taken (completed a workflow task after) the first signal it was sent. */
async function signalTaken(handle: RunHandle): Promise<boolean> {
  const events = (await handle.fetchHistory()).events ?? [];
  const signalled = events.findIndex((e) => e.workflowExecutionSignaledEventAttributes);
  return signalled >= 0 && events.slice(signalled).some((e) => e.workflowTaskCompletedEventAttributes);
}

/** With RECORD_HISTORIES_DIR set, keeps this run's history as a replay fixture. */
async function recordFixture(handle: RunHandle, label: string): Promise<void> {
  const dir = process.env.RECORD_HISTORIES_DIR;
  if (!dir) return;
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `subagents--${label}--0.json`), JSON.stringify(JSON.parse(historyToJSON(await handle.fetchHistory()))));
}

describe('agentRunWorkflow: sub-agents', () => {
  let w: RunWorkflowEnv;
  beforeAll(async () => {
    w = await startRunWorkflowEnv();
  });
  afterAll(async () => {
    await w?.close();
  });

  it('runs an answer\'s delegations as child runs, at most maxParallelChildren at once, then goes on with their results', async () => {
    const calls = Array.from({ length: 6 }, (_, i) => delegation(1, 'researcher', i));
    const { run, handle } = await w.start({
      model: ({ turn }) => (turn === 1 ? asksForTools([toolCall(1, 'read_file', 'read', 9), ...calls]) : endsTurn()),
      // Each child's model call takes a while (real time), so children that may overlap do.
      children: () => ({ model: async () => (await sleep(300), endsTurn()) }),
    });

    await expect(handle.result()).resolves.toMatchObject({ status: 'completed', turns: 2 });

    expect(run.calls.runTool.map((c) => c.toolUseId)).toEqual(['toolu_1_9']); // the ordinary call ran as a tool
    expect(run.calls.startChildRun.map((c) => c.toolUseId)).toEqual(calls.map((c) => c.toolUseId));
    expect(run.children).toHaveLength(6);
    expect(run.maxChildrenInFlight).toBe(SUBAGENT_BOUNDS.maxParallelChildren);
    for (const child of run.children) {
      expect(child.eventTypes()).toEqual(['run.started', 'run.completed']);
      // A tree holds one slot, its root's: a child claims and releases none.
      expect(child.calls.claimRunSlot).toHaveLength(0);
      expect(child.calls.releaseRunSlot).toHaveLength(0);
    }
    expect(run.calls.settleChildRun.map((c) => c.ended.status)).toEqual(Array(6).fill('completed'));
    // The next model call came after every child had ended.
    expect(run.calls.callModel.map((c) => c.turn)).toEqual([1, 2]);
  });

  it("takes its parallel bound from the run's settings (the agent's, clamped by the server) when it carries one", async () => {
    const calls = Array.from({ length: 5 }, (_, i) => delegation(1, 'researcher', i));
    const { run, handle } = await w.start(
      { model: ({ turn }) => (turn === 1 ? asksForTools(calls) : endsTurn()), children: () => ({ model: async () => (await sleep(200), endsTurn()) }) },
      { settings: { maxParallelChildren: 2 } },
    );

    await expect(handle.result()).resolves.toMatchObject({ status: 'completed', turns: 2 });
    expect(run.children).toHaveLength(5);
    expect(run.maxChildrenInFlight).toBe(2);
  });

  /**
   * A parent delegating twice with one lane, paused (by alice) while its first child runs: once that child has
   * ended, the parent holds the second delegation, paused.
   */
  async function pausedWithAQueuedDelegation() {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const started = await w.start(
      {
        model: ({ turn }) => (turn === 1 ? asksForTools([delegation(1, 'researcher'), delegation(1, 'writer', 1)]) : endsTurn()),
        // The first child answers once the test lets it (real time), after the parent has taken its pause.
        children: ({ n }) => (n === 0 ? { model: async () => (await released, endsTurn()) } : {}),
      },
      { settings: { maxParallelChildren: 1 } },
    );
    const { run, handle } = started;
    await waitFor(() => run.children[0]?.calls.callModel.length === 1, { timeoutMs: 10_000, what: 'the first child to call its model' });
    await handle.signal(pauseSignal, { by: 'alice' });
    await waitFor(() => signalTaken(handle), { timeoutMs: 5000, what: 'the parent to take the pause' });
    release();
    await waitFor(() => run.status === 'paused', { timeoutMs: 10_000, what: 'the parent to hold its queued delegation, paused' });
    return started;
  }

  it('holds a queued delegation while it is paused (the pause its own), starting it only once resumed; the running child goes on', async () => {
    const { run, handle } = await pausedWithAQueuedDelegation();
    // The running child went on to its end; the queued one was not started.
    expect(run.calls.settleChildRun.map((c) => c.toolUseId)).toEqual(['toolu_1_0']);
    expect(run.calls.startChildRun.map((c) => c.toolUseId)).toEqual(['toolu_1_0']);
    expect(run.children).toHaveLength(1);
    expect(run.eventsOf('run.paused').map((e) => e.data)).toEqual([{ turn: 1, by: 'alice', reason: 'paused on request', cause: 'request' }]);

    await handle.signal(resumeSignal, { by: 'bob' });
    await expect(handle.result()).resolves.toMatchObject({ status: 'completed', turns: 2 });

    expect(run.calls.startChildRun.map((c) => c.toolUseId)).toEqual(['toolu_1_0', 'toolu_1_1']);
    expect(run.calls.settleChildRun.map((c) => c.ended.status)).toEqual(['completed', 'completed']);
    // One pause, taken at the queued delegation, not again at the turn's end.
    expect(run.eventTypes()).toEqual(['run.started', 'run.paused', 'run.resumed', 'run.completed']);
    expect(run.eventsOf('run.resumed').map((e) => e.data)).toEqual([{ turn: 1, by: 'bob' }]);
    expect(run.calls.callModel.map((c) => c.turn)).toEqual([1, 2]);
    await recordFixture(handle, 'paused-before-a-queued-child');
  });

  it('holds its queued delegations once however many lanes reach the pause, and resumes them all', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const calls = Array.from({ length: 4 }, (_, i) => delegation(1, 'researcher', i));
    const { run, handle } = await w.start(
      { model: ({ turn }) => (turn === 1 ? asksForTools(calls) : endsTurn()), children: ({ n }) => (n < 2 ? { model: async () => (await released, endsTurn()) } : {}) },
      { settings: { maxParallelChildren: 2 } },
    );
    await waitFor(() => run.children.length === 2 && run.children.every((c) => c.calls.callModel.length === 1), { timeoutMs: 10_000, what: 'both first children to call their models' });
    await handle.signal(pauseSignal, { by: 'alice' });
    await waitFor(() => signalTaken(handle), { timeoutMs: 5000, what: 'the parent to take the pause' });
    release();

    await waitFor(() => run.status === 'paused' && run.calls.settleChildRun.length === 2, { timeoutMs: 10_000, what: 'both lanes to hold, paused' });
    expect(run.calls.startChildRun).toHaveLength(2);
    await handle.signal(resumeSignal, { by: 'alice' });
    await expect(handle.result()).resolves.toMatchObject({ status: 'completed', turns: 2 });

    expect(run.calls.startChildRun.map((c) => c.toolUseId)).toEqual(calls.map((c) => c.toolUseId));
    expect(run.eventTypes()).toEqual(['run.started', 'run.paused', 'run.resumed', 'run.completed']);
  });

  it('holds a child run it was recording when it was paused: the child\'s workflow starts only once the parent is resumed', async () => {
    const parent: { handle?: RunHandle } = {};
    const { run, handle } = await w.start({
      model: ({ turn }) => (turn === 1 ? asksForTools([delegation(1, 'researcher')]) : endsTurn()),
      // The parent is paused while the child run is being recorded (a local activity: the pause reaches its history
      // when the open workflow task heartbeats, as the cancellation does in the test below).
      children: () => ({
        recording: async () => {
          await parent.handle!.signal(pauseSignal, { by: 'alice' });
          await waitFor(async () => ((await parent.handle!.fetchHistory()).events ?? []).some((e) => e.workflowExecutionSignaledEventAttributes), {
            timeoutMs: 25_000,
            what: 'the pause to reach the parent',
          });
        },
      }),
    });
    parent.handle = handle;

    await waitFor(() => run.status === 'paused', { timeoutMs: 30_000, what: 'the parent to hold the recorded child, paused' });
    const history = (await handle.fetchHistory()).events ?? [];
    expect(history.filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes)).toHaveLength(0);
    expect(run.children[0]!.states).toHaveLength(0);

    await handle.signal(resumeSignal, { by: 'alice' });
    await expect(handle.result()).resolves.toMatchObject({ status: 'completed', turns: 2 });
    expect(run.children[0]!.eventTypes()).toEqual(['run.started', 'run.completed']);
    expect(run.eventTypes()).toEqual(['run.started', 'run.paused', 'run.resumed', 'run.completed']);
    await recordFixture(handle, 'paused-while-recording-a-child');
  });

  it('is cancelled while it holds a queued delegation, paused: that delegation never starts', async () => {
    const { run, handle } = await pausedWithAQueuedDelegation();

    await handle.cancel();
    await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
    expect(run.status).toBe('cancelled');
    expect(run.calls.startChildRun.map((c) => c.toolUseId)).toEqual(['toolu_1_0']);
    expect(run.calls.cancelUnstartedChild).toHaveLength(0);
  });

  it('starts no queued delegation when its time cap passes while it is held, paused: the call is a tool error and the run stops on the cap', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const { run, handle } = await w.start(
      {
        model: ({ turn }) => (turn === 1 ? asksForTools([delegation(1, 'researcher'), delegation(1, 'writer', 1)]) : endsTurn()),
        children: ({ n }) => (n === 0 ? { model: async () => (await released, endsTurn()) } : {}),
      },
      { settings: { maxParallelChildren: 1 }, limits: { maxDurationSec: 3600 } },
    );
    await waitFor(() => run.children[0]?.calls.callModel.length === 1, { timeoutMs: 10_000, what: 'the first child to call its model' });
    await handle.signal(pauseSignal, { by: 'alice' });
    await waitFor(() => signalTaken(handle), { timeoutMs: 5000, what: 'the parent to take the pause' });
    release();
    await waitFor(() => run.status === 'paused', { timeoutMs: 10_000, what: 'the parent to hold its queued delegation, paused' });

    // Awaiting the result lets the test server skip time: the hour passes while the parent is held.
    await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
    expect(run.calls.startChildRun.map((c) => c.toolUseId)).toEqual(['toolu_1_0']);
    expect(run.calls.recordToolResult.map((r) => [r.toolUseId, r.isError])).toEqual([['toolu_1_1', true]]);
    expect(run.eventsOf('limit.exceeded').map((e) => e.data)).toEqual([{ limit: 'maxDurationSec', value: 3600 }]);
    expect(run.calls.callModel).toHaveLength(1);
  });

  it('returns a failed child to the parent as a tool error, and the parent goes on', async () => {
    const { run, handle } = await w.start({
      model: ({ turn }) => (turn === 1 ? asksForTools([delegation(1, 'researcher'), delegation(1, 'writer', 1)]) : endsTurn()),
      children: ({ name }) => (name === 'writer' ? { model: () => Promise.reject(ApplicationFailure.nonRetryable('the model is gone', 'ModelUnavailable')) } : {}),
    });

    await expect(handle.result()).resolves.toMatchObject({ status: 'completed', turns: 2 });

    const ended = Object.fromEntries(run.calls.settleChildRun.map((c) => [c.toolUseId, c.ended]));
    expect(ended['toolu_1_0']).toEqual({ status: 'completed' });
    expect(ended['toolu_1_1']).toMatchObject({ status: 'failed' });
    expect(run.children[1]!.eventTypes()).toEqual(['run.started', 'run.failed']);
  });

  it('starts no child for a delegation the activity refuses (depth, count or input), which is the call\'s tool error', async () => {
    const { run, handle } = await w.start({
      model: ({ turn }) => (turn === 1 ? asksForTools([delegation(1, 'researcher')]) : endsTurn()),
      children: () => ({ refuse: 'Not delegated: researcher would run at depth 4 of its run tree, past the maximum of 3.' }),
    });

    await expect(handle.result()).resolves.toMatchObject({ status: 'completed', turns: 2 });
    expect(run.calls.startChildRun).toHaveLength(1);
    expect(run.children).toHaveLength(0);
    expect(run.calls.settleChildRun).toHaveLength(0);
  });

  it('asks for approval of a delegation under the write policy (it spends money), and records a rejected one skipped', async () => {
    const { run, handle } = await w.start({ model: ({ turn }) => (turn === 1 ? asksForTools([delegation(1, 'researcher')]) : endsTurn()) }, { approvals: 'write' });

    await waitFor(() => run.status === 'waiting_approval', { timeoutMs: 5000, what: 'the delegation to wait for approval' });
    const { approvalId } = run.calls.requestApproval[0]!;
    await handle.signal(approvalDecisionSignal, { approvalId, decision: 'reject', by: 'alice', channel: 'api' });

    await expect(handle.result()).resolves.toMatchObject({ status: 'completed' });
    expect(run.calls.startChildRun).toHaveLength(0);
    expect(run.calls.recordToolResult.map((r) => [r.toolUseId, r.isError])).toEqual([['toolu_1_0', true]]);
  });

  it('returns a child cancelled on its own (not with its parent) as a tool error, and the parent goes on', async () => {
    const { run, handle } = await w.start({
      model: ({ turn }) => (turn === 1 ? asksForTools([delegation(1, 'writer')]) : endsTurn()),
      children: () => ({ approvals: 'write', model: ({ turn }) => (turn === 1 ? asksForTools([toolCall(1, 'write_file', 'write')]) : endsTurn()) }),
    });
    await waitFor(() => run.children[0]?.status === 'waiting_approval', { timeoutMs: 10_000, what: 'the child to wait for approval' });
    await waitFor(() => announcementSettled(w, run.children[0]!.runId), { timeoutMs: 5000, what: "the child's approval announcement to complete" });

    await w.env.client.workflow.getHandle(run.children[0]!.runId).cancel();

    await expect(handle.result()).resolves.toMatchObject({ status: 'completed', turns: 2 });
    expect(run.children[0]!.status).toBe('cancelled');
    expect(run.calls.settleChildRun.map((c) => c.ended.status)).toEqual(['cancelled']);
  });

  it('cancels its children when it is cancelled: each records its own cancellation before the parent does', async () => {
    const { run, handle } = await w.start({
      model: ({ turn }) => (turn === 1 ? asksForTools([delegation(1, 'researcher'), delegation(1, 'writer', 1)]) : endsTurn()),
      // Each child waits for a human to approve a write (time stands still while the test waits).
      children: () => ({ approvals: 'write', model: ({ turn }) => (turn === 1 ? asksForTools([toolCall(1, 'write_file', 'write')]) : endsTurn()) }),
    });
    await waitFor(() => run.children.length === 2 && run.children.every((c) => c.status === 'waiting_approval'), { timeoutMs: 10_000, what: 'both children to wait for approval' });
    for (const child of run.children) await waitFor(() => announcementSettled(w, child.runId), { timeoutMs: 5000, what: "the children's approval announcements to complete" });

    await handle.cancel();
    const err: unknown = await handle.result().catch((e: unknown) => e);

    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(run.status).toBe('cancelled');
    for (const child of run.children) {
      expect(child.status).toBe('cancelled');
      expect(child.eventTypes()).toContain('run.cancelled');
    }
    // The parent did not treat its own cancellation as its children failing.
    expect(run.calls.settleChildRun).toHaveLength(0);
  });

  it('starts no workflow for a child run it was recording when it was cancelled, and ends that run cancelled', async () => {
    const parent: { handle?: RunHandle } = {};
    const { run, handle } = await w.start({
      model: ({ turn }) => (turn === 1 ? asksForTools([delegation(1, 'researcher')]) : endsTurn()),
      // The parent is cancelled while the child run is being recorded: the cancellation is in its history before
      // the record is done. (Recorded by a local activity, the workflow task stays open until it heartbeats, after
      // 80% of its 10 s timeout: only then does the cancellation reach the history.)
      children: () => ({
        recording: async () => {
          await parent.handle!.cancel();
          await waitFor(async () => ((await parent.handle!.fetchHistory()).events ?? []).some((e) => e.workflowExecutionCancelRequestedEventAttributes), {
            timeoutMs: 25_000,
            what: 'the cancellation to reach the parent',
          });
        },
      }),
    });
    parent.handle = handle;

    await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
    expect(run.status).toBe('cancelled');
    const childRunId = `${run.runId}-toolu_1_0`;
    // Recorded, so its row exists: it is ended as cancelled, and no workflow was started for it.
    expect(run.calls.startChildRun).toHaveLength(1);
    expect(run.calls.cancelUnstartedChild).toEqual([{ parentRunId: run.runId, turn: 1, toolUseId: 'toolu_1_0', childRunId, agent: 'researcher' }]);
    const history = (await handle.fetchHistory()).events ?? [];
    expect(history.filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes)).toHaveLength(0);
    expect(run.children[0]!.states).toHaveLength(0);
    expect(run.calls.settleChildRun).toHaveLength(0);
    await recordFixture(handle, 'cancelled-while-recording-a-child');
  });

  it('fails at once when a delegation\'s activity gives up, cancelling its other children, each recording it first', async () => {
    const { run, handle } = await w.start({
      model: ({ turn }) => (turn === 1 ? asksForTools([delegation(1, 'writer'), delegation(1, 'researcher', 1)]) : endsTurn()),
      // The writer waits for a human (time stands still while the test waits); the researcher ends a while later
      // (real time), and settling its call gives up.
      children: ({ name }) =>
        name === 'writer'
          ? { approvals: 'write', model: ({ turn }) => (turn === 1 ? asksForTools([toolCall(1, 'write_file', 'write')]) : endsTurn()) }
          : { settleFails: 'run vanished', model: async () => (await sleep(2000), endsTurn()) },
    });
    const writer = () => run.children.find((c) => c.runId.endsWith('toolu_1_0'));
    await waitFor(() => writer()?.status === 'waiting_approval', { timeoutMs: 10_000, what: 'the writer to wait for approval' });
    await waitFor(() => announcementSettled(w, writer()!.runId), { timeoutMs: 5000, what: "the writer's approval announcement to complete" });

    // Not left waiting for the human the writer waits for.
    await waitFor(() => run.status === 'failed', { timeoutMs: 15_000, what: 'the run to fail' });
    await expect(handle.result()).rejects.toThrow();

    expect(run.calls.settleChildRun.map((c) => c.toolUseId)).toEqual(['toolu_1_1']);
    expect(writer()!.status).toBe('cancelled');
    const at = (r: typeof run, status: string) => r.syncedSeq[r.states.findIndex((s) => s.progress.status === status)]!;
    expect(at(writer()!, 'cancelled')).toBeLessThan(at(run, 'failed'));
  });

  it('records its own cancellation only after every child has recorded theirs, however long one takes', async () => {
    const { run, handle } = await w.start({
      model: ({ turn }) => (turn === 1 ? asksForTools([delegation(1, 'researcher'), delegation(1, 'writer', 1)]) : endsTurn()),
      // Both wait for a human; the second takes a while (real time) to record its cancellation, so a parent that
      // went on at the first child's cancellation would record its own before the second's.
      children: ({ n }) => ({ approvals: 'write', cancellingTakesMs: n === 1 ? 1500 : 0, model: ({ turn }) => (turn === 1 ? asksForTools([toolCall(1, 'write_file', 'write')]) : endsTurn()) }),
    });
    await waitFor(() => run.children.length === 2 && run.children.every((c) => c.status === 'waiting_approval'), { timeoutMs: 10_000, what: 'both children to wait for approval' });
    for (const child of run.children) await waitFor(() => announcementSettled(w, child.runId), { timeoutMs: 5000, what: "the children's approval announcements to complete" });

    await handle.cancel();
    await handle.result().catch(() => undefined);

    const cancelledAt = (r: typeof run) => r.syncedSeq[r.states.findIndex((s) => s.progress.status === 'cancelled')];
    expect(run.status).toBe('cancelled');
    const parentAt = cancelledAt(run)!;
    for (const child of run.children) {
      expect(child.status).toBe('cancelled');
      expect(cancelledAt(child)).toEqual(expect.any(Number)); // recorded, not still being recorded
      expect(cancelledAt(child)).toBeLessThan(parentAt);
    }
    // The history says it too: the parent's every child ended (cancelled) before the parent's last task.
    const history = (await handle.fetchHistory()).events ?? [];
    expect(history.filter((e) => e.childWorkflowExecutionCanceledEventAttributes)).toHaveLength(2);
  });
});
