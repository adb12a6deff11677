/**
 * POST /api/runs answers once the run is committed, at most START_RUN_WAIT_MS after it (here 0: never waiting for
 * Temporal), and its workflow start follows (api/owed-starts.ts). Against the real dev server and a worker: every run
 * answered starts once and completes; a run whose start is still owed — its API died between the commit and the
 * start, written here as that API left it — is started by whatever reaches it first: a cancel, a pause, a follow-up,
 * or a replay of its request with the same Idempotency-Key. A run Temporal refuses to start for good (over one of its
 * limits: here its owner's name, over a search attribute's 2 KB) ends failed, `start_refused`, and is not tried again.
 * A follow-up's continuation of an ended run owes its start the same way, once per lap: started although Temporal
 * refused its first try, by the sweep when its API died after the reopen, and by a cancel, which then cancels it.
 */
import { WorkflowIdReusePolicy, WorkflowNotFoundError } from '@temporalio/client';
import { InternalWorkflowStartOptionsSymbol, type InternalWorkflowStartOptions } from '@temporalio/client/lib/internal';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { ActivityDeps } from '../../activities/deps';
import { createReapActivities } from '../../activities/reap-abandoned-starts';
import type { ReapAbandonedStartsResult } from '../../contract/activity-io';
import { eventKeys } from '../../contract/keys';
import type { RunLimits } from '../../contract/run';
import { InMemoryBus } from '../../shared/bus/in-memory-bus';
import { continuationRequestId, startRunWorkflow } from '../../shared/runs/start-run-workflow';
import { RUN_WORKFLOW } from '../../contract/workflow-messages';
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

  /** A run of the owner's, completed, its execution closed: one a follow-up continues in a new execution. */
  async function ended(goal: string): Promise<string> {
    const id = await h.createRun({ goal, model: 'demo', approvals: 'none' });
    await h.waitForStatus(id, 'completed', { timeoutMs: 30_000 });
    await waitFor(async () => (await h.client.workflow.getHandle(id).describe()).status.name === 'COMPLETED', { what: 'the execution to close' });
    return id;
  }

  /**
   * An ended run as an API that died right after committing a follow-up's continuation leaves it: the message and
   * the reopen committed (what POST /messages commits), no new execution. Created an hour ago, as a run continued
   * later than the sweep's wait for an owed start is old.
   */
  async function continuedThenOrphaned(goal: string): Promise<string> {
    const id = await ended(goal);
    await h.store.transaction(async (tx) => {
      await tx.runs.lock(id);
      await tx.userMessages.insert({ id: `msg_${Math.random().toString(36).slice(2)}`, runId: id, by: owner, text: 'one more thing' });
      await tx.runs.reopen(id, LIMITS);
    });
    await h.store.db.updateTable('runs').set({ created_at: new Date(Date.now() - 3600_000).toISOString() }).where('id', '=', id).execute();
    return id;
  }

  /** One sweep's reaping activity, as the worker's sweeper runs it (its starts go to this harness's worker). */
  function sweep(): Promise<ReapAbandonedStartsResult> {
    const silent = { warn: () => undefined, info: () => undefined, error: () => undefined, debug: () => undefined };
    const deps = { store: h.store, bus: new InMemoryBus(), logger: silent, metrics: { abandonedStartReaped: () => undefined, owedStartMade: () => undefined }, settings: { config: h.config } };
    const { reapAbandonedStarts } = createReapActivities(deps as unknown as ActivityDeps);
    return new MockActivityEnvironment({ heartbeatTimeoutMs: 30_000 }, { client: h.client }).run(reapAbandonedStarts, {}) as Promise<ReapAbandonedStartsResult>;
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
  it('starts a continuation whose first start Temporal failed, once', async () => {
    const id = await ended('Go on although Temporal is down a moment [owed-continue-fails]');
    // The continuation's first try at Temporal fails as it does while Temporal cannot be reached.
    const start = jest.spyOn(h.client.workflow, 'start').mockRejectedValueOnce(new Error('14 UNAVAILABLE: Temporal is unreachable (test)'));
    try {
      const sent = await h.request('POST', `/api/runs/${id}/messages`, { body: { text: 'and now the rest' } });
      expect([sent.status, sent.body.continued]).toEqual([202, true]);
      await waitFor(async () => (await h.events(id)).filter((e) => e.type === 'run.completed').length === 2, { timeoutMs: 30_000, what: 'the continuation to complete' });
      // The try that failed, and the one after it that started the continuation.
      expect(start.mock.calls.length).toBeGreaterThanOrEqual(2);
    } finally {
      start.mockRestore();
    }
    expect((await h.store.runs.get(id))?.startOwed).toBe(false);
    await waitFor(async () => (await executionsOf(id)) === 2, { what: 'two executions: the run and its continuation' });
  });

  it('the sweep starts a continuation its API left owed, once however many try, and never again', async () => {
    const id = await continuedThenOrphaned('Go on after my API died [owed-continue-swept]');
    // Its lap was owed a moment ago, though the run is an hour old: the sweep leaves the API its tries first.
    const aMinuteAgo = new Date(Date.now() - 60_000).toISOString();
    expect((await h.store.runs.owedStartsBefore({ createdBefore: aMinuteAgo, limit: 100 })).map((r) => r.id)).not.toContain(id);
    // An hour on, the API that owed it long dead.
    await h.store.db.updateTable('runs').set({ updated_at: new Date(Date.now() - 3600_000).toISOString() }).where('id', '=', id).execute();
    const owed = (await h.store.runs.get(id))!;
    expect([owed.status, owed.startOwed]).toEqual(['queued', true]);
    // Two sweeps at once (two workers', or the sweep and the API's own tries): one execution for the lap.
    await Promise.all([sweep(), sweep()]);
    await waitFor(async () => (await h.events(id)).filter((e) => e.type === 'run.completed').length === 2, { timeoutMs: 30_000, what: 'the continuation to complete' });
    await waitFor(async () => (await h.client.workflow.getHandle(id).describe()).status.name === 'COMPLETED', { what: 'the continuation to close' });
    expect((await h.store.runs.get(id))?.startOwed).toBe(false);
    // A starter that read the row while the start was owed, late: the lap it owed has its execution already.
    expect(await startRunWorkflow({ client: h.client, config: h.config, store: h.store }, owed, Date.now() + 10_000)).toBe('already');
    await sweep();
    // What keeps a try that passed the look at the latest execution from starting the lap again: Temporal answers a
    // start with the lap's request id with the lap's execution, closed as it is (were it to start one, it would wait
    // on a queue no worker polls, and be ended here).
    const lapOne = await h.client.workflow.getHandle(id).describe();
    const again: InternalWorkflowStartOptions & { args: [] } = {
      workflowId: id,
      taskQueue: `${h.taskQueue}-nobody-polls`,
      args: [],
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      [InternalWorkflowStartOptionsSymbol]: { requestId: continuationRequestId(id, 1) },
    };
    const answered = await h.client.workflow.start(RUN_WORKFLOW, again);
    if (answered.firstExecutionRunId !== lapOne.runId) await answered.terminate('a second execution of the lap');
    expect(answered.firstExecutionRunId).toBe(lapOne.runId);
    await waitFor(async () => (await executionsOf(id)) === 2, { what: 'two executions: the run and its continuation' });
    expect((await h.events(id)).filter((e) => e.type === 'run.completed')).toHaveLength(2);
  });

  it('a cancel starts a continuation whose start is owed, then cancels it', async () => {
    const id = await continuedThenOrphaned('Cancel my continuation before it starts [owed-continue-cancel]');
    const res = await h.request('POST', `/api/runs/${id}/cancel`);
    expect(res.status).toBe(202);
    expect((await h.waitForStatus(id, 'cancelled', { timeoutMs: 30_000 })).status).toBe('cancelled');
    expect((await h.store.runs.get(id))?.startOwed).toBe(false);
    await waitFor(async () => (await executionsOf(id)) === 2, { what: 'two executions: the run and its continuation' });
  });
});
