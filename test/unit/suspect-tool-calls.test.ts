/**
 * A suspect tool call (its ledger entry started but never completed: an earlier attempt's worker was lost) runs in
 * the worker's sandbox, not in process; a sandbox that dies ends the attempt with a non-retryable `ToolWorkerLost`;
 * a tool error from the sandbox is the model's as in process; a call that is not suspect, or whose sandbox cannot
 * start, runs in process.
 * (MockActivityEnvironment, real SQLite store, a fake sandbox: the forked one is tested in tool-sandbox.test.ts.)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { z } from 'zod';
import { createActivities, type Activities } from '../../activities';
import { defineTool, ToolError } from '../../activities/tools/tool';
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
    acts = createActivities(createActivityDeps({ config, store, bus: new InMemoryBus(), logger: createLogger({ level: 'silent' }), extraTools: [effect], toolSandbox: sandbox }));
  });
  afterAll(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function runWithToolCall(runId: string, label: string, opts: { inDoubt: boolean }): Promise<string> {
    await store.runs.insert({ id: runId, owner: 'u', goal: 'g', model: 'claude-sonnet-5-5', approvals: 'none', limits: { maxSteps: 5, maxCostUsd: 1, maxDurationSec: 60 } });
    await store.messages.put({ runId, key: 'assistant:1', turn: 1, kind: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: effect.name, input: { label } }] });
    const key = `${runId}:turn:1:tool:toolu_1`;
    if (opts.inDoubt) await store.effects.begin(key, { runId, kind: 'tool', name: effect.name });
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

  it('runs a call that is not suspect in process', async () => {
    const before = sandboxed.length;
    await runWithToolCall('run_fresh', 'd', { inDoubt: false });
    expect(await runTool('run_fresh', 1)).toMatchObject({ isError: false });
    expect(ranInProcess).toContain('d');
    expect(sandboxed).toHaveLength(before);
  });
});
