/**
 * Every run ends or pauses for a stated reason: each cap, the per-user queue, the relay
 * (continue-as-new with a summary) and its segment cap, and the sweeper's stall flag.
 */
import { sweeperScheduleId, ensureSweeperSchedule } from '../../worker/sweeper-schedule';
import { eventKeys } from '../../contract/keys';
import { FakeAnthropic, type FakeRequest } from '../support/fake-anthropic';
import { startHarness, type Harness } from '../support/harness';
import { testTools } from '../support/test-tools';
import { waitFor } from '../support/wait';

const alwaysList = (req: FakeRequest) => ({ text: `Turn ${req.assistantTurns}.`, toolUses: [{ name: 'workspace_list', input: {} }] });

describe('caps, queue, relay and sweeper', () => {
  const fake = new FakeAnthropic();
  const harnesses: Harness[] = [];
  const baseEnv = () => ({ ANTHROPIC_API_KEY: fake.apiKey, ANTHROPIC_BASE_URL: fake.url, LLM_MODEL: 'claude-sonnet-5-5' });
  async function harness(env: Record<string, string> = {}): Promise<Harness> {
    const h = await startHarness({ env: { ...baseEnv(), ...env }, extraTools: testTools() });
    harnesses.push(h);
    return h;
  }
  let h: Harness;

  beforeAll(async () => {
    await fake.start();
    h = await harness({ TOOL_OUTPUT_MAX_BYTES: '2048', LOOP_DETECTION_THRESHOLD: '3' });
  });
  afterAll(async () => {
    for (const x of harnesses) await x.close();
    await fake.stop();
  });

  async function expectCapped(id: string, limit: string, harnessUnderTest = h) {
    const run = await harnessUnderTest.waitForStatus(id, ['completed', 'failed', 'cancelled', 'paused']);
    expect(run.status).toBe('failed');
    expect(run.error.code).toBe('limit_exceeded');
    const event = await harnessUnderTest.waitForEvent(id, 'limit.exceeded');
    expect(event.data.limit).toBe(limit);
    const types = (await harnessUnderTest.events(id)).map((e) => e.type);
    expect(types[types.length - 1]).toBe('run.failed');
    // The Temporal execution fails too, with the same reason.
    const handle = harnessUnderTest.client.workflow.getHandle(id);
    await expect(handle.result()).rejects.toThrow();
    expect((await handle.describe()).status.name).toBe('FAILED');
    return { run, event };
  }

  it('stops at the step cap', async () => {
    fake.script('[steps]', alwaysList);
    const id = await h.createRun({ goal: 'Forever [steps]', approvals: 'none', limits: { maxSteps: 3 } });
    const { run, event } = await expectCapped(id, 'maxSteps');
    expect(event.data.value).toBe(3);
    expect(run.statusDetail).toBe('reached the step limit of 3');
    expect(fake.requestsFor('[steps]')).toHaveLength(3);
  });

  it('stops at the cost cap', async () => {
    fake.script('[cost]', (req) => ({ ...alwaysList(req), usage: { input_tokens: 4000, output_tokens: 200 } })); // $0.01 per call
    const id = await h.createRun({ goal: 'Spend [cost]', approvals: 'none', limits: { maxCostUsd: 0.025 } });
    const { run, event } = await expectCapped(id, 'maxCostUsd');
    expect(fake.requestsFor('[cost]')).toHaveLength(3);
    expect(event.data.value).toBeCloseTo(0.03, 6);
    expect(run.usage.costUsd).toBeCloseTo(0.03, 6);
  });

  it('stops at the wall-clock cap', async () => {
    fake.script('[time]', () => ({ toolUses: [{ name: 'slow_step', input: { ms: 1500 } }] }));
    const id = await h.createRun({ goal: 'Slowly [time]', approvals: 'none', limits: { maxDurationSec: 2 } });
    const { event } = await expectCapped(id, 'maxDurationSec');
    expect(event.data.value).toBe(2);
    expect(fake.requestsFor('[time]').length).toBeLessThanOrEqual(2);
  });

  it('stops a model that keeps making the same failing call', async () => {
    fake.script('[loop]', () => ({ toolUses: [{ name: 'workspace_read', input: { path: 'missing.txt' } }] }));
    const id = await h.createRun({ goal: 'Loop [loop]', approvals: 'none' });
    const { run } = await expectCapped(id, 'loop');
    expect(run.statusDetail).toBe('stopped a loop: the same failing workspace_read call 3 times in a row');
    expect(fake.requestsFor('[loop]')).toHaveLength(3);
  });

  it('caps tool output, saying so to the model', async () => {
    fake.script('[output]', (req) => (req.assistantTurns === 0 ? { toolUses: [{ name: 'big_text', input: { bytes: 10_000 } }] } : { text: 'ok' }));
    const id = await h.createRun({ goal: 'Big [output]', approvals: 'none' });
    await h.waitForStatus(id, 'completed');
    const seen = fake.requestsFor('[output]')[1]!.lastToolResults[0]!.content;
    expect(seen.startsWith('y'.repeat(2048))).toBe(true);
    expect(seen).toContain('[output truncated: 10000 bytes, limit 2048]');
    const completed = await h.waitForEvent(id, 'tool.completed');
    expect(completed.data).toMatchObject({ bytes: 10_000, truncated: true });
  });

  it('gives up on a step after ACTIVITY_MAX_ATTEMPTS attempts, with the reason', async () => {
    fake.failNext('[attempts]', Array.from({ length: 10 }, () => ({ status: 500 })));
    const id = await h.createRun({ goal: 'Broken model [attempts]', approvals: 'none' });
    const run = await h.waitForStatus(id, ['failed', 'completed']);
    expect(run.error).toMatchObject({ code: 'model_server_error', message: expect.stringContaining('HTTP 500') });
    expect(fake.requestsFor('[attempts]')).toHaveLength(4); // ACTIVITY_MAX_ATTEMPTS=4 in the test harness
  });

  it('queues runs beyond the per-user concurrency cap, first in first out, and refuses beyond the queue cap', async () => {
    const q = await harness({ MAX_CONCURRENT_RUNS_PER_USER: '1', MAX_QUEUED_RUNS_PER_USER: '2' });
    fake.script('[slot-holder]', (req) => (req.assistantTurns === 0 ? { toolUses: [{ name: 'ask_user', input: { question: 'go?' } }] } : { text: 'holder done' }));
    fake.script('[queued]', () => ({ text: 'queued run done' }));
    const holder = await q.createRun({ goal: 'Hold the slot [slot-holder]' });
    await q.waitForStatus(holder, 'waiting_input');
    const second = await q.createRun({ goal: 'Second [queued]' });
    const third = await q.createRun({ goal: 'Third [queued]' });
    await waitFor(async () => (await q.getRun(second)).statusDetail === 'waiting for one of your 1 running runs to finish', { what: 'the second run to wait for a slot' });
    await waitFor(async () => (await q.getRun(third)).statusDetail === 'queued behind 1 of your runs', { what: 'the third run to queue' });
    const refused = await q.request('POST', '/api/runs', { body: { goal: 'Fourth [queued]' } });
    expect([refused.status, refused.body.error.code]).toEqual([429, 'queue_full']);
    expect(refused.body.error.message).toMatch(/2 runs waiting to start/);

    await q.request('POST', `/api/runs/${holder}/input`, { body: { text: 'yes' } });
    await q.waitForStatus(holder, 'completed');
    const done2 = await q.waitForStatus(second, 'completed');
    await q.waitForStatus(third, 'completed');
    // First in, first out: the second run started before the third.
    const started = async (id: string) => (await q.waitForEvent(id, 'run.started')).at;
    expect(Date.parse(await started(second))).toBeLessThanOrEqual(Date.parse(await started(third)));
    expect(Date.parse(done2.endedAt)).toBeLessThanOrEqual(Date.parse(await started(third)));
  });

  it('hands off through several segments with one run id, continuous seq, and the summary in context', async () => {
    const r = await harness({ SEGMENT_MAX_TURNS: '2' });
    const turnsSoFar = (marker: string) => fake.requestsFor(marker).filter((x) => x.body.tool_choice?.type !== 'none').length;
    fake.script('[relay]', (req) => {
      if (req.body.tool_choice?.type === 'none') return { text: `SUMMARY after ${req.assistantTurns} turns visible: listed the workspace repeatedly.` };
      return turnsSoFar('[relay]') >= 6 ? { text: 'Finished after the relay.' } : alwaysList(req);
    });
    const id = await r.createRun({ goal: 'Long job [relay]', approvals: 'none' });
    const run = await r.waitForStatus(id, ['completed', 'failed']);
    expect({ status: run.status, error: run.error }).toEqual({ status: 'completed', error: null });

    const events = await r.events(id);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    const handoffs = events.filter((e) => e.type === 'run.handoff');
    expect(handoffs.length).toBeGreaterThanOrEqual(2);
    expect(handoffs.map((e) => e.data.segment)).toEqual(handoffs.map((_, i) => i + 1));
    expect(run.segment).toBe(handoffs.length);
    // Each model call after a handoff starts from the goal plus the summary.
    const afterHandoff = fake.requestsFor('[relay]').filter((x) => x.body.tool_choice?.type !== 'none' && x.goal.includes('Summary of the work so far'));
    expect(afterHandoff.length).toBeGreaterThan(0);
    expect(afterHandoff[0]!.goal).toContain('SUMMARY after');
    expect(afterHandoff[0]!.assistantTurns).toBeLessThanOrEqual(2);
    // One workflow id, several executions chained by continue-as-new.
    let executions: string[] = [];
    await waitFor(async () => {
      executions = [];
      for await (const wf of r.client.workflow.list({ query: `WorkflowId = "${id}"` })) executions.push(wf.status.name);
      return executions.length === handoffs.length + 1 && executions.includes('COMPLETED');
    }, { what: 'visibility to list every execution of the run' });
    expect(executions.filter((x) => x === 'CONTINUED_AS_NEW')).toHaveLength(handoffs.length);
    // Summaries are paid for and counted.
    expect(run.usage.inputTokens).toBe(100 * fake.requestsFor('[relay]').length);
  });

  it('pauses for a human at the segment cap instead of failing, and continues when resumed', async () => {
    const r = await harness({ SEGMENT_MAX_TURNS: '1', MAX_SEGMENTS: '2' });
    fake.script('[segcap]', (req) => {
      if (req.body.tool_choice?.type === 'none') return { text: 'SUMMARY: listed.' };
      const turns = fake.requestsFor('[segcap]').filter((x) => x.body.tool_choice?.type !== 'none').length;
      return turns >= 4 ? { text: 'Done after more segments.' } : alwaysList(req);
    });
    // segment 0: turn 1; segment 1: turn 2; then the cap (2 segments) pauses the run before segment 2.
    const id = await r.createRun({ goal: 'Many segments [segcap]', approvals: 'none' });
    const paused = await r.waitForStatus(id, ['paused', 'completed', 'failed']);
    expect(paused.status).toBe('paused');
    expect(paused.statusDetail).toBe('reached the cap of 2 segments; resume to continue');
    expect((await r.waitForEvent(id, 'limit.exceeded')).data).toEqual({ limit: 'maxSegments', value: 2 });
    expect((await r.request('POST', `/api/runs/${id}/resume`)).status).toBe(202);
    const done = await r.waitForStatus(id, ['completed', 'failed']);
    expect(done.status).toBe('completed');
    expect(done.segment).toBe(3);
  });

  it('has the sweeper flag a run that shows no progress, in events, status and metrics, and reap a start that never began', async () => {
    const s = await harness({ STALL_THRESHOLD_SEC: '2' });
    fake.script('[stall]', () => ({ toolUses: [{ name: 'hang', input: {} }] }));
    const id = await s.createRun({ goal: 'Get stuck [stall]', approvals: 'none' });
    await s.waitForEvent(id, 'tool.started');
    // A ghost start: a run committed an hour ago whose workflow never started (its starter died). The real sweeper,
    // through the worker's own activities, reaps it after its stall sweep.
    const ghost = 'run_ghost_of_a_start';
    const limits = { maxSteps: 5, maxCostUsd: 1, maxDurationSec: 60 };
    const ghostQueued = await s.store.queueRun({ id: ghost, owner: 'ghost-owner', goal: 'never started', model: 'demo', approvals: 'none', limits }, 100, [
      { key: eventKeys.queued(), type: 'run.queued', data: { goal: 'never started', model: 'demo', approvals: 'none', limits } },
    ]);
    expect('run' in ghostQueued && ghostQueued.created).toBe(true);
    await s.store.db.updateTable('runs').set({ created_at: new Date(Date.now() - 3600_000).toISOString() }).where('id', '=', ghost).execute();
    const scheduleId = await ensureSweeperSchedule(s.client, s.config);
    expect(scheduleId).toBe(sweeperScheduleId(s.taskQueue));
    const schedule = s.client.schedule.getHandle(scheduleId);
    try {
      const spec = (await schedule.describe()).spec;
      expect(spec.intervals?.[0]?.every).toBe(60_000);
      expect((await schedule.describe()).action.staticSummary).toBe(`Sweeper: flags runs on task queue ${s.taskQueue} with no progress for 2s as stalled`);
      // Sweep now instead of in a minute, again until the run has been quiet for longer than the threshold.
      let triggered = 0;
      await waitFor(
        async () => {
          await schedule.trigger();
          triggered += 1;
          return (await s.events(id)).some((e) => e.type === 'run.stalled');
        },
        { intervalMs: 1000, what: 'the sweeper to flag the quiet run' },
      );
      const stalled = await s.waitForEvent(id, 'run.stalled');
      expect(stalled.data).toMatchObject({ lastProgressAt: expect.any(String), minutes: 0 });
      const view = await s.getRun(id);
      expect(view.status).toBe('running');
      expect(view.stalledSince).toBe(stalled.data.lastProgressAt);
      expect(view.statusDetail).toMatch(/^no progress since .*; a step may be stuck$/);
      const metrics = await s.request('GET', '/metrics');
      expect(metrics.body).toContain('longhaul_runs_stalled 1');
      expect(metrics.body).toContain('longhaul_runs{status="running"} 1');
      // Sweeping again does not flag the same stall twice: once every sweep so far has finished (each trigger
      // started one), one more sweeps.
      const sweepsDone = async () => {
        let done = 0;
        for await (const wf of s.client.workflow.list({ query: `WorkflowType = "sweeperWorkflow" AND TaskQueue = "${s.taskQueue}"` })) if (wf.status.name === 'COMPLETED') done += 1;
        return done;
      };
      await waitFor(async () => (await sweepsDone()) >= triggered, { what: `the ${triggered} sweeps so far to finish` });
      expect(await s.store.runs.get(ghost)).toBeUndefined();
      expect(await s.store.runs.get(id)).toBeDefined();
      await schedule.trigger();
      await waitFor(async () => (await sweepsDone()) > triggered, { what: 'one more sweep to finish' });
      expect((await s.events(id)).filter((e) => e.type === 'run.stalled')).toHaveLength(1);
    } finally {
      await schedule.delete();
    }
    await s.request('POST', `/api/runs/${id}/cancel`);
    const cancelled = await s.waitForStatus(id, 'cancelled');
    expect(cancelled.stalledSince).toBeNull();
  });
});
