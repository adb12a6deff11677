/**
 * Follow-up messages across the relay, on the time-skipping test server with mocked activities: a follow-up
 * signalled while the run hands off — paused at its segment cap, waiting for the relay's summary, or in the very
 * workflow task that continues it as new — joins at the next segment's first turn boundary, as one signalled
 * between turns does, instead of waiting in the database until the run ends. The end-to-end follow-up tests (real
 * server, store, fake Anthropic) are in test/integration/follow-up.test.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { defaultPayloadConverter } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { RunInput } from '../../contract/run';
import { followUpSignal, resumeSignal } from '../../contract/workflow-messages';
import { asksForTools, endsTurn, toolCall, type FakeRun } from '../support/fake-run-activities';
import { activityCalls, patchesOf, type HistoryEvent } from '../support/history-calls';
import { startRunWorkflowEnv, type RunHandle, type RunWorkflowEnv } from '../support/run-workflow-env';
import { waitFor } from '../support/wait';

const EventType = temporal.api.enums.v1.EventType;

/** Turn 1 asks for a tool; turn 2 is the last. With one turn a segment, turn 2 is the second segment's first. */
const oneToolThenDone = ({ turn }: { turn: number }) => (turn === 1 ? asksForTools([toolCall(1)]) : endsTurn());

/** The histories of the run's executions, first to last (each continued as new into the next). */
async function executionHistories(handle: RunHandle): Promise<HistoryEvent[][]> {
  const histories: HistoryEvent[][] = [];
  // From the latest back: each execution's start names the one it continues.
  for (let runId: string | undefined = undefined; ; ) {
    const events: HistoryEvent[] = (await handle.client.getHandle(handle.workflowId, runId).fetchHistory()).events ?? [];
    histories.unshift(events);
    runId = events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
    if (!runId) return histories;
  }
}

/** With RECORD_HISTORIES_DIR set, keeps each of the run's executions' histories as replay fixtures. */
async function recordFixtures(handle: RunHandle, label: string): Promise<void> {
  const dir = process.env.RECORD_HISTORIES_DIR;
  if (!dir) return;
  fs.mkdirSync(dir, { recursive: true });
  for (const [i, events] of (await executionHistories(handle)).entries()) {
    const history = temporal.api.history.v1.History.create({ events });
    fs.writeFileSync(path.join(dir, `follow-ups--${label}--${i}.json`), JSON.stringify(JSON.parse(historyToJSON(history))));
  }
}

/** What an execution handed on to the next (its continue-as-new input). */
function handedOn(events: HistoryEvent[]): RunInput {
  const continued = events.find((e) => e.workflowExecutionContinuedAsNewEventAttributes)!.workflowExecutionContinuedAsNewEventAttributes!;
  return defaultPayloadConverter.fromPayload<RunInput>(continued.input!.payloads![0]!);
}

/**
 * The follow-up was taken in at the second segment's first turn boundary: the first execution handed it on (behind
 * its patch), the run's only acceptFollowUps is at turn 2, and in the second execution it comes before the turn's
 * model call.
 */
async function takenInAtTheNextSegmentsFirstTurn(run: FakeRun, handle: RunHandle): Promise<void> {
  expect(run.calls.acceptFollowUps).toEqual([{ runId: run.runId, turn: 2 }]);
  const executions = await executionHistories(handle);
  expect(executions).toHaveLength(2);
  expect(patchesOf(executions[0]!)).toContain('follow-ups-across-relay');
  expect(handedOn(executions[0]!).carried).toMatchObject({ segment: 1, turn: 2, followUpsWaiting: true });
  const secondSegment = activityCalls(executions[1]!)
    .map((c) => c.type)
    .filter((type) => type === 'acceptFollowUps' || type === 'callModel');
  expect(secondSegment).toEqual(['acceptFollowUps', 'callModel']);
}

describe('agentRunWorkflow: follow-ups across the relay', () => {
  let w: RunWorkflowEnv;
  beforeAll(async () => {
    w = await startRunWorkflowEnv();
  });
  afterAll(async () => {
    await w?.close();
  });

  it('takes in a follow-up signalled while paused at the segment cap at the next segment’s first turn', async () => {
    const { run, handle } = await w.start({ model: oneToolThenDone }, { settings: { segmentMaxTurns: 1, maxSegments: 1 } });
    await waitFor(() => run.status === 'paused', { timeoutMs: 5000, what: 'the run to pause at the segment cap' });

    await handle.signal(followUpSignal, { messageId: 'msg_during_pause' });
    await handle.signal(resumeSignal, { by: 'alice' });
    const result = await handle.result();

    expect(result).toMatchObject({ status: 'completed', turns: 2 });
    await takenInAtTheNextSegmentsFirstTurn(run, handle);
    await recordFixtures(handle, 'during-segment-cap-pause');
  });

  it('takes in a follow-up signalled while the relay’s summary is made at the next segment’s first turn', async () => {
    let summarize!: () => void;
    const summarized = new Promise<void>((resolve) => (summarize = resolve));
    const { run, handle } = await w.start({ model: oneToolThenDone, summarized }, { settings: { segmentMaxTurns: 1 } });
    await waitFor(() => run.calls.summarize.length === 1, { timeoutMs: 5000, what: 'the relay’s summary call' });

    await handle.signal(followUpSignal, { messageId: 'msg_during_summary' });
    summarize();
    const result = await handle.result();

    expect(result).toMatchObject({ status: 'completed', turns: 2 });
    await takenInAtTheNextSegmentsFirstTurn(run, handle);
  });

  it('takes in a follow-up signalled in the workflow task that continues the run as new', async () => {
    // Signalled while the hand-off's own bookkeeping (a local activity, inside the task that continues as new) runs.
    let signalled = false;
    const { run, handle } = await w.start(
      {
        model: oneToolThenDone,
        onSync: async (args) => {
          if (signalled || !args.events?.some((e) => e.type === 'run.handoff')) return;
          signalled = true;
          await w.env.client.workflow.getHandle(args.runId).signal(followUpSignal, { messageId: 'msg_during_handoff_task' });
        },
      },
      { settings: { segmentMaxTurns: 1 } },
    );

    const result = await handle.result();

    expect(result).toMatchObject({ status: 'completed', turns: 2 });
    expect(signalled).toBe(true);
    await takenInAtTheNextSegmentsFirstTurn(run, handle);
    // The server refused to end the first execution with the signal unseen: the task was tried again with it.
    const [first] = await executionHistories(handle);
    const failedTasks = first!.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED);
    expect(failedTasks.map((e) => e.workflowTaskFailedEventAttributes?.cause)).toEqual([temporal.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND]);
    await recordFixtures(handle, 'in-the-continuing-task');
  });

  it('hands on no follow-up and asks no patch when none waits (a hand-off as before)', async () => {
    const { run, handle } = await w.start({ model: oneToolThenDone }, { settings: { segmentMaxTurns: 1 } });

    const result = await handle.result();

    expect(result).toMatchObject({ status: 'completed', turns: 2 });
    expect(run.calls.acceptFollowUps).toEqual([]);
    const [first] = await executionHistories(handle);
    expect(handedOn(first!).carried).not.toHaveProperty('followUpsWaiting');
    expect(patchesOf(first!)).not.toContain('follow-ups-across-relay');
  });
});
