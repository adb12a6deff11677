/**
 * POST /api/runs answers once the run is committed, at most START_RUN_WAIT_MS after it (here 0: never waiting for
 * Temporal), and its workflow start follows (api/owed-starts.ts). Against the real dev server and a worker: every run
 * answered starts once and completes; a run whose start is still owed — its API died between the commit and the
 * start, written here as that API left it — is started by whatever reaches it first: a cancel, a pause, a follow-up,
 * or a replay of its request with the same Idempotency-Key. A run Temporal refuses to start for good (over one of its
 * limits: here its owner's name, over a search attribute's 2 KB) ends failed, `start_refused`, and is not tried again.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import { eventKeys } from '../../contract/keys';
import type { RunLimits } from '../../contract/run';
import { startHarness, type Harness } from '../support/harness';
import { waitFor } from '../support/wait';

const LIMITS: RunLimits = { maxSteps: 5, maxCostUsd: 1, maxDurationSec: 600 };
const LONG_NAME = `user-${'n'.repeat(2100)}`;
const TESTER = 'owed-tester-token-0001';
const LONG = 'owed-long-name-token-0001';

describe('workflow starts made after the answer', () => {
  let h: Harness;
  let owner: string;

  beforeAll(async () => {
    // A second user whose name is over Temporal's 2 KB limit on a search attribute's value (their runs' owner).
    h = await startHarness({ env: { START_RUN_WAIT_MS: '0', API_TOKENS: `${TESTER}:owed-tester,${LONG}:${LONG_NAME}` } });
    h.defaultToken = TESTER;
    const first = await h.createRun({ goal: 'Whose runs are these?', model: 'demo', approvals: 'none' });
    // Ended before the storm below: twenty more would be one over the owner's queue cap while it waits.
    owner = (await h.waitForStatus(first, 'completed', { timeoutMs: 30_000 })).owner;
  });
  afterAll(() => h?.close());

  /** The workflow executions Temporal has with the run's id. */
  async function executionsOf(id: string): Promise<number> {
    let n = 0;
    for await (const _ of h.client.workflow.list({ query: `WorkflowId = "${id}"` })) n += 1;
    return n;
  }

  /** A run as an API that died after its commit leaves it: committed, its start owed, no workflow. */
  async function orphaned(goal: string, idempotencyKey?: string): Promise<string> {
    const id = `run_owed_${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
    const queued = await h.store.queueRun(
      { id, owner, goal, model: 'demo', approvals: 'none', limits: LIMITS, idempotencyKey: idempotencyKey ?? null, startOwed: true, approvalTimeoutSec: 600 },
      100,
      [{ key: eventKeys.queued(), type: 'run.queued', data: { goal, model: 'demo', approvals: 'none', limits: LIMITS } }],
    );
    if (!('run' in queued) || !queued.created) throw new Error('the run was not queued');
    await expect(h.client.workflow.getHandle(id).describe()).rejects.toThrow();
    return id;
  }

  it('starts every run it answered, once, and each completes', async () => {
    const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => h.createRun({ goal: `Storm run ${i} [owed-storm]`, model: 'demo', approvals: 'none' })));
    for (const id of ids) expect((await h.waitForStatus(id, 'completed', { timeoutMs: 60_000 })).status).toBe('completed');
    for (const id of ids) {
      expect((await h.store.runs.get(id))?.startOwed).toBe(false);
      expect((await h.events(id)).filter((e) => e.type === 'run.completed')).toHaveLength(1);
    }
    await waitFor(async () => (await Promise.all(ids.map(executionsOf))).every((n) => n === 1), { what: 'one execution a run in visibility' });
  });

  it('a cancel starts a run whose start is owed, then cancels it', async () => {
    const id = await orphaned('Cancel me before I start [owed-cancel]');
    const res = await h.request('POST', `/api/runs/${id}/cancel`);
    expect(res.status).toBe(202);
    expect((await h.waitForStatus(id, 'cancelled', { timeoutMs: 30_000 })).status).toBe('cancelled');
    expect((await h.store.runs.get(id))?.startOwed).toBe(false);
    expect(await executionsOf(id)).toBe(1);
  });

  it('a pause and a follow-up reach a run whose start is owed', async () => {
    const paused = await orphaned('Pause me before I start [owed-pause]');
    expect((await h.request('POST', `/api/runs/${paused}/pause`)).status).toBe(202);
    await h.waitForStatus(paused, 'paused', { timeoutMs: 30_000 });
    expect((await h.request('POST', `/api/runs/${paused}/resume`)).status).toBe(202);
    await h.waitForStatus(paused, 'completed', { timeoutMs: 30_000 });

    const told = await orphaned('Tell me something before I start [owed-follow-up]');
    const message = await h.request('POST', `/api/runs/${told}/messages`, { body: { text: 'and mind the follow-up' } });
    expect(message.status).toBe(202);
    expect(message.body.continued).toBe(false);
    await h.waitForStatus(told, 'completed', { timeoutMs: 30_000 });
    for (const id of [paused, told]) {
      expect((await h.store.runs.get(id))?.startOwed).toBe(false);
      expect(await executionsOf(id)).toBe(1);
    }
  });

  it('a replay of the request with its key starts the run its first request left owed', async () => {
    const goal = 'Start me on the replay [owed-replay]';
    const id = await orphaned(goal, 'owed-replay-key');
    const replay = await h.request('POST', '/api/runs', { body: { goal, model: 'demo', approvals: 'none' }, headers: { 'Idempotency-Key': 'owed-replay-key' } });
    expect([replay.status, replay.body.id, replay.headers.get('idempotent-replayed')]).toEqual([202, id, 'true']);
    await h.waitForStatus(id, 'completed', { timeoutMs: 30_000 });
    expect((await h.store.runs.get(id))?.startOwed).toBe(false);
    expect(await executionsOf(id)).toBe(1);
  });

  it('ends a run failed, start_refused, when Temporal refuses its start for good (an owner name over its limit)', async () => {
    const id = await h.createRun({ goal: 'Mine cannot start [owed-refused]', model: 'demo', approvals: 'none' }, { token: LONG });
    await waitFor(async () => (await h.store.runs.get(id))?.status === 'failed', { what: 'the refused run to fail' });
    const failed = await h.getRun(id, LONG);
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'start_refused' } });
    expect(failed.error.message).toMatch(/^Temporal refused to start the run: search attribute \w+ value size \d+ exceeds size limit/);
    expect((await h.store.runs.get(id))?.startOwed).toBe(false);
    expect((await h.events(id)).map((e) => e.type)).toEqual(['run.queued', 'run.failed']);
    await expect(h.client.workflow.getHandle(id).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
    // Nothing is left for the sweeper: the run is no owed start, and no abandoned one.
    expect((await h.store.runs.owedStartsBefore({ createdBefore: new Date(Date.now() + 60_000).toISOString(), limit: 100 })).map((r) => r.id)).not.toContain(id);
  });
});
