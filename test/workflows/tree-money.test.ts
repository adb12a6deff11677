/**
 * A run tree's money in the run loop, on the time-skipping test server with mocked activities: a model call the
 * books refuse (it would not fit a cap of the run tree) is never retried or waited out — the run stops on that
 * limit with `limit.exceeded`, and a child that does comes back to its parent as a failed delegation while the
 * parent goes on; and a parent's cost cap and checkpoint count its tree's spend, as its answers and its children's
 * endings report it, carried across the relay. The
 * books themselves are test/store/tree-money.test.ts; end to end, test/integration/subagent-money.test.ts.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import fs from 'node:fs';
import path from 'node:path';
import { approvalDecisionSignal } from '../../contract/workflow-messages';
import type { ScriptedAnswer } from '../support/fake-run-activities';
import { asksForTools, delegation, endsTurn, toolCall } from '../support/fake-run-activities';
import { startRunWorkflowEnv, type RunHandle, type RunWorkflowEnv } from '../support/run-workflow-env';
import { waitFor } from '../support/wait';

const refused = (limit: 'maxCostUsd' | 'maxSteps', value: number): ScriptedAnswer => ({ deferred: 'limit', limit, value, message: `refused: the ${limit} of run r_root above it` });

/** With RECORD_HISTORIES_DIR set, keeps this run's history as a replay fixture. */
async function recordFixture(handle: RunHandle, label: string): Promise<void> {
  const dir = process.env.RECORD_HISTORIES_DIR;
  if (!dir) return;
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `tree-money--${label}--0.json`), JSON.stringify(JSON.parse(historyToJSON(await handle.fetchHistory()))));
}

describe('agentRunWorkflow: a run tree\'s money', () => {
  let w: RunWorkflowEnv;
  beforeAll(async () => {
    w = await startRunWorkflowEnv();
  });
  afterAll(async () => {
    await w?.close();
  });

  it('stops a child whose call the books refuse with limit.exceeded, asking no more, and the parent goes on', async () => {
    const { run, handle } = await w.start({
      model: ({ turn }) => (turn === 1 ? asksForTools([delegation(1, 'researcher')]) : endsTurn()),
      children: () => ({ model: ({ turn }) => (turn === 1 ? asksForTools([toolCall(1)]) : refused('maxCostUsd', 0.05)) }),
    });

    await expect(handle.result()).resolves.toMatchObject({ status: 'completed', turns: 2 });

    const child = run.children[0]!;
    // Turn 2's call was refused once, and not asked again: a refusal is no wait.
    expect(child.calls.callModel.map((c) => c.turn)).toEqual([1, 2]);
    expect(child.eventsOf('limit.exceeded').map((e) => e.data)).toEqual([{ limit: 'maxCostUsd', value: 0.05 }]);
    expect(child.eventTypes()).toEqual(['run.started', 'limit.exceeded', 'run.failed']);
    expect(child.eventsOf('run.failed')[0]!.data.error).toEqual({ code: 'limit_exceeded', message: 'refused: the maxCostUsd of run r_root above it' });
    expect(run.calls.settleChildRun.map((c) => c.ended.status)).toEqual(['failed']);
  });

  it('stops a run whose own call is refused by its tree\'s step cap', async () => {
    const { run, handle } = await w.start({ model: ({ turn }) => (turn === 1 ? asksForTools([toolCall(1)]) : refused('maxSteps', 4)) });

    const err: unknown = await handle.result().catch((e: unknown) => e);

    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(run.calls.callModel.map((c) => c.turn)).toEqual([1, 2]);
    expect(run.eventsOf('limit.exceeded').map((e) => e.data)).toEqual([{ limit: 'maxSteps', value: 4 }]);
  });

  it('counts the tree\'s spend toward the parent\'s cost checkpoint and cost cap', async () => {
    // The parent's own calls cost $0.01 each; its tree (its children's calls) has spent $0.61 by its second answer.
    const treeSpend = [0.01, 0.61, 0.95];
    const { run, handle } = await w.start(
      { model: ({ turn, n }) => ({ ...asksForTools([toolCall(turn)]), treeCostUsd: treeSpend[n] }) as ScriptedAnswer },
      { settings: { costCheckpointUsd: 0.5 }, limits: { maxCostUsd: 0.9 } },
    );
    await waitFor(() => run.status === 'waiting_approval', { timeoutMs: 5000, what: 'the cost checkpoint' });
    const request = run.calls.requestApproval[0]!;
    expect(request).toMatchObject({ kind: 'cost_checkpoint', turn: 2 });
    expect(request.reason).toContain('$0.61');
    await handle.signal(approvalDecisionSignal, { approvalId: request.approvalId, decision: 'approve', by: 'alice', channel: 'api' });

    const err: unknown = await handle.result().catch((e: unknown) => e);

    expect(err).toBeInstanceOf(WorkflowFailedError);
    // Its third answer put the tree at $0.95, over the $0.90 cap: no fourth call.
    expect(run.calls.callModel.map((c) => c.turn)).toEqual([1, 2, 3]);
    expect(run.eventsOf('limit.exceeded').map((e) => e.data)).toEqual([{ limit: 'maxCostUsd', value: 0.95 }]);
  });

  it("asks its cost checkpoint at its children's ending, before its next call, counting the tree's spend their settle reports", async () => {
    // The parent's own calls cost $0.01 each and report no tree spend; its child's ending leaves the tree at $0.61.
    const { run, handle } = await w.start(
      { model: ({ turn }) => (turn === 1 ? asksForTools([delegation(1, 'researcher')]) : endsTurn()), children: () => ({ treeCostUsdAtEnd: 0.61 }) },
      { settings: { costCheckpointUsd: 0.5 } },
    );
    await waitFor(() => run.status === 'waiting_approval', { timeoutMs: 10_000, what: 'the cost checkpoint' });
    expect(run.calls.callModel.map((c) => c.turn)).toEqual([1]);
    const request = run.calls.requestApproval[0]!;
    expect(request).toMatchObject({ kind: 'cost_checkpoint', turn: 1 });
    expect(request.reason).toContain("$0.61 (its sub-agents' runs included)");
    await handle.signal(approvalDecisionSignal, { approvalId: request.approvalId, decision: 'approve', by: 'alice', channel: 'api' });

    await expect(handle.result()).resolves.toMatchObject({ status: 'completed', turns: 2 });
    expect(run.calls.requestApproval).toHaveLength(1); // passed once
    await recordFixture(handle, 'checkpoint-at-a-childs-ending');
  });

  it("stops before its next call when a child's ending puts its tree over its cost cap", async () => {
    const { run, handle } = await w.start(
      { model: ({ turn }) => (turn === 1 ? asksForTools([delegation(1, 'researcher')]) : endsTurn()), children: () => ({ treeCostUsdAtEnd: 0.95 }) },
      { limits: { maxCostUsd: 0.9 } },
    );

    await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
    expect(run.calls.callModel.map((c) => c.turn)).toEqual([1]);
    expect(run.eventsOf('limit.exceeded').map((e) => e.data)).toEqual([{ limit: 'maxCostUsd', value: 0.95 }]);
  });

  it("carries its tree's spend across the relay: the next segment counts it, and its own spend since, before its first call", async () => {
    // The tree is at $0.85 when the first segment hands off; the relay's summary ($0.06, the run's own) takes it past the $0.90 cap.
    const { run, handle } = await w.start(
      { model: ({ n }) => (n === 0 ? { ...asksForTools([toolCall(1)]), treeCostUsd: 0.85 } : endsTurn()), summaryCostUsd: 0.06 },
      { settings: { segmentMaxTurns: 1 }, limits: { maxCostUsd: 0.9 } },
    );

    await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
    expect(run.calls.summarize).toHaveLength(1);
    expect(run.calls.callModel.map((c) => c.turn)).toEqual([1]); // none in the second segment
    expect(run.eventsOf('limit.exceeded').map((e) => e.data)).toEqual([{ limit: 'maxCostUsd', value: expect.closeTo(0.91, 6) }]);
  });
});
