/**
 * Fast steps: bookkeeping, quick tools and fast model calls run as local activities in the worker
 * that runs the workflow task. Read from the recorded history: the first model call is scheduled in
 * the first workflow task, quick tools and bookkeeping never go through the server, model calls run
 * locally exactly where the placement rule says, a turn's quick tools and the next model call in one
 * quick step; a quick step stops at a failed call; a worker killed in the middle of a local stretch
 * (whose results were not recorded yet) leaves every model response and effect recorded once, and a
 * quick call it left in doubt goes to a human; a model call the rate limits refuse room ends quick steps
 * with the wait, which the run takes on a timer.
 */
import { temporal } from '@temporalio/proto';
import { CountingServer } from '../support/counting-server';
import { FakeAnthropic } from '../support/fake-anthropic';
import { activityCalls, patchesOf } from '../support/history-calls';
import { startHarness, type Harness } from '../support/harness';
import { startWorkerProcess, type ChildHandle } from '../support/processes';
import { testTools } from '../support/test-tools';
import { waitFor } from '../support/wait';
import { ledgerKeys } from '../../contract/keys';
import { afterModelCall, modelCallRunsLocally, type ModelCallHistory } from '../../workflows/step-placement';

const EventType = temporal.api.enums.v1.EventType;

describe('fast steps', () => {
  const fake = new FakeAnthropic();
  const outside = new CountingServer();
  let h: Harness;
  const workers: ChildHandle[] = [];
  const LOCAL_STEPS_MAX_MS = 2000; // wide, so the run surely has local calls to check

  beforeAll(async () => {
    await fake.start();
    await outside.start();
    h = await startHarness({
      noWorker: true,
      env: {
        ANTHROPIC_API_KEY: fake.apiKey,
        ANTHROPIC_BASE_URL: fake.url,
        LLM_MODEL: 'claude-sonnet-5-5',
        LOCAL_STEPS_MAX_MS: String(LOCAL_STEPS_MAX_MS),
        ACTIVITY_HEARTBEAT_TIMEOUT_SEC: '2',
        ACTIVITY_MAX_ATTEMPTS: '12',
      },
      extraTools: testTools(),
    });
    const steps = (goal: string) => Number(/steps=(\d+)/.exec(goal)![1]);
    fake.script('[list]', (req) =>
      req.assistantTurns < steps(req.goal) ? { text: `Looking (${req.assistantTurns}).`, toolUses: [{ name: 'workspace_list', input: {} }] } : { text: 'Nothing here.' },
    );
    fake.script('[spin]', () => ({ toolUses: [{ name: 'workspace_list', input: {} }] }));
    fake.script('[fail]', () => ({ toolUses: [{ name: 'quick_fail', input: {} }] }));
    fake.script('[charge]', (req) =>
      req.assistantTurns < 3
        ? { toolUses: [{ name: 'quick_charge', input: { url: `${outside.url}/charge/${req.assistantTurns}` } }] }
        : { text: `Charged: ${req.lastToolResults[0]?.content}` },
    );
    fake.script('[effects]', (req) => {
      const run = /#(\d+)/.exec(req.goal)![1];
      return req.assistantTurns < steps(req.goal)
        ? { text: `Effect ${req.assistantTurns}.`, chunkChars: 6, delayMs: 8, toolUses: [{ name: 'quick_effect', input: { url: `${outside.url}/fx/${run}/${req.assistantTurns}` } }] }
        : { text: 'All recorded.' };
    });
  });
  afterAll(async () => {
    for (const w of workers) await w.kill('SIGKILL');
    await h.close();
    await outside.stop();
    await fake.stop();
  });

  async function spawnWorker(): Promise<ChildHandle> {
    const w = await startWorkerProcess(h.env);
    workers.push(w);
    return w;
  }

  it('schedules the first model call in the first workflow task and keeps quick tools and bookkeeping off the server', async () => {
    const worker = await spawnWorker();
    const id = await h.createRun({ goal: 'Look [list] steps=12', approvals: 'none' });
    expect((await h.waitForStatus(id, ['completed', 'failed'])).status).toBe('completed');
    await worker.kill('SIGTERM');

    const { events } = await h.history(id);
    expect(patchesOf(events!)).toEqual(expect.arrayContaining(['fast-steps', 'quick-steps']));
    const calls = activityCalls(events!);
    const firstTaskCompleted = events!.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)!;
    const modelCalls = calls.filter((c) => c.type === 'callModel');
    expect(modelCalls).toHaveLength(13);
    // Slot claim and `running` recorded locally, so the first model call leaves with the first workflow task.
    expect(modelCalls[0]).toMatchObject({ local: false, taskCompletedEventId: Number(firstTaskCompleted.eventId) });
    expect(calls.filter((c) => ['claimRunSlot', 'syncRunState', 'releaseRunSlot'].includes(c.type)).every((c) => c.local)).toBe(true);
    const tools = calls.filter((c) => c.type === 'runTool');
    expect(tools).toHaveLength(12);
    expect(tools.every((c) => c.local)).toBe(true);

    // Every model call ran where the rule says, given the calls before it.
    let placement: ModelCallHistory = { previous: null, lastRoundTripAtMs: null };
    for (const call of modelCalls) {
      expect(call.local).toBe(modelCallRunsLocally(placement, LOCAL_STEPS_MAX_MS));
      placement = afterModelCall(placement, { tookMs: call.result.tookMs, atMs: Date.parse(call.result.at), local: call.local });
    }
    expect(modelCalls.filter((c) => c.local).length).toBeGreaterThan(0);
    // Each local model call after a turn of quick tools came in the same quick-steps activity as those tools,
    // and one activity took several steps.
    for (const [i, call] of calls.entries()) {
      if (call.type !== 'callModel' || !call.local || calls[i - 1]?.type !== 'runTool') continue;
      expect(call.quickStep ?? 0).toBeGreaterThan(0);
      expect(call.quickStep).toBe(calls[i - 1]!.quickStep);
    }
    expect(new Set(calls.map((c) => c.quickStep).filter(Boolean)).size).toBeLessThan(tools.length);
    // Fewer workflow tasks than steps: local steps share them.
    const tasks = events!.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED).length;
    expect(tasks).toBeLessThan(modelCalls.length);
  });

  it('keeps every model response and quick effect once when a worker dies in the middle of a local stretch', async () => {
    const first = await spawnWorker();
    // Each run's fifth effect is held at the outside system, so the worker dies in the middle of a local
    // stretch for certain: what ran since the last completed workflow task is not in the history yet, and
    // runs again on the next worker.
    outside.hold((r) => /^\/fx\/\d\/4$/.test(r.path));
    const ids = [await h.createRun({ goal: 'Effects [effects] #0 steps=8', approvals: 'none' }), await h.createRun({ goal: 'Effects [effects] #1 steps=8', approvals: 'none' })];
    await waitFor(() => outside.heldCount() === 2, { what: 'both runs to reach their fifth effect' });
    await first.kill('SIGKILL');
    outside.release();
    const second = await spawnWorker();
    for (const id of ids) expect((await h.waitForStatus(id, ['completed', 'failed'], { timeoutMs: 90_000 })).status).toBe('completed');
    await second.kill('SIGTERM'); // the next test's runs go to its own worker

    for (const [i, id] of ids.entries()) {
      const events = await h.events(id);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, n) => n + 1));
      expect(events.filter((e) => e.type === 'llm.message').map((e) => e.data.turn)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(events.filter((e) => e.type === 'tool.completed')).toHaveLength(8);
      // The held effect was sent again by the next worker, under the same key, and applied once.
      expect(outside.requests.filter((r) => r.path === `/fx/${i}/4`).length).toBeGreaterThanOrEqual(2);
      for (let turn = 0; turn < 8; turn++) {
        const seen = outside.requests.filter((r) => r.path === `/fx/${i}/${turn}`);
        expect(new Set(seen.map((r) => r.idempotencyKey)).size).toBe(1);
        expect(outside.applied.filter((r) => r.path === `/fx/${i}/${turn}`)).toHaveLength(1);
      }
      // Each model response recorded in the ledger, so a re-run local call returned it instead of asking again.
      for (let turn = 1; turn <= 9; turn++) expect((await h.store.effects.get(ledgerKeys.modelCall(id, turn)))?.status).toBe('completed');
    }
  });

  it('stops a quick step at a failed tool call, so a loop of failing quick calls stops where it would have one by one', async () => {
    const worker = await spawnWorker();
    const id = await h.createRun({ goal: 'Fail [fail]', approvals: 'none', limits: { maxSteps: 50 } });
    const run = await h.waitForStatus(id, ['completed', 'failed']);
    await worker.kill('SIGTERM');
    expect(run.status).toBe('failed');
    expect(run.error).toMatchObject({ code: 'limit_exceeded', message: expect.stringContaining('stopped a loop') });
    const events = await h.events(id);
    const threshold = h.config.runs.loopDetectionThreshold;
    // No model call after the last failure: each quick step stopped before asking the model.
    expect(events.filter((e) => e.type === 'tool.failed')).toHaveLength(threshold);
    expect(events.filter((e) => e.type === 'llm.message')).toHaveLength(threshold);
    const calls = activityCalls((await h.history(id)).events!);
    expect(calls.filter((c) => c.type === 'runTool' && c.quickStep)).toHaveLength(threshold);
    expect(calls.filter((c) => c.type === 'callModel' && c.quickStep)).toHaveLength(0);
  });

  it('asks a human about a quick call left in doubt by a dead worker, then steps on', async () => {
    const first = await spawnWorker();
    // The second charge is the tool half of a quick step (the first model call went through the server).
    outside.hold((r) => r.path === '/charge/1');
    const id = await h.createRun({ goal: 'Charge [charge]', approvals: 'none' });
    await waitFor(() => outside.heldCount() === 1, { what: 'the second charge to reach the payment API' });
    await first.kill('SIGKILL'); // charged, and nobody recorded that it was
    outside.release();
    const second = await spawnWorker();

    const waiting = await h.waitForStatus(id, 'waiting_approval', { timeoutMs: 60_000 });
    expect(waiting.pendingApprovals[0]).toMatchObject({ kind: 'effect_in_doubt', tool: 'quick_charge' });
    const approvalId = waiting.pendingApprovals[0].approvalId;
    expect((await h.request('POST', `/api/runs/${id}/approvals/${approvalId}`, { body: { decision: 'approve' } })).status).toBe(200);
    const run = await h.waitForStatus(id, ['completed', 'failed']);
    expect(run.status).toBe('completed');
    expect(run.result).toContain('charged: 201');
    // Sent before the crash and once more because a human said so; the others once each.
    expect(outside.requests.filter((r) => r.path === '/charge/1')).toHaveLength(2);
    for (const n of [0, 2]) expect(outside.requests.filter((r) => r.path === `/charge/${n}`)).toHaveLength(1);
    const events = await h.events(id);
    expect(events.filter((e) => e.type === 'llm.message').map((e) => e.data.turn)).toEqual([1, 2, 3, 4]);
    expect(events.filter((e) => e.type === 'tool.completed')).toHaveLength(3);
    await second.kill('SIGTERM');
  });

  it('hears a cancel while it steps locally: the run stops between steps and records why', async () => {
    const worker = await spawnWorker();
    const id = await h.createRun({ goal: 'Spin [spin]', approvals: 'none', limits: { maxSteps: 1000 } });
    await waitFor(async () => (await h.events(id)).filter((e) => e.type === 'tool.completed').length >= 10, { what: 'ten local steps' });
    expect((await h.request('POST', `/api/runs/${id}/cancel`)).status).toBeLessThan(300);
    const run = await h.waitForStatus(id, ['cancelled', 'completed', 'failed']);
    expect(run.status).toBe('cancelled');
    const events = await h.events(id);
    expect(events.filter((e) => e.type === 'run.cancelled')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'tool.completed').length).toBeLessThan(1000);
    await worker.kill('SIGTERM');
  });
});

describe('quick steps meeting the model’s rate limits', () => {
  const fake = new FakeAnthropic();
  let h: Harness;

  beforeAll(async () => {
    await fake.start();
    // 30 requests a minute: the first 30 calls go at once, then one every 2 s. A wide local window keeps the
    // run's calls after its first in quick steps, so the 31st is refused room inside them.
    h = await startHarness({
      env: {
        ANTHROPIC_API_KEY: fake.apiKey,
        ANTHROPIC_BASE_URL: fake.url,
        LLM_MODEL: 'claude-sonnet-5-5',
        LOCAL_STEPS_MAX_MS: '5000',
        MODEL_RATE_LIMITS: JSON.stringify({ 'claude-sonnet-5-5': { rpm: 30 } }),
      },
    });
    fake.script('[many]', (req) => (req.assistantTurns < 32 ? { toolUses: [{ name: 'workspace_list', input: {} }] } : { text: 'Listed it all.' }));
  });
  afterAll(async () => {
    await h.close();
    await fake.stop();
  });

  it('ends quick steps with the wait the books give, waits on a timer, and goes on', async () => {
    const id = await h.createRun({ goal: 'List [many]', approvals: 'none', limits: { maxSteps: 40 } });
    const run = await h.waitForStatus(id, ['completed', 'failed'], { timeoutMs: 60_000 });
    expect(run.status).toBe('completed');
    const events = await h.events(id);
    expect(events.filter((e) => e.type === 'llm.message').map((e) => e.data.turn)).toEqual(Array.from({ length: 33 }, (_, i) => i + 1));
    expect(events.filter((e) => e.type === 'model.throttled').length).toBeGreaterThan(0);
    // The refusal came back from inside quick steps, as their last step's answer.
    const calls = activityCalls((await h.history(id)).events!);
    expect(calls.some((c) => c.quickStep && c.type === 'callModel' && c.result.deferred === 'capacity')).toBe(true);
    expect(fake.requestsFor('[many]')).toHaveLength(33); // nothing refused by the provider, nothing asked twice
  });
});
