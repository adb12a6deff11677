/**
 * The run loop's endings and hand-offs, on the time-skipping test server with mocked activities: each cap stops
 * the run for its stated reason at a step boundary, and the relay continues a long run as a fresh execution that
 * carries its counters. The end-to-end versions (real server, store, fake Anthropic) are in
 * test/integration/caps-and-relay.test.ts.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, defaultPayloadConverter } from '@temporalio/common';
import { FailureType } from '../../contract/failures';
import { approvalDecisionSignal, resumeSignal } from '../../contract/workflow-messages';
import type { RunInput } from '../../contract/run';
import { asksForTools, endsTurn, toolCall } from '../support/fake-run-activities';
import { startRunWorkflowEnv, type RunHandle, type RunWorkflowEnv } from '../support/run-workflow-env';
import { waitFor } from '../support/wait';

/** The model always wants another tool call, costing `costUsd` per answer. */
const neverDone = (costUsd = 0.01) => ({ turn }: { turn: number }) => asksForTools([toolCall(turn)], costUsd);

/** The failure a run's execution ended with (a run that ends failed fails its execution too). */
async function failureOf(handle: RunHandle): Promise<ApplicationFailure> {
  const err: unknown = await handle.result().then(
    (result) => new Error(`the run ended ${result.status}, not failed`),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = (err as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  expect((cause as ApplicationFailure).type).toBe(FailureType.RunFailed);
  return cause as ApplicationFailure;
}

describe('agentRunWorkflow: caps and the relay', () => {
  let w: RunWorkflowEnv;
  beforeAll(async () => {
    w = await startRunWorkflowEnv();
  });
  afterAll(async () => {
    await w?.close();
  });

  it('completes when the model is done, having run each tool call it asked for', async () => {
    const { run, handle } = await w.start({ model: ({ turn }) => (turn === 1 ? asksForTools([toolCall(1, 'read_file'), toolCall(1, 'list_dir', 'read', 1)]) : endsTurn()) });

    const result = await handle.result();

    expect(result).toMatchObject({ status: 'completed', turns: 2, error: null });
    expect(result.usage.costUsd).toBeCloseTo(0.02);
    expect(run.calls.callModel.map((c) => c.turn)).toEqual([1, 2]);
    expect(run.calls.runTool.map((c) => [c.turn, c.toolUseId])).toEqual([
      [1, 'toolu_1_0'],
      [1, 'toolu_1_1'],
    ]);
    expect(run.eventTypes()).toEqual(['run.started', 'run.completed']);
    expect(run.statuses().map((s) => s.status)).toEqual(['running', 'completed']);
    expect(run.calls.releaseRunSlot).toEqual([{ owner: run.runId }]);
  });

  it('stops at the step cap without asking the model for a turn past it', async () => {
    const { run, handle } = await w.start({ model: neverDone() }, { limits: { maxSteps: 3 } });

    const failure = await failureOf(handle);

    expect(failure.message).toBe('reached the step limit of 3');
    expect(run.calls.callModel.map((c) => c.turn)).toEqual([1, 2, 3]);
    expect(run.calls.runTool).toHaveLength(3);
    expect(run.eventsOf('limit.exceeded').map((e) => e.data)).toEqual([{ limit: 'maxSteps', value: 3 }]);
    expect(run.eventTypes().at(-1)).toBe('run.failed');
    expect(run.status).toBe('failed');
    expect(run.calls.releaseRunSlot).toHaveLength(1);
  });

  it('stops at the cost cap once spend reaches it', async () => {
    const { run, handle } = await w.start({ model: neverDone(0.4) }, { limits: { maxCostUsd: 1 } });

    const failure = await failureOf(handle);

    // $0.40, $0.80: under the cap, so a third call; $1.20: at or over it, so no fourth.
    expect(run.calls.callModel).toHaveLength(3);
    expect(failure.message).toBe('spent $1.2000, at or over the $1 cost limit');
    const [limit] = run.eventsOf('limit.exceeded');
    expect(limit!.data.limit).toBe('maxCostUsd');
    expect(limit!.data.value).toBeCloseTo(1.2);
  });

  it('stops at the time cap at the first step boundary after the deadline', async () => {
    // The first call waits two minutes for model capacity; the run's time cap is one minute.
    const { run, handle } = await w.start(
      { model: ({ turn, n }) => (n === 0 ? { deferred: 'capacity', waitMs: 120_000, limit: 'rpm' } : asksForTools([toolCall(turn)])) },
      { limits: { maxDurationSec: 60 } },
    );

    const failure = await failureOf(handle);

    expect(failure.message).toBe('ran past the 60s time limit');
    // The turn that waited goes on with its answer and its tool; the next turn is not taken.
    expect(run.calls.callModel.map((c) => c.turn)).toEqual([1, 1]);
    expect(run.calls.runTool.map((c) => c.turn)).toEqual([1]);
    expect(run.eventsOf('limit.exceeded').map((e) => e.data)).toEqual([{ limit: 'maxDurationSec', value: 60 }]);
  });

  it('hands a long run on to a fresh execution that carries its turn, usage and segment (the relay)', async () => {
    const { run, handle } = await w.start({ model: ({ turn }) => (turn < 5 ? asksForTools([toolCall(turn)]) : endsTurn()) }, { settings: { segmentMaxTurns: 2 } });
    const firstExecution = (await handle.describe()).runId;

    const result = await handle.result();

    // Five model calls at $0.01, two summaries at $0.02.
    expect(result).toMatchObject({ status: 'completed', turns: 5 });
    expect(result.usage.costUsd).toBeCloseTo(0.09);
    expect(run.calls.summarize).toEqual([
      { runId: run.runId, segment: 0, throughTurn: 2, model: 'claude-test' },
      { runId: run.runId, segment: 1, throughTurn: 4, model: 'claude-test' },
    ]);
    expect(run.eventsOf('run.handoff').map((e) => e.data)).toEqual([
      { segment: 1, summaryChars: 500, turn: 3 },
      { segment: 2, summaryChars: 500, turn: 5 },
    ]);
    // Each turn asked once: no turn lost or repeated across the hand-offs; the run started once.
    expect(run.calls.callModel.map((c) => c.turn)).toEqual([1, 2, 3, 4, 5]);
    expect(run.eventsOf('run.started')).toHaveLength(1);
    expect(run.calls.claimRunSlot).toHaveLength(1);

    // What the first execution handed on, as recorded in its history.
    const history = await w.env.client.workflow.getHandle(run.runId, firstExecution).fetchHistory();
    const continued = history.events!.find((e) => e.workflowExecutionContinuedAsNewEventAttributes)!.workflowExecutionContinuedAsNewEventAttributes!;
    const next = defaultPayloadConverter.fromPayload<RunInput>(continued.input!.payloads![0]!);
    expect(next.runId).toBe(run.runId);
    expect(next.carried).toMatchObject({ segment: 1, turn: 3, costCheckpointsPassed: 0, paused: false, extraSegments: 0 });
    expect(next.carried!.usage.costUsd).toBeCloseTo(0.04);
    // The run's start, as the books recorded it when the run started: the time cap counts from there in every segment.
    expect(next.carried!.startedAtMs).toBe(Date.parse(run.syncedAt[0]!));
  });
  it('pauses for a human at the segment cap; resuming grants as many segments again', async () => {
    const { run, handle } = await w.start({ model: ({ turn }) => (turn < 4 ? asksForTools([toolCall(turn)]) : endsTurn()) }, { settings: { segmentMaxTurns: 1, maxSegments: 2 } });
    await waitFor(() => run.status === 'paused', { timeoutMs: 5000, what: 'the run to pause at the segment cap' });
    expect(run.eventsOf('limit.exceeded').map((e) => e.data)).toEqual([{ limit: 'maxSegments', value: 2 }]);
    // Paused by itself, for its segment cap: a tree's resume leaves it to its own.
    expect(run.eventsOf('run.paused').map((e) => e.data)).toEqual([expect.objectContaining({ by: 'system', cause: 'segments' })]);
    expect(run.calls.callModel.map((c) => c.turn)).toEqual([1, 2]);

    await handle.signal(resumeSignal, { by: 'alice' });
    const result = await handle.result();

    expect(result).toMatchObject({ status: 'completed', turns: 4 });
    expect(run.eventsOf('run.resumed').map((e) => e.data.by)).toEqual(['alice']);
    expect(run.calls.summarize.map((c) => c.segment)).toEqual([0, 1, 2]);
    expect(run.calls.callModel.map((c) => c.turn)).toEqual([1, 2, 3, 4]);
  });

  it('asks a human at each cost checkpoint and stops the run when they refuse', async () => {
    const { run, handle } = await w.start({ model: neverDone(0.3) }, { settings: { costCheckpointUsd: 0.5 } });
    await waitFor(() => run.status === 'waiting_approval', { timeoutMs: 5000, what: 'the cost checkpoint' });
    const [request] = run.calls.requestApproval;
    expect(request).toMatchObject({ kind: 'cost_checkpoint', turn: 2, reason: 'This run has spent $0.60, passing the $0.50 checkpoint. Approve to let it continue.' });

    await handle.signal(approvalDecisionSignal, { approvalId: request!.approvalId, decision: 'reject', by: 'alice', channel: 'web' });
    const result = await handle.result();

    expect(result.status).toBe('cancelled');
    expect(run.eventsOf('run.cancelled').map((e) => e.data)).toEqual([{ turn: 2, reason: 'stopped at the $0.50 cost checkpoint by alice' }]);
    // Turn 2's tools did not run: the checkpoint comes between the answer and its tool calls.
    expect(run.calls.runTool.map((c) => c.turn)).toEqual([1]);
    expect(run.calls.callModel).toHaveLength(2);
  });
});
