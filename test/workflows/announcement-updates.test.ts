/**
 * A decided approval's run goes on at once: the approvers' announcement (Slack) is updated beside what the run does
 * next, not before it, and not at all when nothing was announced; a run that ends (completes, stops at a refused cost
 * checkpoint, hands off) with an update still in flight ends after it, never racing it. On the time-skipping test
 * server with mocked activities; a slow Slack is a promise the test resolves.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { approvalDecisionSignal } from '../../contract/workflow-messages';
import { asksForTools, endsTurn, toolCall } from '../support/fake-run-activities';
import { startRunWorkflowEnv, type RunHandle, type RunWorkflowEnv } from '../support/run-workflow-env';
import { waitFor } from '../support/wait';

const EventType = temporal.api.enums.v1.EventType;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** Turn 1 asks for one write; turn 2 is the last. */
const oneWriteThenDone = ({ turn }: { turn: number }) => (turn === 1 ? asksForTools([toolCall(1, 'write_file', 'write')]) : endsTurn());

/** With RECORD_HISTORIES_DIR set, keeps this execution's history as a replay fixture. */
async function recordFixture(handle: RunHandle, label: string, runId?: string): Promise<void> {
  const dir = process.env.RECORD_HISTORIES_DIR;
  if (!dir) return;
  fs.mkdirSync(dir, { recursive: true });
  const history = runId ? await handle.client.getHandle(handle.workflowId, runId).fetchHistory() : await handle.fetchHistory();
  fs.writeFileSync(path.join(dir, `announcement-updates--${label}--0.json`), JSON.stringify(JSON.parse(historyToJSON(history))));
}

/** A slow Slack: updates wait until the test lets them answer. */
function slowSlack(): { announcementUpdated: Promise<void>; answer: () => void } {
  let answer!: () => void;
  const announcementUpdated = new Promise<void>((resolve) => (answer = resolve));
  return { announcementUpdated, answer };
}

const activityName = (events: HistoryEvent[], scheduledId: unknown) =>
  events.find((s) => Number(s.eventId) === Number(scheduledId))?.activityTaskScheduledEventAttributes?.activityType?.name;

/** Where in the history `updateAnnouncement` completed (-1: never). */
function updateCompletedAt(events: HistoryEvent[]): number {
  return events.findIndex((e) => e.activityTaskCompletedEventAttributes && activityName(events, e.activityTaskCompletedEventAttributes.scheduledEventId) === 'updateAnnouncement');
}

/** How many `name` activities have completed. */
const completions = (events: HistoryEvent[], name: string) =>
  events.filter((e) => e.activityTaskCompletedEventAttributes && activityName(events, e.activityTaskCompletedEventAttributes.scheduledEventId) === name).length;

/**
 * The run waits on nothing but the update: `times` `after` activities have completed, every workflow task since is
 * done (the run has taken them in), and the update is scheduled but not completed.
 */
async function blockedOnTheUpdate(handle: RunHandle, after: string, times: number): Promise<boolean> {
  const events = (await handle.fetchHistory()).events ?? [];
  const count = (type: temporal.api.enums.v1.EventType) => events.filter((e) => e.eventType === type).length;
  const tasksDone =
    count(EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED) ===
    count(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) + count(EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED) + count(EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT);
  const scheduled = events.some((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'updateAnnouncement');
  return tasksDone && scheduled && updateCompletedAt(events) < 0 && completions(events, after) >= times;
}

/** No workflow task failed or was retried: nothing raced the run's end. */
function noTaskFailed(events: HistoryEvent[]): void {
  expect(events.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED)).toEqual([]);
}

describe('agentRunWorkflow: the approvers’ announcement updated beside the run', () => {
  let w: RunWorkflowEnv;
  beforeAll(async () => {
    w = await startRunWorkflowEnv();
  });
  afterAll(async () => {
    await w?.close();
  });

  it('runs the approved call and the next model call while the update waits for Slack; the run completes after the update', async () => {
    const slack = slowSlack();
    const { run, handle } = await w.start({ model: oneWriteThenDone, announcementUpdated: slack.announcementUpdated }, { approvals: 'write' });
    await waitFor(() => run.status === 'waiting_approval', { timeoutMs: 5000, what: 'the run to wait for approval' });
    const { approvalId } = run.calls.requestApproval[0]!;

    await handle.signal(approvalDecisionSignal, { approvalId, decision: 'approve', by: 'alice', channel: 'api' });
    try {
      await waitFor(() => run.calls.callModel.length === 2, { timeoutMs: 5000, what: 'the model call after the approved write' });
      expect(run.calls.runTool).toEqual([{ runId: run.runId, turn: 1, toolUseId: 'toolu_1_0', rerunInDoubt: false }]);
      expect(run.calls.updateAnnouncement).toEqual([]);
      // The model is done, but the run does not end while its announcement is still being updated.
      await waitFor(() => blockedOnTheUpdate(handle, 'callModel', 2), { timeoutMs: 5000, what: 'the run to wait on the update' });
      expect(run.status).toBe('running');
    } finally {
      slack.answer();
    }

    expect((await handle.result()).status).toBe('completed');
    expect(run.calls.updateAnnouncement).toEqual([{ runId: run.runId, approvalId }]);
    const events = (await handle.fetchHistory()).events ?? [];
    const completedAt = events.findIndex((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
    expect(updateCompletedAt(events)).toBeGreaterThan(0);
    expect(updateCompletedAt(events)).toBeLessThan(completedAt);
    noTaskFailed(events);
    expect(run.eventsOf('run.completed')).toHaveLength(1);
    await recordFixture(handle, 'approved-beside-update');
  });

  it('stops at a refused cost checkpoint only once the update is done: the ending does not race it, nothing runs twice', async () => {
    const slack = slowSlack();
    const neverDone = ({ turn }: { turn: number }) => asksForTools([toolCall(turn)], 0.3);
    const { run, handle } = await w.start({ model: neverDone, announcementUpdated: slack.announcementUpdated }, { settings: { costCheckpointUsd: 0.5 } });
    await waitFor(() => run.status === 'waiting_approval', { timeoutMs: 5000, what: 'the cost checkpoint' });
    const { approvalId } = run.calls.requestApproval[0]!;

    await handle.signal(approvalDecisionSignal, { approvalId, decision: 'reject', by: 'alice', channel: 'web' });
    try {
      await waitFor(() => blockedOnTheUpdate(handle, 'callModel', 2), { timeoutMs: 5000, what: 'the run to wait on the update' });
      expect(run.eventsOf('run.cancelled')).toEqual([]);
    } finally {
      slack.answer();
    }

    expect((await handle.result()).status).toBe('cancelled');
    const events = (await handle.fetchHistory()).events ?? [];
    noTaskFailed(events);
    expect(run.eventsOf('run.cancelled').map((e) => e.data)).toEqual([{ turn: 2, reason: 'stopped at the $0.50 cost checkpoint by alice' }]);
    expect(run.calls.settleApproval).toHaveLength(1);
    expect(run.calls.updateAnnouncement).toEqual([{ runId: run.runId, approvalId }]);
    await recordFixture(handle, 'refused-checkpoint-awaits-update');
  });

  it('hands off (continue-as-new) only once the update is done', async () => {
    const slack = slowSlack();
    const { run, handle } = await w.start(
      { model: ({ turn }) => (turn < 3 ? asksForTools([toolCall(turn, 'write_file', 'write')]) : endsTurn()), announcementUpdated: slack.announcementUpdated },
      { approvals: 'write', settings: { segmentMaxTurns: 1 } },
    );
    const firstExecution = (await handle.describe()).runId;
    await waitFor(() => run.status === 'waiting_approval', { timeoutMs: 5000, what: 'the run to wait for approval' });
    await handle.signal(approvalDecisionSignal, { approvalId: run.calls.requestApproval[0]!.approvalId, decision: 'approve', by: 'alice', channel: 'api' });
    try {
      await waitFor(() => blockedOnTheUpdate(handle, 'summarize', 1), { timeoutMs: 5000, what: 'the run to wait on the update' });
      expect((await handle.describe()).runId).toBe(firstExecution);
    } finally {
      slack.answer();
    }
    await waitFor(() => run.status === 'waiting_approval' && run.calls.requestApproval.length === 2, { timeoutMs: 5000, what: 'the second segment’s approval' });
    await handle.signal(approvalDecisionSignal, { approvalId: run.calls.requestApproval[1]!.approvalId, decision: 'approve', by: 'alice', channel: 'api' });

    expect((await handle.result()).status).toBe('completed');
    const first = (await w.env.client.workflow.getHandle(run.runId, firstExecution).fetchHistory()).events ?? [];
    const continuedAt = first.findIndex((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW);
    expect(updateCompletedAt(first)).toBeGreaterThan(0);
    expect(updateCompletedAt(first)).toBeLessThan(continuedAt);
    noTaskFailed(first);
    expect(run.eventsOf('run.handoff')).toHaveLength(2);
    await recordFixture(handle, 'handoff-awaits-update', firstExecution);
  });

  it('records a cancel only once the update in flight is done (the update is not cancelled with the run)', async () => {
    const slack = slowSlack();
    const twoWrites = ({ turn }: { turn: number }) => (turn < 3 ? asksForTools([toolCall(turn, 'write_file', 'write')]) : endsTurn());
    const { run, handle } = await w.start({ model: twoWrites, announcementUpdated: slack.announcementUpdated }, { approvals: 'write' });
    await waitFor(() => run.status === 'waiting_approval', { timeoutMs: 5000, what: 'the first approval' });
    const first = run.calls.requestApproval[0]!.approvalId;
    await handle.signal(approvalDecisionSignal, { approvalId: first, decision: 'approve', by: 'alice', channel: 'api' });
    try {
      // The second approval waits, its announcement taken in (the test server refuses a task that cancels an activity
      // whose completion reached it meanwhile), while the first's update still waits for Slack.
      await waitFor(async () => run.calls.requestApproval.length === 2 && (await blockedOnTheUpdate(handle, 'announceApproval', 2)), {
        timeoutMs: 5000,
        what: 'the second approval to wait, the first update in flight',
      });
      await handle.cancel();
      await waitFor(() => run.calls.settleApproval.length === 2, { timeoutMs: 5000, what: 'the cancel to withdraw the second approval' });
      expect(run.eventsOf('run.cancelled')).toEqual([]);
    } finally {
      slack.answer();
    }

    const err: unknown = await handle.result().then(
      () => new Error('the run ended without being cancelled'),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    const events = (await handle.fetchHistory()).events ?? [];
    noTaskFailed(events);
    const cancelledAt = events.findIndex((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED);
    expect(updateCompletedAt(events)).toBeGreaterThan(0);
    expect(updateCompletedAt(events)).toBeLessThan(cancelledAt);
    expect(run.calls.updateAnnouncement.map((c) => c.approvalId).sort()).toEqual([first, run.calls.requestApproval[1]!.approvalId].sort());
    expect(run.eventsOf('run.cancelled')).toHaveLength(1);
    await recordFixture(handle, 'cancel-awaits-update');
  });

  it('does not update an announcement that posted nothing (no Slack): no activity, no task for it', async () => {
    const { run, handle } = await w.start({ model: oneWriteThenDone, announcementPosted: false }, { approvals: 'write' });
    await waitFor(() => run.status === 'waiting_approval', { timeoutMs: 5000, what: 'the run to wait for approval' });
    await waitFor(() => run.calls.announceApproval.length === 1, { timeoutMs: 5000, what: 'the announcement' });
    const { approvalId } = run.calls.requestApproval[0]!;

    await handle.signal(approvalDecisionSignal, { approvalId, decision: 'approve', by: 'alice', channel: 'api' });

    expect((await handle.result()).status).toBe('completed');
    expect(run.calls.runTool).toHaveLength(1);
    expect(run.calls.updateAnnouncement).toEqual([]);
    const events = (await handle.fetchHistory()).events ?? [];
    expect(events.some((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'updateAnnouncement')).toBe(false);
    await recordFixture(handle, 'nothing-announced');
  });
});
