/**
 * One activity per call: every model call and every tool call — quick tools included — is an ordinary,
 * heartbeating activity scheduled through the server, while the run's database bookkeeping stays local
 * (fast steps). Read from the recorded history. Because nothing holds the workflow task open, the run answers
 * a progress query and hears a cancel while a model call streams; a worker killed mid-run leaves every model
 * response and effect recorded once (the effects ledger), and a call it left in doubt goes to a human; a run
 * waiting for the model's rate limits says so in a typed `waitingFor`; and with two worker machines, a run's
 * quick tool calls go to the machine holding its workspace, so a run that never waited restores nothing.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { CountingServer } from '../support/counting-server';
import { FakeAnthropic } from '../support/fake-anthropic';
import { activityCalls, patchesOf, type HistoryEvent } from '../support/history-calls';
import { startHarness, type Harness } from '../support/harness';
import { startWorkerProcess, type ChildHandle } from '../support/processes';
import { testTools } from '../support/test-tools';
import { waitFor } from '../support/wait';
import { ledgerKeys } from '../../contract/keys';

const EventType = temporal.api.enums.v1.EventType;

/** Seconds of a proto duration. */
const seconds = (d: { seconds?: unknown } | null | undefined): number => Number(d?.seconds ?? 0);

/** The scheduled events of a history's activities of `type`. */
function scheduled(events: HistoryEvent[], type: string) {
  return events.filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED && e.activityTaskScheduledEventAttributes!.activityType!.name === type);
}

describe('one activity per call', () => {
  const fake = new FakeAnthropic();
  const outside = new CountingServer();
  let h: Harness;
  const workers: ChildHandle[] = [];

  beforeAll(async () => {
    await fake.start();
    await outside.start();
    h = await startHarness({
      noWorker: true,
      env: {
        ANTHROPIC_API_KEY: fake.apiKey,
        ANTHROPIC_BASE_URL: fake.url,
        LLM_MODEL: 'claude-sonnet-5-5',
        ACTIVITY_HEARTBEAT_TIMEOUT_SEC: '2',
        ACTIVITY_MAX_ATTEMPTS: '12',
      },
      extraTools: testTools(),
    });
    const steps = (goal: string) => Number(/steps=(\d+)/.exec(goal)![1]);
    fake.script('[list]', (req) =>
      req.assistantTurns < steps(req.goal) ? { text: `Looking (${req.assistantTurns}).`, toolUses: [{ name: 'workspace_list', input: {} }] } : { text: 'Nothing here.' },
    );
    // A quick tool call, then a model call that starts streaming and never finishes (the code before ran that one
    // locally, after a fast call, and heard nothing until it ended).
    fake.script('[hang]', (req) =>
      req.assistantTurns === 0
        ? { toolUses: [{ name: 'workspace_list', input: {} }] }
        : { text: 'Thinking about it for a very long while, word by word.', chunkChars: 4, hangAfterChars: 20 },
    );
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

  it('schedules every model call and every tool call, quick ones included, as a heartbeating activity; bookkeeping stays local', async () => {
    const worker = await spawnWorker();
    const id = await h.createRun({ goal: 'Look [list] steps=6', approvals: 'none' });
    expect((await h.waitForStatus(id, ['completed', 'failed'])).status).toBe('completed');
    await worker.kill('SIGTERM');

    const { events } = await h.history(id);
    const patches = patchesOf(events!);
    expect(patches).toEqual(expect.arrayContaining(['fast-steps', 'one-activity-per-call']));
    expect(patches).not.toContain('quick-steps');
    const calls = activityCalls(events!);
    expect(calls.map((c) => c.type)).not.toContain('quickSteps');
    const modelCalls = calls.filter((c) => c.type === 'callModel');
    const tools = calls.filter((c) => c.type === 'runTool');
    expect(modelCalls).toHaveLength(7);
    expect(tools).toHaveLength(6); // every one of them a quick tool
    expect([...modelCalls, ...tools].every((c) => !c.local)).toBe(true);
    for (const e of [...scheduled(events!, 'callModel'), ...scheduled(events!, 'runTool')]) {
      expect(seconds(e.activityTaskScheduledEventAttributes!.heartbeatTimeout)).toBe(2);
    }
    // Slot claim and `running` recorded locally, so the first model call leaves with the first workflow task.
    const firstTaskCompleted = events!.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)!;
    expect(modelCalls[0]!.taskCompletedEventId).toBe(Number(firstTaskCompleted.eventId));
    const bookkeeping = calls.filter((c) => ['claimRunSlot', 'syncRunState', 'releaseRunSlot'].includes(c.type));
    expect(bookkeeping.length).toBeGreaterThanOrEqual(3);
    expect(bookkeeping.every((c) => c.local)).toBe(true);
  });

  it('answers a progress query and hears a cancel while a model call streams', async () => {
    const worker = await spawnWorker();
    const id = await h.createRun({ goal: 'Wait [hang]', approvals: 'none' });
    await waitFor(() => fake.requestsFor('[hang]').length === 2, { what: 'the second model call to start streaming' });
    // The workflow task is not held open by the call: the workflow itself answers.
    const view = await h.request('GET', `/api/runs/${id}`);
    expect(view.body).toMatchObject({ status: 'running', worker: 'available', waitingFor: null });
    expect((await h.request('POST', `/api/runs/${id}/cancel`)).status).toBeLessThan(300);
    // The call never ends by itself; the run does, because the cancel reaches the workflow at once.
    const run = await h.waitForStatus(id, ['cancelled', 'completed', 'failed'], { timeoutMs: 20_000 });
    expect(run.status).toBe('cancelled');
    expect((await h.events(id)).filter((e) => e.type === 'llm.message')).toHaveLength(1);
    const { events } = await h.history(id);
    const cancelAt = events!.findIndex((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED);
    const modelCalls = scheduled(events!, 'callModel');
    expect(modelCalls).toHaveLength(2);
    expect(cancelAt).toBeGreaterThan(events!.indexOf(modelCalls[1]!));
    await worker.kill('SIGTERM');
  });

  it('keeps every model response and effect once when a worker dies mid-run', async () => {
    const first = await spawnWorker();
    // Each run's fifth effect is held at the outside system, so the worker dies in the middle of that call
    // for certain; the next worker takes it once its heartbeat stops, and sends it again under its key.
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
      expect(outside.requests.filter((r) => r.path === `/fx/${i}/4`).length).toBeGreaterThanOrEqual(2);
      for (let turn = 0; turn < 8; turn++) {
        const seen = outside.requests.filter((r) => r.path === `/fx/${i}/${turn}`);
        expect(new Set(seen.map((r) => r.idempotencyKey)).size).toBe(1);
        expect(outside.applied.filter((r) => r.path === `/fx/${i}/${turn}`)).toHaveLength(1);
      }
      for (let turn = 1; turn <= 9; turn++) expect((await h.store.effects.get(ledgerKeys.modelCall(id, turn)))?.status).toBe('completed');
    }
  });

  it('asks a human about a quick call left in doubt by a dead worker, then steps on', async () => {
    const first = await spawnWorker();
    outside.hold((r) => r.path === '/charge/1');
    const id = await h.createRun({ goal: 'Charge [charge]', approvals: 'none' });
    await waitFor(() => outside.heldCount() === 1, { what: 'the second charge to reach the payment API' });
    await first.kill('SIGKILL'); // charged, and nobody recorded that it was
    outside.release();
    const second = await spawnWorker();

    const waiting = await h.waitForStatus(id, 'waiting_approval', { timeoutMs: 60_000 });
    expect(waiting.pendingApprovals[0]).toMatchObject({ kind: 'effect_in_doubt', tool: 'quick_charge' });
    expect(waiting.waitingFor).toBe('human');
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
});

describe('a run waiting for the model’s rate limits', () => {
  const fake = new FakeAnthropic();
  let h: Harness;

  beforeAll(async () => {
    await fake.start();
    // 30 requests a minute: the first 30 calls go at once, then one every 2 s.
    h = await startHarness({
      env: {
        ANTHROPIC_API_KEY: fake.apiKey,
        ANTHROPIC_BASE_URL: fake.url,
        LLM_MODEL: 'claude-sonnet-5-5',
        MODEL_RATE_LIMITS: JSON.stringify({ 'claude-sonnet-5-5': { rpm: 30 } }),
      },
    });
    fake.script('[many]', (req) => (req.assistantTurns < 32 ? { toolUses: [{ name: 'workspace_list', input: {} }] } : { text: 'Listed it all.' }));
  });
  afterAll(async () => {
    await h.close();
    await fake.stop();
  });

  it('says it waits for capacity in a typed waitingFor, in the run and in the list, and goes on', async () => {
    const id = await h.createRun({ goal: 'List [many]', approvals: 'none', limits: { maxSteps: 40 } });
    let seen: { view: any; listed: any } | undefined;
    await waitFor(
      async () => {
        const view = (await h.request('GET', `/api/runs/${id}`)).body;
        const listed = (await h.request('GET', '/api/runs')).body.runs.find((r: { id: string }) => r.id === id);
        if (view.waitingFor === 'capacity' && listed?.waitingFor === 'capacity') seen = { view, listed };
        return seen !== undefined;
      },
      { what: 'the run to wait for capacity', timeoutMs: 60_000 },
    );
    expect(seen!.view).toMatchObject({ status: 'running', statusDetail: 'waiting for model capacity' });
    expect(seen!.listed).toMatchObject({ status: 'running' });
    const run = await h.waitForStatus(id, ['completed', 'failed'], { timeoutMs: 60_000 });
    expect(run).toMatchObject({ status: 'completed', waitingFor: null });
    const events = await h.events(id);
    expect(events.filter((e) => e.type === 'llm.message').map((e) => e.data.turn)).toEqual(Array.from({ length: 33 }, (_, i) => i + 1));
    expect(events.filter((e) => e.type === 'model.throttled').length).toBeGreaterThan(0);
    expect(fake.requestsFor('[many]')).toHaveLength(33); // nothing refused by the provider, nothing asked twice
  });
});

describe('quick tools on two worker machines', () => {
  const fake = new FakeAnthropic();
  let h: Harness;
  const workers: ChildHandle[] = [];
  const dirs: string[] = [];

  /** A worker on a machine of its own: its own DATA_DIR, the shared database and Temporal. */
  async function machine(): Promise<string> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-machine-'));
    dirs.push(dir);
    workers.push(await startWorkerProcess({ ...h.env, DATA_DIR: dir }));
    return dir;
  }

  /** Whether a machine's disk holds a folder for the run. */
  const holds = (dir: string, runId: string): boolean => (fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }) as string[]).some((p) => path.basename(p) === runId);

  beforeAll(async () => {
    await fake.start();
    // Writes a file (an ordinary tool), then reads and lists the workspace three times (quick tools).
    fake.script('[quick-machines', (req) => {
      if (req.assistantTurns === 0) return { toolUses: [{ name: 'workspace_write', input: { path: 'a.txt', content: req.goal } }] };
      if (req.assistantTurns < 4) return { toolUses: [req.assistantTurns % 2 ? { name: 'workspace_read', input: { path: 'a.txt' } } : { name: 'workspace_list', input: {} }] };
      return { text: `done: ${req.lastToolResults[0]?.content}` };
    });
    h = await startHarness({
      database: 'postgres',
      noWorker: true,
      bus: 'database',
      env: { ANTHROPIC_API_KEY: fake.apiKey, ANTHROPIC_BASE_URL: fake.url, LLM_MODEL: 'claude-sonnet-5-5' },
    });
  });
  afterAll(async () => {
    for (const w of workers) await w.kill();
    await h.close();
    await fake.stop();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('runs a run’s quick tool calls on the machine holding its workspace: nothing restored, its files on one disk', async () => {
    const machines = [await machine(), await machine()];
    const ids = await Promise.all([1, 2, 3, 4].map((n) => h.createRun({ goal: `stay ${n} [quick-machines]`, approvals: 'none' })));
    for (const id of ids) expect((await h.waitForStatus(id, ['completed', 'failed'], { timeoutMs: 60_000 })).status).toBe('completed');
    for (const id of ids) {
      const events = await h.events(id);
      expect(events.filter((e) => e.type === 'tool.completed')).toHaveLength(4);
      expect(events.filter((e) => e.type === 'workspace.restored')).toEqual([]);
      expect(machines.filter((dir) => holds(dir, id))).toHaveLength(1);
      const calls = activityCalls((await h.history(id)).events!).filter((c) => c.type === 'runTool');
      expect(calls.map((c) => c.local)).toEqual([false, false, false, false]);
    }
  });
});
