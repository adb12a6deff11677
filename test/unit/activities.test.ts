/**
 * Activities in isolation (MockActivityEnvironment, real SQLite store): the effects ledger's three
 * cases, tool failures reported to the model, stored model responses replayed, error classes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { z } from 'zod';
import { createActivities, type Activities } from '../../activities';
import { UNRECORDED_DECISION_REFUSED } from '../../activities/human-activities';
import { FailureType } from '../../contract/failures';
import { toolCallHash } from '../../activities/idempotency-keys';
import type { ModelAdapter, ModelRequest } from '../../activities/model/model-adapter';
import { defineTool, ToolError, ToolUnavailableError } from '../../activities/tools/tool';
import { WorkspaceSync } from '../../shared/workspaces/workspace-sync';
import { InMemoryBus } from '../../shared/bus/in-memory-bus';
import { loadConfig } from '../../shared/config';
import { createLogger } from '../../shared/logger';
import { createStore, type Store } from '../../shared/store';
import { createActivityDeps } from '../../worker/activity-deps';
import type { ModelTurnResult, Progress } from '../../contract/run';

describe('activities', () => {
  let dir: string;
  let store: Store;
  let acts: Activities;
  const ran: string[] = [];
  let modelCalls = 0;
  let nextReply: Awaited<ReturnType<ModelAdapter['complete']>>;

  const sideEffect = defineTool({
    name: 'side_effect',
    description: 'a non-idempotent write',
    input: z.object({ label: z.string() }),
    risk: 'write',
    async run(input) {
      ran.push(input.label);
      if (input.label === 'fail') throw new ToolError('the thing failed');
      if (input.label === 'crash') throw new Error('unexpected crash');
      if (input.label === 'gone') throw new ToolUnavailableError('connect ECONNREFUSED https://svc:hunter2pass@internal.example/mcp');
      return { done: input.label };
    },
  });
  const idempotentEffect = defineTool({ ...sideEffect, name: 'idempotent_effect', idempotent: true });

  const model: ModelAdapter = {
    async complete(req: ModelRequest) {
      modelCalls += 1;
      req.onText('Hel');
      req.onText('lo');
      return nextReply;
    },
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-acts-'));
    const config = loadConfig({ DATA_DIR: dir });
    store = await createStore(config);
    acts = createActivities(
      createActivityDeps({ config, store, bus: new InMemoryBus(), logger: createLogger({ level: 'silent' }), extraTools: [sideEffect, idempotentEffect], modelFor: () => model }),
    );
  });
  afterAll(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function runWithToolCall(runId: string, name: string, input: Record<string, unknown>): Promise<void> {
    await store.runs.insert({ id: runId, owner: 'u', goal: 'g', model: 'claude-sonnet-5-5', approvals: 'none', limits: { maxSteps: 5, maxCostUsd: 1, maxDurationSec: 60 } });
    await store.messages.put({ runId, key: 'assistant:1', turn: 1, kind: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name, input }] });
  }
  /** The activities over a store whose next `times` transactions find the database gone (as node-postgres reports a refused connection). */
  function activitiesWithDatabaseAway(times: number): { local: Activities; awayLeft: () => number } {
    let away = times;
    const flaky = Object.create(store) as Store;
    flaky.transaction = (fn) => (away-- > 0 ? Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })) : store.transaction(fn));
    const local = createActivities(
      createActivityDeps({ config: loadConfig({ DATA_DIR: dir }), store: flaky, bus: new InMemoryBus(), logger: createLogger({ level: 'silent' }), modelFor: () => model }),
    );
    return { local, awayLeft: () => away };
  }
  const runTool = (runId: string, attempt = 1, extra: Record<string, unknown> = {}) =>
    new MockActivityEnvironment({ attempt }).run(acts.runTool, { runId, turn: 1, toolUseId: 'toolu_1', ...extra });

  it('runs a new call and records its result, events and ledger entry', async () => {
    await runWithToolCall('run_new', 'side_effect', { label: 'a' });
    const outcome = await runTool('run_new');
    expect(outcome).toMatchObject({ isError: false, replayed: false });
    expect(ran).toContain('a');
    expect((await store.effects.get('run_new:turn:1:tool:toolu_1'))!.status).toBe('completed');
    expect((await store.events.list('run_new', { after: 0, limit: 10 })).map((e) => e.type)).toEqual(['tool.started', 'tool.completed']);
  });

  it('returns the stored result for a completed call without running the tool', async () => {
    await runWithToolCall('run_done', 'side_effect', { label: 'b' });
    await runTool('run_done');
    const before = ran.length;
    const again = await runTool('run_done', 2);
    expect(again).toMatchObject({ isError: false, replayed: true });
    expect(ran.length).toBe(before);
  });

  it('refuses to guess about a non-idempotent call that started but never completed', async () => {
    await runWithToolCall('run_doubt', 'side_effect', { label: 'c' });
    await store.effects.begin('run_doubt:turn:1:tool:toolu_1', { runId: 'run_doubt', kind: 'tool', name: 'side_effect' });
    const err = await runTool('run_doubt', 2).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: 'EffectInDoubt', nonRetryable: true });
    expect(ran).not.toContain('c');
    // A human said yes (recorded in the database, which the worker checks): it runs again under the same key.
    const now = new Date().toISOString();
    const input = { label: 'c' };
    await store.approvals.insert({ id: 'apr_doubt', runId: 'run_doubt', kind: 'effect_in_doubt', turn: 1, toolUseId: 'toolu_1', tool: 'side_effect', input, inputHash: toolCallHash('side_effect', input), reason: 'r', requestedAt: now, expiresAt: now });
    await store.approvals.settle('apr_doubt', { outcome: 'approved', by: 'alice', channel: 'api' });
    expect(await runTool('run_doubt', 1, { rerunInDoubt: true })).toMatchObject({ isError: false });
    expect(ran).toContain('c');
  });

  it('heartbeats from the attempt\'s start: a slow read before the tool runs does not lose the attempt', async () => {
    await runWithToolCall('run_slow_read', 'idempotent_effect', { label: 'slow' });
    // The run's record comes back only after several heartbeat intervals (as behind a busy connection pool).
    const get = store.runs.get.bind(store.runs);
    const slowGet = jest.spyOn(store.runs, 'get').mockImplementation(async (id: string) => (await new Promise((r) => setTimeout(r, 500)), get(id)));
    const env = new MockActivityEnvironment({ attempt: 1, heartbeatTimeoutMs: 300 });
    const beatsBeforeTheTool: number[] = [];
    env.on('heartbeat', () => {
      if (!ran.includes('slow')) beatsBeforeTheTool.push(1);
    });
    try {
      expect(await env.run(acts.runTool, { runId: 'run_slow_read', turn: 1, toolUseId: 'toolu_1' })).toMatchObject({ isError: false });
    } finally {
      slowGet.mockRestore();
    }
    expect(ran).toContain('slow');
    expect(beatsBeforeTheTool.length).toBeGreaterThanOrEqual(3);
  });

  it('re-sends an idempotent call that started but never completed', async () => {
    await runWithToolCall('run_idem', 'idempotent_effect', { label: 'd' });
    await store.effects.begin('run_idem:turn:1:tool:toolu_1', { runId: 'run_idem', kind: 'tool', name: 'idempotent_effect' });
    expect(await runTool('run_idem', 2)).toMatchObject({ isError: false, replayed: false });
    expect(ran).toContain('d');
  });

  it('makes the workspace current before the ledger: a restore that fails leaves a call that never started, not one in doubt', async () => {
    await runWithToolCall('run_restore', 'side_effect', { label: 'r' });
    const prepare = jest.spyOn(WorkspaceSync.prototype, 'prepare').mockRejectedValueOnce(new Error('blob store unreachable'));
    try {
      await expect(runTool('run_restore')).rejects.toThrow('blob store unreachable');
    } finally {
      prepare.mockRestore();
    }
    expect(await store.effects.get('run_restore:turn:1:tool:toolu_1')).toBeUndefined();
    expect(await store.events.list('run_restore', { after: 0, limit: 10 })).toEqual([]);
    // The retry runs the non-idempotent call as a new one (it was in doubt, and refused, when the ledger came first).
    expect(await runTool('run_restore', 2)).toMatchObject({ isError: false, replayed: false });
    expect(ran).toContain('r');
    expect((await store.events.list('run_restore', { after: 0, limit: 10 })).map((e) => e.type)).toEqual(['tool.started', 'tool.completed']);
  });

  it('reports tool failures, unknown tools and invalid input to the model as error results', async () => {
    for (const [runId, name, input, message] of [
      ['run_fail', 'side_effect', { label: 'fail' }, 'the thing failed'],
      ['run_crash', 'side_effect', { label: 'crash' }, 'unexpected crash'],
      ['run_unknown', 'no_such_tool', {}, 'Unknown tool "no_such_tool"'],
      ['run_invalid', 'side_effect', { label: 7 }, 'Invalid input for side_effect: label'],
    ] as const) {
      await runWithToolCall(runId, name, input);
      expect(await runTool(runId)).toMatchObject({ isError: true });
      const result = await store.messages.get(runId, 'tool_result:toolu_1');
      expect(result!.content).toEqual({ content: expect.stringContaining(message), isError: true });
      const events = await store.events.list(runId, { after: 0, limit: 10 });
      expect(events.map((e) => e.type)).toEqual(['tool.started', 'tool.failed']);
    }
  });

  it("redacts the message of a tool whose system went away: it goes into the run's failure and Temporal's history", async () => {
    await runWithToolCall('run_gone', 'side_effect', { label: 'gone' });
    const inDoubt = (await runTool('run_gone').catch((e: unknown) => e)) as Error;
    expect(inDoubt.message).toContain('side_effect was cut off');
    expect(inDoubt.message).not.toContain('hunter2pass');
    await runWithToolCall('run_gone_idem', 'idempotent_effect', { label: 'gone' });
    const retried = (await runTool('run_gone_idem').catch((e: unknown) => e)) as Error;
    expect(retried.message).toContain('ECONNREFUSED');
    expect(retried.message).not.toContain('hunter2pass');
  });

  it('replays a stored model response instead of calling the model again', async () => {
    await store.runs.insert({ id: 'run_model', owner: 'u', goal: 'g', model: 'claude-sonnet-5-5', approvals: 'none', limits: { maxSteps: 5, maxCostUsd: 1, maxDurationSec: 60 } });
    nextReply = { content: [{ type: 'text', text: 'Hello' }], stopReason: 'end_turn', usage: { inputTokens: 1000, outputTokens: 100 } };
    const args = { runId: 'run_model', turn: 1, model: 'claude-sonnet-5-5' };
    const first = (await new MockActivityEnvironment({ attempt: 1 }).run(acts.callModel, args)) as unknown as ModelTurnResult;
    const second = await new MockActivityEnvironment({ attempt: 2 }).run(acts.callModel, args);
    expect(second).toEqual(first);
    expect(modelCalls).toBe(1);
    expect(first.usage).toEqual({ inputTokens: 1000, outputTokens: 100, costUsd: (1000 * 2 + 100 * 10) / 1e6 });
    expect((await store.runs.get('run_model'))!.usage.inputTokens).toBe(1000);
  });

  it('keeps a paid-for model answer while the database is away and records it once it is back, rather than ask again', async () => {
    await store.runs.insert({ id: 'run_model_outage', owner: 'u', goal: 'g', model: 'claude-sonnet-5-5', approvals: 'none', limits: { maxSteps: 5, maxCostUsd: 1, maxDurationSec: 60 } });
    nextReply = { content: [{ type: 'text', text: 'Paid for once' }], stopReason: 'end_turn', usage: { inputTokens: 1000, outputTokens: 100 } };
    // The answer's commit finds the database gone twice, then back.
    const { local, awayLeft } = activitiesWithDatabaseAway(2);
    const before = modelCalls;
    const result = (await new MockActivityEnvironment({ attempt: 1 }).run(local.callModel, { runId: 'run_model_outage', turn: 1, model: 'claude-sonnet-5-5' })) as unknown as ModelTurnResult;
    expect(result.stopReason).toBe('end_turn');
    expect(modelCalls - before).toBe(1);
    expect(awayLeft()).toBeLessThan(0);
    expect((await store.effects.get('run_model_outage:turn:1:model'))!.status).toBe('completed');
    expect((await store.runs.get('run_model_outage'))!.usage.inputTokens).toBe(1000);
  });

  it('keeps a paid-for relay summary while the database is away and records it once it is back, rather than ask again', async () => {
    await store.runs.insert({ id: 'run_summary_outage', owner: 'u', goal: 'g', model: 'claude-sonnet-5-5', approvals: 'none', limits: { maxSteps: 5, maxCostUsd: 1, maxDurationSec: 60 } });
    nextReply = { content: [{ type: 'text', text: 'Summarized once' }], stopReason: 'end_turn', usage: { inputTokens: 1000, outputTokens: 100 } };
    // The summary's commit finds the database gone twice, then back.
    const { local, awayLeft } = activitiesWithDatabaseAway(2);
    const before = modelCalls;
    const result = await new MockActivityEnvironment({ attempt: 1 }).run(local.summarize, { runId: 'run_summary_outage', segment: 0, throughTurn: 1, model: 'claude-sonnet-5-5' });
    expect(result).toMatchObject({ summaryChars: 'Summarized once'.length });
    expect(modelCalls - before).toBe(1);
    expect(awayLeft()).toBeLessThan(0);
    expect((await store.effects.get('run_summary_outage:segment:0:summary'))!.status).toBe('completed');
    expect((await store.messages.get('run_summary_outage', 'summary:0'))!.content).toMatchObject({ text: 'Summarized once' });
    expect((await store.runs.get('run_summary_outage'))!.usage.inputTokens).toBe(1000);
  });

  it('puts the run back to running in the transaction that settles its approval or its question, when the workflow asks', async () => {
    const limits = { maxSteps: 5, maxCostUsd: 1, maxDurationSec: 60 };
    const usage = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: 0, steps: 1 };
    const running = (runId: string): Progress => ({ runId, status: 'running', statusDetail: null, waitingFor: null, model: 'claude-sonnet-5-5', turn: 1, segment: 0, usage, limits, pendingApprovals: [], pendingInput: null, error: null, lastEventAt: null });
    const env = () => new MockActivityEnvironment({ attempt: 1 });

    await runWithToolCall('run_settle', 'side_effect', { label: 'e' });
    await store.runs.updateState('run_settle', { status: 'waiting_approval', statusDetail: 'waiting for approval of side_effect' });
    await env().run(acts.requestApproval, { runId: 'run_settle', approvalId: 'apr_settle', kind: 'tool' as const, turn: 1, toolUseId: 'toolu_1', reason: 'r', timeoutSec: 60 });
    // The API records a person's decision before it signals the run.
    await store.approvals.settle('apr_settle', { outcome: 'approved', by: 'alice', channel: 'api' });
    const verdict = await env().run(acts.settleApproval, { runId: 'run_settle', approvalId: 'apr_settle', proposed: { decision: 'approve' as const, by: 'alice', channel: 'api' as const }, resume: running('run_settle') });
    const decided = (await store.events.list('run_settle', { after: 0, limit: 10 })).find((e) => e.type === 'approval.decided')!;
    expect(verdict).toMatchObject({ decision: 'approved', by: 'alice', resumedAt: decided.at });
    expect(await store.runs.get('run_settle')).toMatchObject({ status: 'running', statusDetail: null });

    await store.runs.insert({ id: 'run_answer', owner: 'u', goal: 'g', model: 'claude-sonnet-5-5', approvals: 'none', limits });
    await store.messages.put({ runId: 'run_answer', key: 'assistant:1', turn: 1, kind: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'ask_user', input: { question: 'Which file?' } }] });
    await env().run(acts.requestInput, { runId: 'run_answer', requestId: 'inp_answer', turn: 1, toolUseId: 'toolu_1', timeoutSec: 60 });
    await store.runs.updateState('run_answer', { status: 'waiting_input', statusDetail: 'waiting for your answer' });
    // The API records the answer before it signals the run.
    await store.inputs.settle('inp_answer', { status: 'answered', answer: 'notes.md', by: 'alice' });
    const answered = await env().run(acts.settleInput, { runId: 'run_answer', requestId: 'inp_answer', turn: 1, toolUseId: 'toolu_1', answer: { text: 'notes.md', by: 'alice' }, resume: running('run_answer') });
    expect(answered).toMatchObject({ answered: true, resumedAt: expect.any(String) });
    expect(await store.runs.get('run_answer')).toMatchObject({ status: 'running', statusDetail: null });

    // Without `resume` (histories recorded before), the state is left to the workflow's own change.
    await store.runs.updateState('run_answer', { status: 'waiting_approval', statusDetail: 'x' });
    await env().run(acts.requestApproval, { runId: 'run_answer', approvalId: 'apr_answer', kind: 'tool' as const, turn: 1, toolUseId: 'toolu_1', reason: 'r', timeoutSec: 60 });
    expect(await env().run(acts.settleApproval, { runId: 'run_answer', approvalId: 'apr_answer', proposed: { decision: 'reject' as const, by: 'alice', channel: 'api' as const } })).not.toHaveProperty('resumedAt');
    expect(await store.runs.get('run_answer')).toMatchObject({ status: 'waiting_approval' });
  });

  it('refuses a decision or an answer the API never recorded: a signal alone approves nothing, and the call does not run', async () => {
    const env = () => new MockActivityEnvironment({ attempt: 1 });
    await store.runs.insert({ id: 'run_bare', owner: 'u', goal: 'g', model: 'claude-sonnet-5-5', approvals: 'all', limits: { maxSteps: 5, maxCostUsd: 1, maxDurationSec: 60 } });
    await store.messages.put({ runId: 'run_bare', key: 'assistant:1', turn: 1, kind: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'side_effect', input: { label: 'bare' } }] });
    await env().run(acts.requestApproval, { runId: 'run_bare', approvalId: 'apr_bare', kind: 'tool' as const, turn: 1, toolUseId: 'toolu_1', reason: 'r', timeoutSec: 60 });
    // What a signal sent around the API proposes, the approval still pending in the database: refused, by the system.
    const verdict = await env().run(acts.settleApproval, { runId: 'run_bare', approvalId: 'apr_bare', proposed: { decision: 'approve' as const, by: 'alice', channel: 'api' as const } });
    expect(verdict).toMatchObject({ decision: 'rejected', by: 'system', channel: 'system', comment: UNRECORDED_DECISION_REFUSED });
    expect(await store.approvals.get('apr_bare')).toMatchObject({ status: 'rejected', decidedBy: 'system' });
    // The same proposal dressed as the workflow's own word approves nothing either.
    await env().run(acts.requestApproval, { runId: 'run_bare', approvalId: 'apr_bare_2', kind: 'tool' as const, turn: 1, toolUseId: 'toolu_1', reason: 'r', timeoutSec: 60 });
    const dressed = await env().run(acts.settleApproval, { runId: 'run_bare', approvalId: 'apr_bare_2', proposed: { decision: 'approve' as const, by: 'system', channel: 'system' as const } });
    expect(dressed).toMatchObject({ decision: 'rejected', comment: UNRECORDED_DECISION_REFUSED });
    // The worker that would run the call finds no approval and refuses it.
    await expect(runTool('run_bare')).rejects.toMatchObject({ type: FailureType.ApprovalRequired });
    expect(ran).not.toContain('bare');
    // A question answered around the API: not the user's word, the question expires.
    await store.messages.put({ runId: 'run_bare', key: 'assistant:2', turn: 2, kind: 'assistant', content: [{ type: 'tool_use', id: 'toolu_q', name: 'ask_user', input: { question: 'Which file?' } }] });
    await env().run(acts.requestInput, { runId: 'run_bare', requestId: 'inp_bare', turn: 2, toolUseId: 'toolu_q', timeoutSec: 60 });
    expect(await env().run(acts.settleInput, { runId: 'run_bare', requestId: 'inp_bare', turn: 2, toolUseId: 'toolu_q', answer: { text: 'rm -rf /', by: 'alice' } })).toMatchObject({ answered: false });
    expect(await store.inputs.get('inp_bare')).toMatchObject({ status: 'expired' });
    // The workflow's own expiry is still written as such.
    await env().run(acts.requestApproval, { runId: 'run_bare', approvalId: 'apr_bare_3', kind: 'tool' as const, turn: 1, toolUseId: 'toolu_1', reason: 'r', timeoutSec: 60 });
    const expired = await env().run(acts.settleApproval, { runId: 'run_bare', approvalId: 'apr_bare_3', proposed: { decision: 'expire' as const, by: 'system', channel: 'system' as const } });
    expect(expired).toMatchObject({ decision: 'expired' });
  });

  it("stores the limits a follow-up raises on the run, and a retried take-in raises them as the first would have", async () => {
    const env = () => new MockActivityEnvironment({ attempt: 1 });
    await store.runs.insert({ id: 'run_raise', owner: 'u', goal: 'g', model: 'claude-sonnet-5-5', approvals: 'none', limits: { maxSteps: 5, maxCostUsd: 1, maxDurationSec: 60 } });
    await store.userMessages.insert({ id: 'msg_raise_1', runId: 'run_raise', by: 'u', text: 'go on', limits: { maxSteps: 20 } });
    await store.userMessages.insert({ id: 'msg_raise_2', runId: 'run_raise', by: 'u', text: 'and spend less', limits: { maxCostUsd: 0.5 } });
    const taken = await env().run(acts.acceptFollowUps, { runId: 'run_raise', turn: 2 });
    expect(taken).toMatchObject({ accepted: 2, limits: { maxSteps: 20, maxCostUsd: 0.5 } });
    // Raised, never lowered: what the tree's books and a continuation read.
    expect((await store.runs.get('run_raise'))!.limits).toEqual({ maxSteps: 20, maxCostUsd: 1, maxDurationSec: 60 });
    // The step retried after its first attempt committed (the workflow never saw that result): the same limits.
    expect(await env().run(acts.acceptFollowUps, { runId: 'run_raise', turn: 2 })).toMatchObject({ accepted: 0, limits: { maxSteps: 20, maxCostUsd: 0.5 } });
    expect(await env().run(acts.acceptFollowUps, { runId: 'run_raise', turn: 3 })).toMatchObject({ accepted: 0, limits: null });
  });

  it('classifies a model failure into a typed Temporal failure', async () => {
    await store.runs.insert({ id: 'run_model_err', owner: 'u', goal: 'g', model: 'x', approvals: 'none', limits: { maxSteps: 5, maxCostUsd: 1, maxDurationSec: 60 } });
    const failing: ModelAdapter = { complete: async () => Promise.reject(new Error('socket hang up')) };
    const local = createActivities(
      createActivityDeps({ config: loadConfig({ DATA_DIR: dir }), store, bus: new InMemoryBus(), logger: createLogger({ level: 'silent' }), modelFor: () => failing }),
    );
    const err = await new MockActivityEnvironment().run(local.callModel, { runId: 'run_model_err', turn: 1, model: 'x' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ type: 'ModelConnectionError', nonRetryable: false });
  });

  it('never shows the worker’s own paths in a tool error', async () => {
    await runWithToolCall('run_paths', 'workspace_write', { path: 'a/b.txt', content: 'x' });
    await store.messages.put({ runId: 'run_paths', key: 'assistant:2', turn: 2, kind: 'assistant', content: [{ type: 'tool_use', id: 'toolu_2', name: 'workspace_write', input: { path: 'a', content: 'y' } }] });
    await runTool('run_paths');
    // Writing a file where a folder is fails inside the file system, whose message names the full path.
    const outcome = await new MockActivityEnvironment().run(acts.runTool, { runId: 'run_paths', turn: 2, toolUseId: 'toolu_2' });
    expect(outcome).toMatchObject({ isError: true });
    const result = (await store.messages.get('run_paths', 'tool_result:toolu_2'))!.content as { content: string };
    expect(result.content).toContain('<workspace>');
    expect(result.content).not.toContain(dir);
  });

  it('fails a call bigger than a whole rate-limit bucket at once, rather than let it wait forever', async () => {
    await store.runs.insert({ id: 'run_too_big', owner: 'u', goal: 'g', model: 'claude-sonnet-5-5', approvals: 'none', limits: { maxSteps: 5, maxCostUsd: 1, maxDurationSec: 60 } });
    // max_tokens (4096) is reserved as output, and the key may only write 1,000 output tokens a minute.
    const config = loadConfig({ DATA_DIR: dir, MODEL_RATE_LIMITS: JSON.stringify({ '*': { outputTpm: 1000 } }) });
    const local = createActivities(createActivityDeps({ config, store, bus: new InMemoryBus(), logger: createLogger({ level: 'silent' }), modelFor: () => model }));
    const before = modelCalls;
    const err = await new MockActivityEnvironment().run(local.callModel, { runId: 'run_too_big', turn: 1, model: 'claude-sonnet-5-5' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ type: 'ModelCallExceedsRateLimit', nonRetryable: true });
    expect(String((err as Error).message)).toContain('output_tpm limit of 1000 per minute');
    expect(modelCalls).toBe(before);
  });

  it('takes the provider’s word over the config when the key has less than configured, and says so once', async () => {
    await store.runs.insert({ id: 'run_granted', owner: 'u', goal: 'g', model: 'claude-opus-5-5', approvals: 'none', limits: { maxSteps: 5, maxCostUsd: 1, maxDurationSec: 60 } });
    const config = loadConfig({ DATA_DIR: dir, MODEL_RATE_LIMITS: JSON.stringify({ 'claude-opus-5-5': { inputTpm: 90_000 } }) });
    const warnings: string[] = [];
    const logger = createLogger({ level: 'silent' });
    logger.warn = ((_obj: unknown, msg?: string) => void warnings.push(String(msg))) as typeof logger.warn;
    const granted: ModelAdapter = {
      complete: async () => ({ content: [{ type: 'text', text: 'ok' }], stopReason: 'end_turn', usage: { inputTokens: 10, outputTokens: 1 }, remaining: {}, limits: { input_tpm: 5000 } }),
    };
    const local = createActivities(createActivityDeps({ config, store, bus: new InMemoryBus(), logger, modelFor: () => granted }));
    for (const turn of [1, 2]) await new MockActivityEnvironment().run(local.callModel, { runId: 'run_granted', turn, model: 'claude-opus-5-5' });
    const books = await store.capacity.books('claude-opus-5-5', { input_tpm: 90_000 }, Date.now());
    expect(books.levels.input_tpm).toBeLessThanOrEqual(5000 + 100); // capped at what the key has (plus a moment's refill)
    expect(warnings).toEqual(['MODEL_RATE_LIMITS gives claude-opus-5-5 90000 input_tpm, but the API key has 5000: lower it']);
  });

  it('tells the workflow how long to wait when the books have no room, and reserves nothing for it', async () => {
    await store.runs.insert({ id: 'run_wait', owner: 'u', goal: 'g', model: 'claude-haiku-4-5', approvals: 'none', limits: { maxSteps: 5, maxCostUsd: 1, maxDurationSec: 60 } });
    const config = loadConfig({ DATA_DIR: dir, MODEL_RATE_LIMITS: JSON.stringify({ 'claude-haiku-4-5': { rpm: 1 } }) });
    const local = createActivities(createActivityDeps({ config, store, bus: new InMemoryBus(), logger: createLogger({ level: 'silent' }), modelFor: () => model }));
    nextReply = { content: [{ type: 'text', text: 'Hello' }], stopReason: 'end_turn', usage: { inputTokens: 10, outputTokens: 1 } };
    const first = await new MockActivityEnvironment().run(local.callModel, { runId: 'run_wait', turn: 1, model: 'claude-haiku-4-5' });
    expect(first).toMatchObject({ stopReason: 'end_turn' });
    // One request a minute: the next call must wait about a minute, and says it waits for rpm.
    const second = await new MockActivityEnvironment().run(local.callModel, { runId: 'run_wait', turn: 2, model: 'claude-haiku-4-5' });
    expect(second).toMatchObject({ deferred: 'capacity', limit: 'rpm' });
    expect((second as unknown as { waitMs: number }).waitMs).toBeGreaterThan(55_000);
    expect(await store.capacity.reservedFor('claude-haiku-4-5', Date.now())).toEqual({ requests: 0, inputTokens: 0, outputTokens: 0 });
    expect(await store.capacity.countWaiting('claude-haiku-4-5', Date.now())).toBe(1);
  });
});
