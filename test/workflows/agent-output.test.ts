/**
 * The run loop with agents, on the time-skipping test server with mocked activities: a final result the model
 * activity found valid completes the run; an invalid one (or a text answer where one was due) is a rejection,
 * and the run goes on to its next turn until rejections pass the agent's `outputRetries`, then fails with
 * `output_invalid`; a call's own policy (an agent's per-tool approval override) decides whether it waits for a
 * human. The activities' side (validation, storing the output) is test/integration/agent-runs.test.ts.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { type ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../contract/failures';
import { approvalDecisionSignal } from '../../contract/workflow-messages';
import type { ToolCallRef } from '../../contract/run';
import { asksForTools, endsTurn, toolCall, type ScriptedAnswer } from '../support/fake-run-activities';
import { startRunWorkflowEnv, type RunHandle, type RunWorkflowEnv } from '../support/run-workflow-env';
import { waitFor } from '../support/wait';

/** The model's final result, as the model activity judged it. */
const finalResult = (output: 'valid' | 'invalid', calls: ToolCallRef[] = []): ScriptedAnswer => ({ ...asksForTools(calls), output });

async function failureOf(handle: RunHandle): Promise<ApplicationFailure> {
  const err: unknown = await handle.result().then(
    (result) => new Error(`the run ended ${result.status}, not failed`),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
  expect(cause.type).toBe(FailureType.RunFailed);
  return cause;
}

describe('agentRunWorkflow: agents', () => {
  let w: RunWorkflowEnv;
  beforeAll(async () => {
    w = await startRunWorkflowEnv();
  });
  afterAll(async () => {
    await w?.close();
  });

  it('completes on a valid final result, after the tool calls before it', async () => {
    const { run, handle } = await w.start({ model: ({ turn }) => (turn === 1 ? asksForTools([toolCall(1)]) : finalResult('valid')) }, { settings: { outputRetries: 2 } });

    const result = await handle.result();

    expect(result).toMatchObject({ status: 'completed', turns: 2, error: null });
    expect(run.calls.callModel.map((c) => c.turn)).toEqual([1, 2]);
    expect(run.calls.runTool.map((c) => c.toolUseId)).toEqual(['toolu_1_0']);
    expect(run.eventTypes()).toEqual(['run.started', 'run.completed']);
  });

  it('goes on to the next turn after an invalid final result, and completes once one is valid', async () => {
    const { run, handle } = await w.start({ model: ({ n }) => (n < 2 ? finalResult('invalid') : finalResult('valid')) }, { settings: { outputRetries: 2 } });

    const result = await handle.result();

    expect(result).toMatchObject({ status: 'completed', turns: 3 });
    // Each rejected answer is a turn like any other: it costs and counts.
    expect(run.calls.callModel.map((c) => c.turn)).toEqual([1, 2, 3]);
    expect(result.usage.costUsd).toBeCloseTo(0.03);
  });

  it('gives a run upgraded to a version with an output schema the agents\' default retries (its settings have none)', async () => {
    const { run, handle } = await w.start({ model: ({ n }) => (n < 2 ? finalResult('invalid') : finalResult('valid')) });

    await expect(handle.result()).resolves.toMatchObject({ status: 'completed', turns: 3 });
    expect(run.calls.callModel).toHaveLength(3);
  });

  it('runs the other tool calls of an answer whose final result was invalid', async () => {
    const { run, handle } = await w.start(
      { model: ({ turn }) => (turn === 1 ? finalResult('invalid', [toolCall(1, 'read_file'), toolCall(1, 'list_dir', 'read', 1)]) : finalResult('valid')) },
      { settings: { outputRetries: 1 } },
    );

    await expect(handle.result()).resolves.toMatchObject({ status: 'completed', turns: 2 });
    expect(run.calls.runTool.map((c) => c.toolUseId)).toEqual(['toolu_1_0', 'toolu_1_1']);
  });

  it('fails with output_invalid once rejections pass the agent\'s outputRetries, carried across the relay', async () => {
    // Two turns per segment: the third rejection comes in the second segment, which must remember the first two.
    const { run, handle } = await w.start({ model: () => finalResult('invalid') }, { settings: { outputRetries: 2, segmentMaxTurns: 2 } });

    const failure = await failureOf(handle);

    expect(run.calls.callModel.map((c) => c.turn)).toEqual([1, 2, 3]);
    expect(run.calls.summarize).toHaveLength(1);
    expect(failure.details?.[0]).toMatchObject({ code: 'output_invalid' });
    expect(run.eventsOf('run.failed').map((e) => e.data.error.code)).toEqual(['output_invalid']);
  });

  it('counts rejections in the caps: the step cap ends a run whose final results never validate', async () => {
    const { run, handle } = await w.start({ model: () => finalResult('invalid') }, { settings: { outputRetries: 10 }, limits: { maxSteps: 2 } });

    const failure = await failureOf(handle);

    expect(failure.message).toBe('reached the step limit of 2');
    expect(run.calls.callModel).toHaveLength(2);
  });

  it('completes on a text answer when the run has no output schema (no `output` on the reply), as ever', async () => {
    const { run, handle } = await w.start({ model: () => endsTurn() });
    await expect(handle.result()).resolves.toMatchObject({ status: 'completed', turns: 1 });
    expect(run.calls.callModel).toHaveLength(1);
  });

  it('asks for approval of a call whose own policy is `all` (a tool the agent always asks about), under a run policy of none', async () => {
    const call: ToolCallRef = { ...toolCall(1, 'lookup', 'read'), policy: 'all' };
    const { run, handle } = await w.start({ model: ({ turn }) => (turn === 1 ? asksForTools([call]) : endsTurn()) }, { approvals: 'none' });

    await waitFor(() => run.status === 'waiting_approval', { timeoutMs: 5000, what: 'the run to wait for approval' });
    const { approvalId } = run.calls.requestApproval[0]!;
    await handle.signal(approvalDecisionSignal, { approvalId, decision: 'approve', by: 'alice', channel: 'api' });

    await expect(handle.result()).resolves.toMatchObject({ status: 'completed' });
    expect(run.calls.requestApproval.map((r) => r.toolUseId)).toEqual(['toolu_1_0']);
    expect(run.calls.runTool).toHaveLength(1);
  });

  it('runs without asking a call whose own policy is `none` (a tool the agent never asks about), under a run policy of all', async () => {
    const call: ToolCallRef = { ...toolCall(1, 'pay', 'irreversible'), policy: 'none' };
    const other = toolCall(1, 'refund', 'irreversible', 1);
    const { run, handle } = await w.start({ model: ({ turn }) => (turn === 1 ? asksForTools([call]) : turn === 2 ? asksForTools([other]) : endsTurn()) }, { approvals: 'all' });

    await waitFor(() => run.status === 'waiting_approval', { timeoutMs: 5000, what: 'the run to wait for approval of the call without a policy of its own' });
    // The call with its own policy ran at once; the one without waits by the run's policy.
    expect(run.calls.runTool.map((c) => c.toolUseId)).toEqual(['toolu_1_0']);
    expect(run.calls.requestApproval.map((r) => r.toolUseId)).toEqual(['toolu_1_1']);
    const { approvalId } = run.calls.requestApproval[0]!;
    await handle.signal(approvalDecisionSignal, { approvalId, decision: 'approve', by: 'alice', channel: 'api' });
    await expect(handle.result()).resolves.toMatchObject({ status: 'completed' });
  });
});
