/**
 * The run loop's waits, on the time-skipping test server with mocked activities: for a human (an approval that
 * expires after a day, one approved by a signal), for the model's capacity (a durable timer, then the call again),
 * for tomorrow's budget (a pause that ends by itself at the next UTC day), for a pause to be lifted, and what a
 * cancel settles. Hours of waiting pass in milliseconds; the end-to-end versions are in test/integration
 * (human-in-the-loop, model-capacity, budgets).
 */
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import fs from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { eventKeys } from '../../contract/keys';
import { approvalDecisionSignal, pauseSignal, resumeSignal, userInputSignal } from '../../contract/workflow-messages';
import { ASK_USER_TOOL } from '../../contract/run';
import { asksForTools, endsTurn, toolCall, type FakeRun } from '../support/fake-run-activities';
import { startRunWorkflowEnv, type RunHandle, type RunWorkflowEnv } from '../support/run-workflow-env';
import { activityCalls } from '../support/history-calls';
import { waitFor } from '../support/wait';

const HOUR_MS = 3600_000;

/** Turn 1 asks for one `risk` call of `name`; turn 2 is the last. */
const oneToolThenDone =
  (name = 'read_file', risk: 'read' | 'write' = 'read') =>
  ({ turn }: { turn: number }) =>
    turn === 1 ? asksForTools([toolCall(1, name, risk)]) : endsTurn();

/** The run's approvers' announcement (a notify activity) completed, and the run has taken that in. */
async function announcementSettled(handle: RunHandle): Promise<boolean> {
  const events = (await handle.fetchHistory()).events ?? [];
  const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'announceApproval');
  const completed = events.some((e) => scheduled && Number(e.activityTaskCompletedEventAttributes?.scheduledEventId) === Number(scheduled.eventId));
  return completed && !!events.at(-1)?.workflowTaskCompletedEventAttributes;
}

/** With RECORD_HISTORIES_DIR set (npm run record-histories), keeps this run's history as a replay fixture. */
async function recordFixture(handle: RunHandle, label: string): Promise<void> {
  const dir = process.env.RECORD_HISTORIES_DIR;
  if (!dir) return;
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `waits--${label}--0.json`), JSON.stringify(JSON.parse(historyToJSON(await handle.fetchHistory()))));
}

/** The local activities the run's history holds (their markers), in order. */
async function localActivityNames(handle: RunHandle): Promise<string[]> {
  return activityCalls((await handle.fetchHistory()).events ?? [])
    .filter((c) => c.local)
    .map((c) => c.type);
}

/** Clock time between the run's model calls `a` and `b` (0-based). */
const between = (run: FakeRun, a: number, b: number) => run.modelCallTimesMs[b]! - run.modelCallTimesMs[a]!;

describe('agentRunWorkflow: waits', () => {
  let w: RunWorkflowEnv;
  beforeAll(async () => {
    w = await startRunWorkflowEnv();
  });
  afterAll(async () => {
    await w?.close();
  });

  it('lets an approval nobody answers expire after a day: the call is skipped, its owner reminded halfway', async () => {
    const day = 24 * 3600;
    const { run, handle } = await w.start({ model: oneToolThenDone('write_file', 'write') }, { approvals: 'write', approvalTimeoutSec: day, limits: { maxDurationSec: 7 * day } });

    const result = await handle.result();

    expect(result.status).toBe('completed');
    const [request] = run.calls.requestApproval;
    expect(request).toMatchObject({ runId: run.runId, kind: 'tool', turn: 1, toolUseId: 'toolu_1_0', timeoutSec: day });
    expect(run.calls.remind).toEqual([{ runId: run.runId, kind: 'approval', requestId: request!.approvalId }]);
    expect(run.calls.settleApproval).toEqual([
      { runId: run.runId, approvalId: request!.approvalId, proposed: { decision: 'expire', by: 'system', channel: 'system' }, resume: expect.objectContaining({ status: 'running', waitingFor: null }) },
    ]);
    expect(run.calls.runTool).toEqual([]);
    expect(run.calls.recordToolResult).toEqual([
      expect.objectContaining({ turn: 1, toolUseId: 'toolu_1_0', isError: true, content: 'No one approved this write_file call before the approval expired, so it did not run.' }),
    ]);
    expect(run.statuses().map((s) => s.status)).toEqual(['running', 'waiting_approval', 'running', 'completed']);
    // The day passed on the server's clock before the model was asked again.
    expect(between(run, 0, 1)).toBeGreaterThanOrEqual(day * 1000);
  });

  it('runs a call once its approval arrives as a signal', async () => {
    const { run, handle } = await w.start({ model: oneToolThenDone('write_file', 'write') }, { approvals: 'write' });
    // Time stands still while the test waits here: the approval cannot expire under it.
    await waitFor(() => run.status === 'waiting_approval', { timeoutMs: 5000, what: 'the run to wait for approval' });
    const { approvalId } = run.calls.requestApproval[0]!;

    await handle.signal(approvalDecisionSignal, { approvalId, decision: 'approve', by: 'alice', channel: 'api' });
    const result = await handle.result();

    expect(result.status).toBe('completed');
    expect(run.calls.settleApproval[0]!.proposed).toEqual({ decision: 'approve', by: 'alice', channel: 'api' });
    expect(run.calls.runTool).toEqual([{ runId: run.runId, turn: 1, toolUseId: 'toolu_1_0', rerunInDoubt: false }]);
    expect(run.calls.remind).toEqual([]);
    // Back to running in the verdict's own transaction: one local activity, no separate state change.
    expect(run.calls.settleApproval[0]!.resume).toMatchObject({ status: 'running', waitingFor: null });
    expect(await localActivityNames(handle)).toEqual(['claimRunSlot', 'syncRunState', 'requestApproval', 'syncRunState', 'settleApproval', 'syncRunState', 'releaseRunSlot']);
    await recordFixture(handle, 'approval-settle-resumes');
  });

  it('takes an answer to a question and goes on, back to running in the answer’s own transaction', async () => {
    const { run, handle } = await w.start({ model: ({ turn }) => (turn === 1 ? asksForTools([toolCall(1, ASK_USER_TOOL)]) : endsTurn()) });
    await waitFor(() => run.status === 'waiting_input', { timeoutMs: 5000, what: 'the run to wait for an answer' });
    const { requestId } = run.calls.requestInput[0]!;

    await handle.signal(userInputSignal, { requestId, text: 'notes.md', by: 'alice' });
    const result = await handle.result();

    expect(result.status).toBe('completed');
    expect(run.calls.settleInput).toEqual([
      { runId: run.runId, requestId, turn: 1, toolUseId: 'toolu_1_0', answer: { text: 'notes.md', by: 'alice' }, resume: expect.objectContaining({ status: 'running', waitingFor: null }) },
    ]);
    expect(run.statuses().map((s) => s.status)).toEqual(['running', 'waiting_input', 'running', 'completed']);
    expect(await localActivityNames(handle)).toEqual(['claimRunSlot', 'syncRunState', 'requestInput', 'syncRunState', 'settleInput', 'syncRunState', 'releaseRunSlot']);
    await recordFixture(handle, 'question-settle-resumes');
  });

  it('waits out a capacity deferral on a timer, then calls the model again for the same turn', async () => {
    const { run, handle } = await w.start({ model: ({ n }) => (n === 0 ? { deferred: 'capacity', waitMs: 30_000, limit: 'input_tpm' } : endsTurn()) });

    const result = await handle.result();

    expect(result).toMatchObject({ status: 'completed', turns: 1 });
    expect(run.calls.callModel.map((c) => c.turn)).toEqual([1, 1]);
    expect(between(run, 0, 1)).toBeGreaterThanOrEqual(30_000);
    expect(run.eventsOf('model.throttled').map((e) => e.data)).toEqual([{ turn: 1, waitMs: 30_000, limit: 'input_tpm' }]);
    expect(run.statuses()).toEqual([
      { status: 'running', waitingFor: null },
      { status: 'running', waitingFor: 'capacity' },
      { status: 'running', waitingFor: null },
      { status: 'completed', waitingFor: null },
    ]);
  });

  it('pauses a run whose owner spent the day’s budget until the next UTC day, then goes on by itself', async () => {
    const untilTomorrowMs = 7 * HOUR_MS;
    const { run, handle } = await w.start({
      model: ({ n }) => (n === 0 ? { deferred: 'budget', resumeInMs: untilTomorrowMs, spentUsd: 10.5, budgetUsd: 10 } : endsTurn()),
    });

    const result = await handle.result();

    expect(result.status).toBe('completed');
    expect(run.calls.callModel.map((c) => c.turn)).toEqual([1, 1]);
    expect(between(run, 0, 1)).toBeGreaterThanOrEqual(untilTomorrowMs);
    expect(run.eventsOf('limit.exceeded').map((e) => e.data)).toEqual([{ limit: 'userDailyBudget', value: 10 }]);
    const [paused] = run.eventsOf('run.paused');
    expect(paused!.data).toMatchObject({ turn: 1, by: 'system', cause: 'budget' });
    expect(paused!.data.reason).toMatch(/^run_.* has spent \$10\.50 of their \$10\.00 daily model budget; the run continues when the next UTC day starts/);
    expect(run.eventsOf('run.resumed').map((e) => e.data)).toEqual([{ turn: 1, by: 'system' }]);
    expect(run.statuses()).toEqual([
      { status: 'running', waitingFor: null },
      { status: 'paused', waitingFor: 'budget' },
      { status: 'running', waitingFor: null },
      { status: 'completed', waitingFor: null },
    ]);
  });

  it("pauses a run whose team spent the day's budget, saying it is the team's", async () => {
    const { run, handle } = await w.start({
      model: ({ n }) => (n === 0 ? { deferred: 'budget', resumeInMs: 3 * HOUR_MS, spentUsd: 50.25, budgetUsd: 50, team: 'payments' } : endsTurn()),
    });

    expect((await handle.result()).status).toBe('completed');
    expect(run.eventsOf('limit.exceeded').map((e) => e.data)).toEqual([{ limit: 'teamDailyBudget', value: 50 }]);
    expect(run.eventsOf('run.paused')[0]!.data.reason).toMatch(/^team payments has spent \$50\.25 of its \$50\.00 daily model budget; the run continues when the next UTC day starts/);
    await recordFixture(handle, 'team-budget');
  });

  // The store can show a pause before the workflow has taken it: its worker wrote the pause and died before the
  // workflow task that decided it completed. A resume sent then reaches the workflow before the pause does.
  it('keeps a resume that names a pause the run has not taken yet, and ends that pause with it', async () => {
    const untilTomorrowMs = 7 * HOUR_MS;
    const started: { handle?: RunHandle } = {};
    const { run, handle } = await w.start({
      model: async ({ n }) => {
        if (n > 0) return endsTurn();
        await started.handle!.signal(resumeSignal, { by: 'ann', pause: eventKeys.paused(0, 1, 1) });
        return { deferred: 'budget', resumeInMs: untilTomorrowMs, spentUsd: 10.5, budgetUsd: 10 };
      },
    });
    started.handle = handle;

    const result = await handle.result();

    expect(result.status).toBe('completed');
    expect(run.eventsOf('run.resumed').map((e) => e.data)).toEqual([{ turn: 1, by: 'ann' }]);
    expect(between(run, 0, 1)).toBeLessThan(untilTomorrowMs);
    await recordFixture(handle, 'early-resume');
  });

  it('ignores a resume naming another pause: the run waits for its own', async () => {
    const untilTomorrowMs = 7 * HOUR_MS;
    const started: { handle?: RunHandle } = {};
    const { run, handle } = await w.start({
      model: async ({ n }) => {
        if (n > 0) return endsTurn();
        await started.handle!.signal(resumeSignal, { by: 'ann', pause: eventKeys.paused(0, 1, 2) });
        return { deferred: 'budget', resumeInMs: untilTomorrowMs, spentUsd: 10.5, budgetUsd: 10 };
      },
    });
    started.handle = handle;

    expect((await handle.result()).status).toBe('completed');
    expect(run.eventsOf('run.resumed').map((e) => e.data)).toEqual([{ turn: 1, by: 'system' }]);
    expect(between(run, 0, 1)).toBeGreaterThanOrEqual(untilTomorrowMs);
  });

  it('holds a paused run at the next step boundary until it is resumed', async () => {
    let release!: () => void;
    const firstCall = new Promise<void>((resolve) => (release = resolve));
    const { run, handle } = await w.start({
      model: async ({ n, turn }) => {
        if (n === 0) await firstCall;
        return oneToolThenDone()({ turn });
      },
    });
    await waitFor(() => run.calls.callModel.length === 1, { timeoutMs: 5000, what: 'the first model call' });

    await handle.signal(pauseSignal, { by: 'alice' });
    release();
    await waitFor(() => run.status === 'paused', { timeoutMs: 5000, what: 'the run to pause' });
    // The turn under way finished (its tool ran); the next did not start.
    expect(run.calls.runTool).toHaveLength(1);
    expect(run.calls.callModel).toHaveLength(1);

    await handle.signal(resumeSignal, { by: 'bob' });
    const result = await handle.result();

    expect(result).toMatchObject({ status: 'completed', turns: 2 });
    expect(run.calls.callModel.map((c) => c.turn)).toEqual([1, 2]);
    expect(run.eventsOf('run.paused').map((e) => e.data)).toEqual([{ turn: 2, by: 'alice', reason: 'paused on request', cause: 'request' }]);
    expect(run.eventsOf('run.resumed').map((e) => e.data)).toEqual([{ turn: 2, by: 'bob' }]);
  });

  it('ends a run left paused when its time cap passes', async () => {
    let release!: () => void;
    const firstCall = new Promise<void>((resolve) => (release = resolve));
    const { run, handle } = await w.start(
      {
        model: async ({ n, turn }) => {
          if (n === 0) await firstCall;
          return oneToolThenDone()({ turn });
        },
      },
      { limits: { maxDurationSec: 2 * 3600 } },
    );
    await waitFor(() => run.calls.callModel.length === 1, { timeoutMs: 5000, what: 'the first model call' });
    await handle.signal(pauseSignal, { by: 'alice' });
    release();

    const err: unknown = await handle.result().then(
      () => new Error('the run ended without failing'),
      (e: unknown) => e,
    );

    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause).toBeInstanceOf(ApplicationFailure);
    expect((err as WorkflowFailedError).cause!.message).toBe('ran past the 7200s time limit');
    expect(run.calls.callModel).toHaveLength(1);
    expect(run.eventsOf('limit.exceeded').map((e) => e.data)).toEqual([{ limit: 'maxDurationSec', value: 7200 }]);
    expect(run.statuses().map((s) => s.status)).toEqual(['running', 'paused', 'failed']);
  });

  it('settles what a cancelled run was waiting for, records the cancel and frees its slot', async () => {
    const { run, handle } = await w.start({ model: oneToolThenDone('write_file', 'write') }, { approvals: 'write' });
    await waitFor(() => run.status === 'waiting_approval', { timeoutMs: 5000, what: 'the run to wait for approval' });
    const { approvalId } = run.calls.requestApproval[0]!;
    // The test server (unlike Temporal's) refuses a workflow task that cancels an activity whose completion reached
    // it meanwhile (ACTIVITY_UNKNOWN) and the run sticks; so cancel once the approvers' announcement is settled.
    await waitFor(() => announcementSettled(handle), { timeoutMs: 5000, what: 'the approval announcement to complete' });

    await handle.cancel();
    const err: unknown = await handle.result().then(
      () => new Error('the run ended without being cancelled'),
      (e: unknown) => e,
    );

    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    expect(run.calls.settleApproval).toEqual([
      { runId: run.runId, approvalId, proposed: { decision: 'reject', by: 'system', channel: 'system', comment: 'the run was cancelled' } },
    ]);
    expect(run.calls.runTool).toEqual([]);
    expect(run.eventsOf('run.cancelled').map((e) => e.data)).toEqual([{ turn: 1 }]);
    expect(run.status).toBe('cancelled');
    expect(run.calls.releaseRunSlot).toEqual([{ owner: run.runId }]);
  });
});
