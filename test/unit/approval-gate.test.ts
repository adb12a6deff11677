/**
 * The executing worker's own approval check (`runTool`), on a real SQLite store: two workers share it,
 * one enforcing `MIN_APPROVALS=write`, with tool sets that differ. A call that needs an approval by the
 * executing worker's own definition and policy runs only with an approved decision recorded for exactly
 * that call; otherwise nothing runs, the ledger is untouched, a `tool.refused` event says why and the
 * activity fails with `ApprovalRequired` (not retried).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { z } from 'zod';
import { createActivities, type Activities } from '../../activities';
import { toolCallHash } from '../../activities/idempotency-keys';
import { defineTool } from '../../activities/tools/tool';
import { InMemoryBus } from '../../shared/bus/in-memory-bus';
import { loadConfig } from '../../shared/config';
import { createLogger } from '../../shared/logger';
import { createStore, type Store } from '../../shared/store';
import { createActivityDeps } from '../../worker/activity-deps';
import type { ApprovalKind, ApprovalPolicy, Risk } from '../../contract/run';
import { waitFor } from '../support/wait';

describe('the executing worker checks the approval itself', () => {
  let dir: string;
  let store: Store;
  /** Knows `wipe` (irreversible); enforces no floor. */
  let full: Activities;
  /** Knows no `wipe`; enforces MIN_APPROVALS=write. */
  let strict: Activities;
  const ran: string[] = [];
  let approvals = 0;

  const wipe = defineTool({
    name: 'wipe',
    description: 'deletes everything',
    input: z.object({ what: z.string() }),
    risk: 'irreversible',
    async run(input) {
      ran.push(`wipe ${input.what}`);
      return 'wiped';
    },
  });
  /** Sends once per call; a send can be cut off (`cutOff`): it waits until its attempt is cancelled. */
  let cutOff = false;
  const send = defineTool({
    name: 'send',
    description: 'a write that cannot be undone or safely repeated',
    input: z.object({ to: z.string() }),
    risk: 'write',
    async run(input, ctx) {
      ran.push(`send ${input.to}`);
      if (cutOff) await new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('cut off'))));
      return 'sent';
    },
  });
  const note = defineTool({
    name: 'note',
    description: 'a write',
    input: z.object({ text: z.string() }),
    risk: 'write',
    async run(input) {
      ran.push(`note ${input.text}`);
      return 'noted';
    },
  });

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-gate-'));
    const config = loadConfig({ DATA_DIR: dir });
    store = await createStore(config);
    const worker = (env: Record<string, string>, tools: ReturnType<typeof defineTool<any>>[]) =>
      createActivities(createActivityDeps({ config: loadConfig({ DATA_DIR: dir, ...env }), store, bus: new InMemoryBus(), logger: createLogger({ level: 'silent' }), extraTools: tools }));
    full = worker({}, [wipe, note, send]);
    strict = worker({ MIN_APPROVALS: 'write' }, [note]);
  });
  afterAll(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function runWithToolCall(runId: string, approvals: ApprovalPolicy, name: string, input: Record<string, unknown>, toolUseId = 'toolu_1'): Promise<void> {
    if (!(await store.runs.get(runId))) {
      await store.runs.insert({ id: runId, owner: 'u', goal: 'g', model: 'claude-sonnet-5-5', approvals, limits: { maxSteps: 5, maxCostUsd: 1, maxDurationSec: 60 } });
    }
    await store.messages.put({ runId, key: 'assistant:1', turn: 1, kind: 'assistant', content: [{ type: 'tool_use', id: toolUseId, name, input }] });
  }

  /** `risk`: what the approver was shown (the worker that asked records its reading; these tools are at most irreversible). */
  async function approve(runId: string, kind: ApprovalKind, name: string, input: unknown, toolUseId = 'toolu_1', outcome: 'approved' | 'rejected' = 'approved', turn = 1, risk: Risk = 'irreversible'): Promise<void> {
    const id = `apr_${(approvals += 1)}`;
    const now = new Date().toISOString();
    await store.approvals.insert({ id, runId, kind, turn, toolUseId, tool: name, input, inputHash: toolCallHash(name, input), risk, reason: 'r', requestedAt: now, expiresAt: now });
    await store.approvals.settle(id, { outcome, by: 'alice', channel: 'api' });
  }

  const runTool = (acts: Activities, runId: string, extra: Record<string, unknown> = {}) =>
    new MockActivityEnvironment({ attempt: 1 }).run(acts.runTool, { runId, turn: 1, toolUseId: 'toolu_1', ...extra });

  async function expectRefused(acts: Activities, runId: string, reason = 'approval_required', type = 'ApprovalRequired'): Promise<void> {
    const err = await runTool(acts, runId).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type, nonRetryable: true });
    const events = await store.events.list(runId, { after: 0, limit: 10 });
    expect(events.map((e) => e.type)).toEqual(['tool.refused']);
    expect(events[0]!.data).toMatchObject({ toolUseId: 'toolu_1', reason });
  }

  it('refuses a call that needs approval when none is recorded: no effect, no ledger entry, an event', async () => {
    await runWithToolCall('run_a', 'write', 'wipe', { what: 'db' });
    await expectRefused(full, 'run_a');
    expect(ran).not.toContain('wipe db');
    expect(await store.effects.get('run_a:turn:1:tool:toolu_1')).toBeUndefined();
    expect((await store.events.list('run_a', { after: 0, limit: 10 }))[0]!.data).toMatchObject({ name: 'wipe', risk: 'irreversible', policy: 'write' });
    // The failure says which risk and policy it applied, for the run to put to the human as they are.
    const err = await runTool(full, 'run_a').catch((e: unknown) => e);
    expect((err as ApplicationFailure).details).toEqual([{ risk: 'irreversible', policy: 'write' }]);
    expect((err as ApplicationFailure).message).toMatch(/^wipe is an irreversible action and needs approval under the write policy/);
  });

  it('records the approval asked for a refused call with the refusing worker’s risk, not its own reading', async () => {
    await runWithToolCall('run_h', 'write', 'note', { text: 'x' });
    const env = new MockActivityEnvironment();
    const args = { runId: 'run_h', kind: 'tool' as const, turn: 1, toolUseId: 'toolu_1', reason: 'r', timeoutSec: 60 };
    expect(await env.run(full.requestApproval, { ...args, approvalId: 'apr_h1', risk: 'irreversible' as const })).toMatchObject({ tool: 'note', risk: 'irreversible' });
    expect(await env.run(full.requestApproval, { ...args, approvalId: 'apr_h2' })).toMatchObject({ tool: 'note', risk: 'write' });
  });

  it('runs it once an approval of exactly this call is recorded', async () => {
    await runWithToolCall('run_b', 'write', 'wipe', { what: 'cache' });
    await approve('run_b', 'tool', 'wipe', { what: 'other' }); // another input
    await approve('run_b', 'tool', 'wipe', { what: 'cache' }, 'toolu_2'); // another call
    await approve('run_b', 'tool', 'wipe', { what: 'cache' }, 'toolu_1', 'rejected');
    await approve('run_b', 'effect_in_doubt', 'wipe', { what: 'cache' }); // another kind
    await approve('run_b', 'tool', 'wipe', { what: 'cache' }, 'toolu_1', 'approved', 2); // another turn (ids are the model's, not unique)
    await approve('run_b', 'tool', 'wipe', { what: 'cache' }, 'toolu_1', 'approved', 1, 'write'); // shown as less risky than it is here
    await expectRefused(full, 'run_b');
    await approve('run_b', 'tool', 'wipe', { what: 'cache' });
    expect(await runTool(full, 'run_b')).toMatchObject({ isError: false, replayed: false });
    expect(ran.filter((r) => r === 'wipe cache')).toHaveLength(1);
  });

  it('applies its own MIN_APPROVALS floor to a run made with `approvals: none`', async () => {
    await runWithToolCall('run_c', 'none', 'note', { text: 'hi' });
    await expectRefused(strict, 'run_c');
    expect((await store.events.list('run_c', { after: 0, limit: 10 }))[0]!.data).toMatchObject({ risk: 'write', policy: 'write' });
    expect(ran).not.toContain('note hi');
    // The worker without the floor runs it unasked, as the run's own policy says.
    await runWithToolCall('run_c2', 'none', 'note', { text: 'ho' });
    expect(await runTool(full, 'run_c2')).toMatchObject({ isError: false });
    expect(ran).toContain('note ho');
  });

  it('treats a tool it does not know as the riskiest: refused without approval, reported unknown with one', async () => {
    await runWithToolCall('run_d', 'write', 'wipe', { what: 'disk' });
    await expectRefused(strict, 'run_d');
    await approve('run_d', 'tool', 'wipe', { what: 'disk' });
    expect(await runTool(strict, 'run_d')).toMatchObject({ isError: true });
    expect(ran).not.toContain('wipe disk');
  });

  it('returns a completed call’s result without asking again', async () => {
    await runWithToolCall('run_e', 'none', 'note', { text: 'done' });
    await runTool(full, 'run_e');
    expect(await runTool(strict, 'run_e')).toMatchObject({ isError: false, replayed: true });
    expect(ran.filter((r) => r === 'note done')).toHaveLength(1);
  });

  it('re-runs a call in doubt only with an approved re-run recorded, whatever the caller says', async () => {
    await runWithToolCall('run_f', 'none', 'note', { text: 'doubt' });
    await store.effects.begin('run_f:turn:1:tool:toolu_1', { runId: 'run_f', kind: 'tool', name: 'note' });
    const err = await runTool(full, 'run_f', { rerunInDoubt: true }).catch((e: unknown) => e);
    expect(err).toMatchObject({ type: 'EffectInDoubt', nonRetryable: true });
    expect((await store.events.list('run_f', { after: 0, limit: 10 })).map((e) => [e.type, (e.data as { reason?: string }).reason])).toEqual([['tool.refused', 'rerun_not_approved']]);
    expect(ran).not.toContain('note doubt');
    await approve('run_f', 'effect_in_doubt', 'note', { text: 'doubt' });
    expect(await runTool(full, 'run_f', { rerunInDoubt: true })).toMatchObject({ isError: false });
    expect(ran).toContain('note doubt');
  });

  it('lets one approved re-run send once: an attempt cut off again is not retried on the same approval', async () => {
    await runWithToolCall('run_g', 'none', 'send', { to: 'bob' });
    await store.effects.begin('run_g:turn:1:tool:toolu_1', { runId: 'run_g', kind: 'tool', name: 'send' });
    await approve('run_g', 'effect_in_doubt', 'send', { to: 'bob' });
    const sends = () => ran.filter((r) => r === 'send bob').length;

    // The approved re-run starts sending and is cut off (its worker stops; here: cancelled).
    cutOff = true;
    const interrupted = new MockActivityEnvironment({ attempt: 1 });
    const first = interrupted.run(full.runTool, { runId: 'run_g', turn: 1, toolUseId: 'toolu_1', rerunInDoubt: true }).catch((e: unknown) => e);
    await waitFor(() => sends() === 1, { what: 'the approved re-run to send' });
    interrupted.cancel();
    await first;
    cutOff = false;

    // Temporal's retry of that attempt, same arguments: in doubt again, and the approval is spent.
    const retried = await new MockActivityEnvironment({ attempt: 2 })
      .run(full.runTool, { runId: 'run_g', turn: 1, toolUseId: 'toolu_1', rerunInDoubt: true })
      .catch((e: unknown) => e);
    expect(retried).toMatchObject({ type: 'EffectInDoubt', nonRetryable: true });
    expect(sends()).toBe(1);

    // A new human word lets it send once more.
    await approve('run_g', 'effect_in_doubt', 'send', { to: 'bob' });
    expect(await runTool(full, 'run_g', { rerunInDoubt: true })).toMatchObject({ isError: false });
    expect(sends()).toBe(2);
  });
});
