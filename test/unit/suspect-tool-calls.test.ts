/**
 * A suspect tool call (its ledger entry started but never completed: an earlier attempt's worker was lost) runs in
 * the worker's sandbox, not in process; a sandbox that dies ends the attempt with a non-retryable `ToolWorkerLost`;
 * a tool error from the sandbox is the model's as in process; a call that is not suspect, or whose sandbox cannot
 * start, runs in process. A call whose earlier attempts all ended in a live worker that knew they failed (the tool
 * threw, said it was unavailable) is not suspect; one with an attempt that vanished stays so.
 * (MockActivityEnvironment, real SQLite store, a fake sandbox: the forked one is tested in tool-sandbox.test.ts.)
 * Then createSuspectCalls alone, with a ledger of the test's: what counts as a known failure, and what is remembered
 * when the ledger cannot be written.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { z } from 'zod';
import { createActivities, type Activities } from '../../activities';
import { defineTool, ToolError, ToolUnavailableError } from '../../activities/tools/tool';
import { createSuspectCalls } from '../../activities/tools/suspect-calls';
import { ToolSandboxDied, ToolSandboxFailed, type SandboxedCall, type ToolSandbox } from '../../activities/tools/tool-sandbox';
import { FailureType } from '../../contract/failures';
import { InMemoryBus } from '../../shared/bus/in-memory-bus';
import { loadConfig } from '../../shared/config';
import { createLogger } from '../../shared/logger';
import { createStore, type Store } from '../../shared/store';
import { createActivityDeps } from '../../worker/activity-deps';

describe('a suspect tool call', () => {
  let dir: string;
  let store: Store;
  let acts: Activities;
  const ranInProcess: string[] = [];
  const sandboxed: SandboxedCall[] = [];
  let answer: (call: SandboxedCall) => Promise<string>;

  const effect = defineTool({
    name: 'idempotent_effect',
    description: 'an idempotent write',
    input: z.object({ label: z.string() }),
    risk: 'write',
    idempotent: true,
    async run(input) {
      ranInProcess.push(input.label);
      return { done: input.label };
    },
  });
  /** Unavailable the first time each label runs in process, then done. */
  const unavailableOnce = new Set<string>();
  const flaky = defineTool({
    name: 'flaky_effect',
    description: 'an idempotent write whose backend is away at first',
    input: z.object({ label: z.string() }),
    risk: 'write',
    idempotent: true,
    async run(input) {
      ranInProcess.push(input.label);
      if (!unavailableOnce.has(input.label)) {
        unavailableOnce.add(input.label);
        throw new ToolUnavailableError('backend away');
      }
      return { done: input.label };
    },
  });
  const sandbox: ToolSandbox = {
    run(call) {
      sandboxed.push(call);
      return answer(call);
    },
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-suspect-'));
    const config = loadConfig({ DATA_DIR: dir });
    store = await createStore(config);
    acts = createActivities(createActivityDeps({ config, store, bus: new InMemoryBus(), logger: createLogger({ level: 'silent' }), extraTools: [effect, flaky], toolSandbox: sandbox }));
  });
  afterAll(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function runWithToolCall(runId: string, label: string, opts: { inDoubt: boolean; tool?: string }): Promise<string> {
    const name = opts.tool ?? effect.name;
    await store.runs.insert({ id: runId, owner: 'u', goal: 'g', model: 'claude-sonnet-5-5', approvals: 'none', limits: { maxSteps: 5, maxCostUsd: 1, maxDurationSec: 60 } });
    await store.messages.put({ runId, key: 'assistant:1', turn: 1, kind: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name, input: { label } }] });
    const key = `${runId}:turn:1:tool:toolu_1`;
    // An attempt begun and never ended: its worker was lost mid-call.
    if (opts.inDoubt) await store.effects.begin(key, { runId, kind: 'tool', name });
    return key;
  }
  const runTool = (runId: string, attempt: number) => new MockActivityEnvironment({ attempt }).run(acts.runTool, { runId, turn: 1, toolUseId: 'toolu_1' });

  it('runs in the sandbox, with the ids and workspace the worker prepared, and its answer is recorded as in process', async () => {
    answer = async () => JSON.stringify({ done: 'in the sandbox' }, null, 2);
    const key = await runWithToolCall('run_suspect', 'a', { inDoubt: true });
    expect(await runTool('run_suspect', 2)).toMatchObject({ isError: false, replayed: false });
    expect(ranInProcess).not.toContain('a');
    expect(sandboxed.at(-1)).toMatchObject({ agent: 'default', tool: effect.name, input: { label: 'a' }, runId: 'run_suspect', idempotencyKey: key, attempt: 2, run: { owner: 'u' } });
    expect(sandboxed.at(-1)!.workspaceDir).toContain(dir);
    expect(await store.effects.get(key)).toMatchObject({ status: 'completed' });
    expect((await store.messages.get('run_suspect', 'tool_result:toolu_1'))?.content).toEqual({ content: JSON.stringify({ done: 'in the sandbox' }, null, 2), isError: false });
  });

  it('ends the attempt with a non-retryable ToolWorkerLost naming the tool when the sandbox dies, and records no result', async () => {
    answer = async (call) => Promise.reject(new ToolSandboxDied(call.tool, 'was killed by SIGKILL'));
    const key = await runWithToolCall('run_poison', 'b', { inDoubt: true });
    const err = await runTool('run_poison', 2).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: FailureType.ToolWorkerLost, nonRetryable: true });
    expect((err as Error).message).toContain(`${effect.name} killed its process`);
    expect((err as Error).message).toContain('was killed by SIGKILL');
    expect(await store.effects.get(key)).toMatchObject({ status: 'started' });
    expect(await store.messages.get('run_poison', 'tool_result:toolu_1')).toBeUndefined();
  });

  it("gives the model a sandboxed tool's ToolError, as in process", async () => {
    answer = async () => Promise.reject(new ToolError('bad path'));
    await runWithToolCall('run_tool_error', 'c', { inDoubt: true });
    expect(await runTool('run_tool_error', 2)).toMatchObject({ isError: true });
    expect((await store.messages.get('run_tool_error', 'tool_result:toolu_1'))?.content).toEqual({ content: 'bad path', isError: true });
  });

  it('runs in process when no sandbox process can be had, as a worker without one', async () => {
    answer = async () => Promise.reject(new ToolSandboxFailed('the process for idempotent_effect exited with code 1 before it ran the tool'));
    await runWithToolCall('run_no_sandbox', 'e', { inDoubt: true });
    expect(await runTool('run_no_sandbox', 2)).toMatchObject({ isError: false });
    expect(ranInProcess).toContain('e');
  });

  it('runs in process the retry of a call whose attempt failed in a live worker (the tool said it was unavailable)', async () => {
    const before = sandboxed.length;
    const key = await runWithToolCall('run_clean_failure', 'f', { inDoubt: false, tool: flaky.name });
    const err = await runTool('run_clean_failure', 1).catch((e: unknown) => e);
    expect(err).toMatchObject({ type: FailureType.ToolUnavailable, nonRetryable: false });
    // Still in doubt (the backend may have taken the write): only where the retry runs changes.
    expect(await store.effects.get(key)).toMatchObject({ status: 'started', attempts: 1 });
    expect(await runTool('run_clean_failure', 2)).toMatchObject({ isError: false });
    expect(ranInProcess.filter((l) => l === 'f')).toHaveLength(2);
    expect(sandboxed).toHaveLength(before);
  });

  it('runs in process the retry of a clean failure the ledger could not take (the database away), in the worker that saw it', async () => {
    const before = sandboxed.length;
    await runWithToolCall('run_unwritten', 'h', { inDoubt: false, tool: flaky.name });
    const away = jest.spyOn(store.effects, 'attemptFailed').mockRejectedValueOnce(new Error('connect ECONNREFUSED'));
    try {
      expect(await runTool('run_unwritten', 1).catch((e: unknown) => e)).toMatchObject({ type: FailureType.ToolUnavailable });
      expect(away).toHaveBeenCalledTimes(1);
    } finally {
      away.mockRestore();
    }
    expect(await runTool('run_unwritten', 2)).toMatchObject({ isError: false });
    expect(sandboxed).toHaveLength(before);
  });

  it('keeps a call suspect whose attempt vanished, though a later attempt failed in a live worker', async () => {
    answer = async () => Promise.reject(new ToolUnavailableError('backend away in the sandbox'));
    await runWithToolCall('run_lost_then_clean', 'g', { inDoubt: true, tool: flaky.name });
    expect(await runTool('run_lost_then_clean', 2).catch((e: unknown) => e)).toMatchObject({ type: FailureType.ToolUnavailable });
    answer = async () => JSON.stringify({ done: 'in the sandbox' }, null, 2);
    const before = sandboxed.length;
    expect(await runTool('run_lost_then_clean', 3)).toMatchObject({ isError: false });
    expect(sandboxed).toHaveLength(before + 1);
    expect(ranInProcess).not.toContain('g');
  });

  it('runs a call that is not suspect in process', async () => {
    const before = sandboxed.length;
    await runWithToolCall('run_fresh', 'd', { inDoubt: false });
    expect(await runTool('run_fresh', 1)).toMatchObject({ isError: false });
    expect(ranInProcess).toContain('d');
    expect(sandboxed).toHaveLength(before);
  });
});

describe('which calls are suspect (createSuspectCalls)', () => {
  const logger = createLogger({ level: 'silent' });
  const ledgerOf = (fail?: Error) => {
    const written: [string, number, number][] = [];
    return {
      written,
      async attemptFailed(key: string, attempt: number, attemptsFailed: number) {
        if (fail) throw fail;
        written.push([key, attempt, attemptsFailed]);
      },
    };
  };
  const failedCleanly = { cancelled: false, runStopped: false };

  it('is suspect when fewer earlier attempts ended with a known failure than were begun', () => {
    const { begun } = createSuspectCalls(ledgerOf(), logger);
    expect(begun('k', { state: 'new' }, undefined).suspect).toBe(false);
    expect(begun('k', { state: 'in_doubt', attempts: 2, attemptsFailed: 2 }, undefined).suspect).toBe(false);
    expect(begun('k', { state: 'in_doubt', attempts: 2, attemptsFailed: 1 }, undefined).suspect).toBe(true);
  });

  it('records a known failure as this attempt (the latest) and the count so far', async () => {
    const ledger = ledgerOf();
    const { begun } = createSuspectCalls(ledger, logger);
    await begun('a', { state: 'new' }, undefined).failed(new Error('x'), failedCleanly);
    await begun('b', { state: 'in_doubt', attempts: 2, attemptsFailed: 1 }, undefined).failed(new Error('x'), failedCleanly);
    expect(ledger.written).toEqual([
      ['a', 1, 1],
      ['b', 3, 2],
    ]);
  });

  it('records nothing for a cancelled attempt, one that stopped the run, or one whose event loop stood still', async () => {
    const ledger = ledgerOf();
    const { begun } = createSuspectCalls(ledger, logger);
    await begun('c', { state: 'new' }, undefined).failed(new Error('x'), { cancelled: true, runStopped: false });
    await begun('c', { state: 'new' }, undefined).failed(new Error('x'), { cancelled: false, runStopped: true });
    const blocked = begun('c', { state: 'new' }, 2000);
    const until = Date.now() + 1100;
    while (Date.now() < until); // the loop stands still for more than half the heartbeat timeout
    await blocked.failed(new Error('x'), failedCleanly);
    expect(ledger.written).toEqual([]);
    // A loop that turns is no reason.
    const turning = begun('c', { state: 'new' }, 2000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await turning.failed(new Error('x'), failedCleanly);
    expect(ledger.written).toEqual([['c', 1, 1]]);
  });

  it('remembers a known failure the ledger could not take for this process\'s next attempt, unless another overtook it', async () => {
    const { begun } = createSuspectCalls(ledgerOf(new Error('database away')), logger);
    await begun('d', { state: 'new' }, undefined).failed(new Error('database away'), failedCleanly);
    expect(begun('d', { state: 'in_doubt', attempts: 1, attemptsFailed: 0 }, undefined).suspect).toBe(false);
    await begun('e', { state: 'new' }, undefined).failed(new Error('database away'), failedCleanly);
    // Attempt 2 began elsewhere and vanished: this process's word on attempt 1 says nothing about it.
    expect(begun('e', { state: 'in_doubt', attempts: 2, attemptsFailed: 0 }, undefined).suspect).toBe(true);
  });
});
