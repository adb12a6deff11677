/**
 * The reaper of abandoned starts against the real Temporal dev server: a run whose row was committed but whose
 * workflow never started (its starter died, or its commit's answer was lost) is deleted with its events; a run that
 * has a workflow — waiting on a task queue no worker polls, or already closed — is kept, as is a running run, a
 * young one, a child, a continued one, and a schedule firing's run while its firing still runs. An answer from
 * Temporal other than "no such workflow" deletes nothing. A run whose owed start Temporal refuses for good (its owner's
 * name over a search attribute's limit) ends failed, `start_refused`, and the sweep goes on. And the sweeper workflow calls the reaper after its
 * stall sweep (the `reap-abandoned-starts` patch).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { MockActivityEnvironment } from '@temporalio/testing';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { ActivityDeps } from '../../activities/deps';
import { createReapActivities } from '../../activities/reap-abandoned-starts';
import type { ReapAbandonedStartsResult } from '../../contract/activity-io';
import { eventKeys } from '../../contract/keys';
import { RUN_WORKFLOW, SWEEPER_WORKFLOW } from '../../contract/workflow-messages';
import type { Store } from '../../shared/store';
import { loadConfig } from '../../shared/config';
import { InMemoryBus } from '../../shared/bus/in-memory-bus';
import { openTestStore } from '../support/test-store';
import { testEnv } from '../support/test-env';

const LIMITS = { maxSteps: 5, maxCostUsd: 1, maxDurationSec: 60 };
const HOUR_AGO = () => new Date(Date.now() - 3600_000).toISOString();

describe.each(['sqlite', 'postgres'] as const)('reaping abandoned starts on %s', (dialect) => {
  let connection: Connection;
  let client: Client;
  let store: Store;
  let close: () => Promise<void>;
  /** Workflows the test started, terminated at the end (they wait on queues nobody polls). */
  const started: WorkflowHandle[] = [];
  const nobodysQueue = `reap-nobody-${randomUUID()}`;

  beforeAll(async () => {
    connection = await Connection.connect({ address: testEnv().temporalAddress });
    client = new Client({ connection });
    ({ store, close } = await openTestStore(dialect));
  });
  afterAll(async () => {
    for (const handle of started) await handle.terminate('test over').catch(() => undefined);
    await connection?.close();
    await close?.();
  });

  /**
   * A run queued as an API queues one (its row and `run.queued`), created `createdAt` (default: an hour ago);
   * `owed`: as this API does, its workflow start owed (else as an API from before migration 024, or a firing).
   */
  async function queued(opts: { owner?: string; scheduleId?: string; idempotencyKey?: string; parentRunId?: string; createdAt?: string | null; owed?: boolean } = {}): Promise<string> {
    const id = `run_reap_${randomUUID().replace(/-/g, '')}`;
    const result = await store.queueRun(
      {
        id,
        owner: opts.owner ?? 'alice',
        goal: id,
        model: 'demo',
        approvals: 'none',
        limits: LIMITS,
        scheduleId: opts.scheduleId ?? null,
        idempotencyKey: opts.idempotencyKey ?? null,
        parentRunId: opts.parentRunId ?? null,
        depth: opts.parentRunId ? 1 : 0,
        ...(opts.owed && { startOwed: true, approvalTimeoutSec: 77 }),
      },
      100,
      [{ key: eventKeys.queued(), type: 'run.queued', data: { goal: id, model: 'demo', approvals: 'none', limits: LIMITS } }],
    );
    if (!('run' in result) || !result.created) throw new Error('the run was not queued');
    if (opts.createdAt !== null) await store.db.updateTable('runs').set({ created_at: opts.createdAt ?? HOUR_AGO() }).where('id', '=', id).execute();
    return id;
  }

  /** A workflow with this id, on a queue no worker polls: it exists, and waits. */
  async function workflowFor(workflowId: string): Promise<WorkflowHandle> {
    const handle = await client.workflow.start(RUN_WORKFLOW, { workflowId, taskQueue: nobodysQueue, args: [{}] });
    started.push(handle);
    return handle;
  }

  function reaper(overrides: { client?: Client } = {}) {
    const warnings: Record<string, unknown>[] = [];
    const counted: string[] = [];
    const deps = {
      store,
      bus: new InMemoryBus(),
      logger: { warn: (fields: Record<string, unknown>) => warnings.push(fields), info: () => undefined, error: () => undefined, debug: () => undefined },
      metrics: { abandonedStartReaped: () => counted.push('reaped'), owedStartMade: () => counted.push('started') },
      // Owed starts go to the queue nobody polls: the test looks at the workflows, and ends them.
      settings: { config: loadConfig({ DATA_DIR: os.tmpdir(), TEMPORAL_TASK_QUEUE: nobodysQueue, START_RUN_TIMEOUT_MS: '10000' }) },
    } as unknown as ActivityDeps;
    const { reapAbandonedStarts } = createReapActivities(deps);
    const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 30_000 }, { client: overrides.client ?? client });
    let beats = 0;
    env.on('heartbeat', () => (beats += 1));
    return { run: () => env.run(reapAbandonedStarts, {}) as Promise<ReapAbandonedStartsResult>, warnings, counted, beats: () => beats };
  }

  const exists = async (id: string) => (await store.runs.get(id)) !== undefined;
  const eventCount = async (id: string) => (await store.db.selectFrom('events').select('seq').where('run_id', '=', id).execute()).length;

  it('deletes a ghost with its events, and keeps every run that has or may yet get a workflow', async () => {
    const ghost = await queued({ owner: 'ghost-owner' });
    expect(await eventCount(ghost)).toBe(1);
    // A run whose workflow waits on its agent's queue with no worker polling it: queued, and kept.
    const waiting = await queued();
    await workflowFor(waiting);
    // A run whose workflow exists but has closed (terminated before it ever ran): Temporal knows it, so it is kept.
    const closed = await queued();
    await (await workflowFor(closed)).terminate('closed on purpose');
    // Running, with no workflow Temporal knows of: not an unstarted run at all.
    const running = await queued();
    await store.runs.markAdmitted(running);
    await store.runs.updateState(running, { status: 'running' });
    // Too young: its start may still be on its way.
    const young = await queued({ createdAt: null });
    // A child run: its parent's workflow starts it, perhaps much later (a paused parent).
    const child = await queued({ parentRunId: waiting });
    // A run continued by a follow-up (a lap): its history is its own; never deleted here.
    const continued = await queued();
    await store.runs.reopen(continued, LIMITS);
    await store.runs.startsMade([{ id: continued, lap: 1 }]); // its continuation's start made (else it is owed: swept in the test below)
    // A schedule firing's run while the firing still runs (it starts the run as its child, maybe after a pre-warm).
    const firingId = `reap-firing-${randomUUID()}`;
    const firing = await queued({ scheduleId: 'sch_reap', idempotencyKey: firingId });
    await workflowFor(firingId);
    // A firing's run whose firing is gone (never known to Temporal here: as after it failed and its retention passed).
    const orphaned = await queued({ scheduleId: 'sch_reap', idempotencyKey: `reap-firing-${randomUUID()}` });

    const r = reaper();
    const result = await r.run();

    expect(await exists(ghost)).toBe(false);
    expect(await eventCount(ghost)).toBe(0);
    expect(await exists(orphaned)).toBe(false);
    expect(await eventCount(orphaned)).toBe(0);
    for (const kept of [waiting, closed, running, young, child, continued, firing]) expect(await exists(kept)).toBe(true);
    expect(await eventCount(waiting)).toBe(1);
    expect(result).toEqual({ reaped: 2, kept: 3, started: 0 }); // kept: waiting, closed, firing (the others are not asked about)
    expect(r.counted).toEqual(['reaped', 'reaped']);
    expect(r.warnings).toEqual(expect.arrayContaining([expect.objectContaining({ runId: ghost, owner: 'ghost-owner' }), expect.objectContaining({ runId: orphaned, owner: 'alice' })]));
    expect(r.beats()).toBeGreaterThanOrEqual(5);

    // A second sweep finds nothing more to delete.
    expect(await reaper().run()).toEqual({ reaped: 0, kept: 3, started: 0 });
    // The ghost no longer counts toward its owner's queue cap.
    expect(await store.runs.countQueued('ghost-owner')).toBe(0);
    for (const id of [waiting, closed, running, young, child, continued, firing]) await store.runs.updateState(id, { status: 'completed', ended: true });
  });

  it('makes the workflow starts still owed after a minute, once each, and never reaps such a run', async () => {
    const owed = await queued({ owed: true });
    const young = await queued({ owed: true, createdAt: null });
    // Its API started it and died before clearing the mark: found there, the mark cleared, nothing started again.
    const madeByItsApi = await queued({ owed: true });
    const runningOne = await workflowFor(madeByItsApi);
    // Its workflow ran and closed: REJECT_DUPLICATE keeps a late start from beginning the run again.
    const ended = await queued({ owed: true });
    const endedOne = await workflowFor(ended);
    await endedOne.terminate('ended on purpose');
    const endedRunId = (await endedOne.describe()).runId;

    const r = reaper();
    // Started, and then, in the same sweep, asked about as runs never admitted: each has its workflow, and is kept.
    expect(await r.run()).toEqual({ reaped: 0, kept: 3, started: 3 });
    expect(r.counted).toEqual(['started']); // one start made; two found made

    const made = client.workflow.getHandle(owed);
    started.push(made);
    const described = await made.describe();
    expect([described.status.name, described.taskQueue]).toEqual(['RUNNING', nobodysQueue]);
    const input = (await made.fetchHistory()).events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]?.data;
    // The row's own approval timeout, not the default.
    expect(JSON.parse(Buffer.from(input!).toString())).toMatchObject({ runId: owed, owner: 'alice', approvalTimeoutSec: 77 });
    expect((await runningOne.describe()).runId).toBe((await client.workflow.getHandle(madeByItsApi).describe()).runId);
    const endedNow = await client.workflow.getHandle(ended).describe();
    expect([endedNow.runId, endedNow.status.name]).toEqual([endedRunId, 'TERMINATED']);
    for (const id of [owed, madeByItsApi, ended]) expect((await store.runs.get(id))?.startOwed).toBe(false);
    // Too young: its API has its minute first.
    expect((await store.runs.get(young))?.startOwed).toBe(true);
    await expect(client.workflow.getHandle(young).describe()).rejects.toThrow();
    // Nothing more is owed, and none of them is reaped.
    expect(await reaper().run()).toEqual({ reaped: 0, kept: 3, started: 0 });
    for (const id of [owed, madeByItsApi, ended, young]) expect(await exists(id)).toBe(true);
    for (const id of [owed, madeByItsApi, ended, young]) await store.runs.updateState(id, { status: 'completed', ended: true });
    await store.runs.startsMade([{ id: young, lap: 0 }]);
  });

  it('passes over a run whose start fails, and ends the sweep after three failures in a row', async () => {
    const refusedIds = new Set<string>();
    /** The real client, but the starts of `refusedIds` fail (as a start may that fails for that run alone, for now). */
    const refusing = {
      withDeadline: <T>(deadline: number, fn: () => Promise<T>) => client.withDeadline(deadline, fn),
      withAbortSignal: <T>(signal: AbortSignal, fn: () => Promise<T>) => client.withAbortSignal(signal, fn),
      workflow: {
        start: (type: string, options: { workflowId: string }) =>
          refusedIds.has(options.workflowId) ? Promise.reject(new Error('13 INTERNAL: failed for this run')) : client.workflow.start(type, options as never),
        getHandle: (workflowId: string) => client.workflow.getHandle(workflowId),
      },
    } as unknown as Client;
    const refused = await queued({ owed: true });
    refusedIds.add(refused);
    const fine = await queued({ owed: true });
    const r = reaper({ client: refusing });
    expect(await r.run()).toMatchObject({ reaped: 0, started: 1 });
    started.push(client.workflow.getHandle(fine));
    expect((await store.runs.get(fine))?.startOwed).toBe(false);
    expect((await store.runs.get(refused))?.startOwed).toBe(true);

    // Three refused before the next one: Temporal's trouble, not one run's; the rest wait for the next sweep.
    for (let i = 0; i < 2; i += 1) refusedIds.add(await queued({ owed: true }));
    const after = await queued({ owed: true });
    expect(await reaper({ client: refusing }).run()).toEqual({ reaped: 0, kept: 0, started: 0 });
    expect((await store.runs.get(after))?.startOwed).toBe(true);
    for (const id of [...refusedIds, after, fine]) {
      await store.runs.startsMade([{ id, lap: 0 }]);
      await store.runs.updateState(id, { status: 'completed', ended: true });
    }
  });

  it('ends a run failed whose start Temporal refuses for good, and goes on with the sweep', async () => {
    // Temporal refuses a search attribute's value over 2 KB: the run's owner, here. Three in a row end no sweep.
    const refused = [];
    for (let i = 0; i < 3; i += 1) refused.push(await queued({ owed: true, owner: `owner-${i}-${'n'.repeat(2100)}` }));
    const fine = await queued({ owed: true });
    expect(await reaper().run()).toMatchObject({ reaped: 0, started: 1 });
    started.push(client.workflow.getHandle(fine));
    for (const id of refused) {
      const run = await store.runs.get(id);
      expect(run).toMatchObject({ status: 'failed', startOwed: false, error: { code: 'start_refused' } });
      expect(run!.error!.message).toMatch(/^Temporal refused to start the run: search attribute \w+ value size \d+ exceeds size limit/);
      expect((await store.events.list(id, { after: 0, limit: 10 })).map((e) => e.type)).toEqual(['run.queued', 'run.failed']);
    }
    await store.runs.updateState(fine, { status: 'completed', ended: true });
  });

  it('deletes nothing when Temporal gives any answer but "no such workflow"', async () => {
    const ghost = await queued();
    const another = await queued();
    // A client whose every question fails as an unreachable frontend's would (the activity's calls run inside its abort signal).
    const unreachable = {
      withAbortSignal: <T>(_signal: AbortSignal, fn: () => Promise<T>) => fn(),
      workflow: { getHandle: () => ({ describe: async () => Promise.reject(new Error('14 UNAVAILABLE: connection refused')) }) },
    } as unknown as Client;
    const r = reaper({ client: unreachable });
    // The first unclear answer ends the sweep: the second ghost is not asked about (Temporal's trouble is seldom one run's).
    expect(await r.run()).toEqual({ reaped: 0, kept: 1, started: 0 });
    expect(r.beats()).toBe(1);
    expect(await exists(ghost)).toBe(true);
    expect(await exists(another)).toBe(true);
    expect(r.counted).toEqual([]);
    // With Temporal answering, both go.
    expect(await reaper().run()).toEqual({ reaped: 2, kept: 0, started: 0 });
    expect(await exists(ghost)).toBe(false);
    expect(await exists(another)).toBe(false);
  });
});

describe('the sweeper workflow', () => {
  it('reaps abandoned starts after its stall sweep (reap-abandoned-starts patch)', async () => {
    const t = testEnv();
    const taskQueue = `sweeper-reap-${randomUUID()}`;
    const connection = await Connection.connect({ address: t.temporalAddress });
    const nativeConnection = await NativeConnection.connect({ address: t.temporalAddress });
    try {
      const client = new Client({ connection });
      const calls: string[] = [];
      const worker = await Worker.create({
        connection: nativeConnection,
        taskQueue,
        workflowBundle: { codePath: t.workflowBundlePath },
        activities: {
          sweepStalledRuns: async () => (calls.push('sweepStalledRuns'), { flagged: 1 }),
          reapAbandonedStarts: async () => (calls.push('reapAbandonedStarts'), { reaped: 2, kept: 3, started: 0 }),
        },
      });
      const workflowId = `sweeper-reap-${randomUUID()}`;
      const result = await worker.runUntil(client.workflow.execute(SWEEPER_WORKFLOW, { workflowId, taskQueue, args: [{ stallThresholdSec: 60, taskQueue }] }));
      const history = await client.workflow.getHandle(workflowId).fetchHistory();
      const dir = process.env.RECORD_HISTORIES_DIR;
      if (dir) {
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(dir, 'sweeper--reaper--0.json'), JSON.stringify(JSON.parse(historyToJSON(history))));
      }
      expect(calls).toEqual(['sweepStalledRuns', 'reapAbandonedStarts']);
      expect(result).toEqual({ flagged: 1, reaped: 2 });
      const scheduled = (history.events ?? []).flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes] : []));
      expect(scheduled.map((a) => a.activityType?.name)).toEqual(['sweepStalledRuns', 'reapAbandonedStarts']);
      const reap = scheduled[1]!;
      expect(Number(reap.heartbeatTimeout?.seconds)).toBeGreaterThan(0);
      expect(reap.retryPolicy?.maximumAttempts).toBeGreaterThan(0);
      const markers = (history.events ?? []).flatMap((e) => (e.markerRecordedEventAttributes ? [e.markerRecordedEventAttributes] : []));
      expect(markers.map((m) => m.markerName)).toContain('core_patch');
    } finally {
      await nativeConnection.close();
      await connection.close();
    }
  });
});
