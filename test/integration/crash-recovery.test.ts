/**
 * Assume everything fails: workers SIGKILLed at random points, a worker killed in the middle of a
 * side effect that cannot be safely re-sent, a worker drained by SIGTERM, and the Temporal server
 * itself restarted. Every run finishes or stops for a stated reason; every effect happens once.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDevServer, type DevServer } from '../../shared/temporal/dev-server';
import { CountingServer } from '../support/counting-server';
import { FakeAnthropic } from '../support/fake-anthropic';
import { startHarness, type Harness } from '../support/harness';
import { freePort } from '../support/ports';
import { startWorkerProcess, type ChildHandle } from '../support/processes';
import { seededRandom } from '../support/random';
import { testEnv } from '../support/test-env';
import { waitFor } from '../support/wait';

describe('crash recovery', () => {
  const fake = new FakeAnthropic();
  const outside = new CountingServer();
  const workers: ChildHandle[] = [];
  let h: Harness;

  const env = () => ({
    ANTHROPIC_API_KEY: fake.apiKey,
    ANTHROPIC_BASE_URL: fake.url,
    LLM_MODEL: 'claude-sonnet-5-5',
    HTTP_TOOL_ALLOWED_HOSTS: outside.host,
    // The counting server applies a request once per Idempotency-Key: an interrupted one is re-sent, not asked about.
    HTTP_TOOL_IDEMPOTENT_HOSTS: outside.host,
    ACTIVITY_HEARTBEAT_TIMEOUT_SEC: '2',
    ACTIVITY_MAX_ATTEMPTS: '12',
    WORKER_SHUTDOWN_GRACE_SEC: '10',
  });
  /** Each test starts with no worker but its own. */
  beforeEach(async () => {
    for (const w of workers.splice(0)) await w.kill('SIGKILL');
  });

  async function spawnWorker(harness: Harness = h): Promise<ChildHandle> {
    const w = await startWorkerProcess(harness.env);
    workers.push(w);
    return w;
  }

  beforeAll(async () => {
    await fake.start();
    await outside.start();
    h = await startHarness({ noWorker: true, env: env() });
  });
  afterAll(async () => {
    for (const w of workers) await w.kill('SIGKILL');
    await h.close();
    await fake.stop();
    await outside.stop();
  });

  it('survives a worker SIGKILLed at random points, several times: all runs complete, each effect once under one key', async () => {
    const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);
    const random = seededRandom(seed);
    process.stderr.write(`chaos seed ${seed} (CHAOS_SEED=${seed} replays it)\n`);
    outside.responseDelay = () => Math.floor(random() * 250);
    const TURNS_WITH_EFFECTS = 3;
    fake.script('[chaos]', (req) => {
      const run = /\[chaos\] #(\d+)/.exec(req.goal)![1];
      if (req.assistantTurns >= TURNS_WITH_EFFECTS) return { text: `Run ${run} is done.`, chunkChars: 4, delayMs: 10 };
      return {
        text: `Run ${run}, step ${req.assistantTurns}: recording an effect now.`,
        chunkChars: 5,
        delayMs: 12,
        toolUses: [{ name: 'http_request', input: { method: 'POST', url: `${outside.url}/effects/${run}/${req.assistantTurns}`, body: '{}' } }],
      };
    });

    let worker = await spawnWorker();
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await h.createRun({ goal: `Chaos [chaos] #${i}`, approvals: 'none' }));

    for (let kill = 0; kill < 4; kill++) {
      await new Promise((r) => setTimeout(r, 600 + random() * 1400));
      await worker.kill('SIGKILL');
      worker = await spawnWorker();
    }
    for (const id of ids) {
      const run = await h.waitForStatus(id, ['completed', 'failed', 'cancelled'], { timeoutMs: 120_000 });
      expect({ id, status: run.status, error: run.error }).toEqual({ id, status: 'completed', error: null });
    }

    for (const [i, id] of ids.entries()) {
      const events = await h.events(id);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, n) => n + 1));
      const messages = events.filter((e) => e.type === 'llm.message');
      expect(messages.map((e) => e.data.turn)).toEqual([1, 2, 3, 4]);
      expect(events.filter((e) => e.type === 'run.completed')).toHaveLength(1);
      for (let turn = 0; turn < TURNS_WITH_EFFECTS; turn++) {
        const toolUseId = (messages[turn]!.data.toolCalls as { id: string }[])[0]!.id;
        const seen = outside.requests.filter((r) => r.path === `/effects/${i}/${turn}`);
        // Possibly sent more than once (a worker died mid-request), but always under the one key...
        expect(new Set(seen.map((r) => r.idempotencyKey))).toEqual(new Set([`${id}:turn:${turn + 1}:tool:${toolUseId}`]));
        // ...so the outside world applied it exactly once.
        expect(outside.applied.filter((r) => r.path === `/effects/${i}/${turn}`)).toHaveLength(1);
        expect(events.filter((e) => e.type === 'tool.completed' && e.data.toolUseId === toolUseId)).toHaveLength(1);
      }
    }
  });

  it('asks a human before re-running a non-idempotent effect interrupted by a crash', async () => {
    outside.responseDelay = () => 0;
    outside.hold((r) => r.path.startsWith('/charge'));
    fake.script('[charge]', (req) => {
      const which = /\[charge\] (\w+)/.exec(req.goal)![1];
      return req.assistantTurns === 0
        ? { toolUses: [{ name: 'charge_card', input: { url: `${outside.url}/charge/${which}`, cents: 500 } }] }
        : { text: `Result: ${req.lastToolResults[0]?.content}` };
    });
    const worker = await spawnWorker();
    const rejectId = await h.createRun({ goal: 'Charge [charge] reject', approvals: 'none' });
    const approveId = await h.createRun({ goal: 'Charge [charge] approve', approvals: 'none' });
    await waitFor(() => outside.heldCount() === 2, { what: 'both charges to reach the payment API' });
    await worker.kill('SIGKILL'); // the charges happened; nobody recorded that they did
    outside.release();
    await spawnWorker();

    for (const id of [rejectId, approveId]) {
      const waiting = await h.waitForStatus(id, 'waiting_approval', { timeoutMs: 60_000 });
      expect(waiting.pendingApprovals[0]).toMatchObject({ kind: 'effect_in_doubt', tool: 'charge_card', reason: expect.stringContaining('may or may not have taken effect') });
    }
    const decide = async (id: string, decision: string, comment?: string) => {
      const approvalId = (await h.getRun(id)).pendingApprovals[0].approvalId;
      expect((await h.request('POST', `/api/runs/${id}/approvals/${approvalId}`, { body: { decision, comment } })).status).toBe(200);
    };
    await decide(rejectId, 'reject', 'The bank shows the charge went through; do not charge again.');
    await decide(approveId, 'approve');
    const rejected = await h.waitForStatus(rejectId, 'completed');
    expect(rejected.result).toContain('was interrupted and may or may not have taken effect; it was not run again');
    // The rejection's comment reaches the model, as for any rejection.
    expect(rejected.result).toContain('Their comment: The bank shows the charge went through; do not charge again.');
    expect(outside.requests.filter((r) => r.path === '/charge/reject')).toHaveLength(1);
    const approved = await h.waitForStatus(approveId, 'completed');
    expect(approved.result).toContain('charged: 201');
    // The human chose to re-send: the second charge is theirs to answer for, and it is recorded.
    expect(outside.requests.filter((r) => r.path === '/charge/approve')).toHaveLength(2);
  });

  it('drains on SIGTERM: stops polling, lets the running tool finish, exits 0', async () => {
    fake.script('[drain]', (req) =>
      req.assistantTurns === 0 ? { toolUses: [{ name: 'slow_step', input: { ms: 2500, label: 'drain' } }] } : { text: 'Drained and finished.' },
    );
    const worker = await spawnWorker();
    const id = await h.createRun({ goal: 'Drain [drain]', approvals: 'none' });
    await h.waitForEvent(id, 'tool.started');
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    // The tool finished inside the grace period, and the draining worker took no new work.
    const events = await h.events(id);
    expect(events.filter((e) => e.type === 'tool.completed')).toHaveLength(1);
    expect(fake.requestsFor('[drain]')).toHaveLength(1);
    expect(worker.output()).toContain('draining');

    await spawnWorker();
    const run = await h.waitForStatus(id, 'completed');
    expect(run.result).toBe('Drained and finished.');
    const toolUseId = events.find((e) => e.type === 'tool.completed')!.data.toolUseId as string;
    expect(await h.store.effects.get(`${id}:turn:1:tool:${toolUseId}`)).toMatchObject({ status: 'completed', attempts: 1 });
    expect((await h.events(id)).filter((e) => e.type === 'tool.started')).toHaveLength(1);
  });

  describe('with its own Temporal server', () => {
    let server: DevServer;
    let dir: string;
    let port: number;
    let t: Harness;

    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-temporal-'));
      port = await freePort();
      server = await startDevServer({ cliPath: testEnv().temporalCli || undefined, port, uiPort: 0, dbFile: path.join(dir, 'temporal.sqlite') });
      t = await startHarness({ noWorker: true, temporalAddress: server.address, env: { ...env(), START_RUN_TIMEOUT_MS: '2000', START_RUN_WAIT_MS: '250' } });
    });
    afterAll(async () => {
      for (const w of workers.splice(0)) await w.kill('SIGKILL');
      await t.close();
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('resumes runs after the Temporal server restarts from its database file', async () => {
      fake.script('[restart-approval]', (req) =>
        req.assistantTurns === 0 ? { toolUses: [{ name: 'http_request', input: { method: 'POST', url: `${outside.url}/after-restart`, body: '{}' } }] } : { text: 'approved run done' },
      );
      fake.script('[restart-stream]', (req) =>
        req.assistantTurns === 0
          ? { text: 'Thinking through a long answer while the server goes away. '.repeat(4), chunkChars: 5, delayMs: 40, toolUses: [{ name: 'workspace_list', input: {} }] }
          : { text: 'streamed run done' },
      );
      await spawnWorker(t);
      const waiting = await t.createRun({ goal: 'Wait [restart-approval]', approvals: 'write' });
      const streaming = await t.createRun({ goal: 'Stream [restart-stream]', approvals: 'none' });
      const { pendingApprovals } = await t.waitForStatus(waiting, 'waiting_approval');
      await waitFor(() => fake.requestsFor('[restart-stream]').length > 0, { what: 'the stream to start' });

      await server.stop();
      server = await startDevServer({ cliPath: testEnv().temporalCli || undefined, port, uiPort: 0, dbFile: path.join(dir, 'temporal.sqlite') });

      await waitFor(async () => (await t.request('POST', `/api/runs/${waiting}/approvals/${pendingApprovals[0].approvalId}`, { body: { decision: 'approve' } })).status === 200, {
        timeoutMs: 30_000,
        what: 'the approval to reach the restarted server',
      });
      expect((await t.waitForStatus(waiting, 'completed', { timeoutMs: 60_000 })).result).toBe('approved run done');
      expect((await t.waitForStatus(streaming, 'completed', { timeoutMs: 60_000 })).result).toBe('streamed run done');
      expect(outside.applied.filter((r) => r.path === '/after-restart')).toHaveLength(1);
      for (const id of [waiting, streaming]) {
        const events = await t.events(id);
        expect(events.map((e) => e.seq)).toEqual(events.map((_, n) => n + 1));
      }
    });

    it('accepts new runs while Temporal is down, and starts each once when it is back', async () => {
      if (workers.length === 0) await spawnWorker(t);
      await server.stop();
      let id: string | undefined;
      try {
        // The run is committed, so it is accepted: its start is owed, and made by the API's own tries.
        const res = await t.request('POST', '/api/runs', { body: { goal: 'while down', model: 'demo', approvals: 'none' } });
        expect(res.status).toBe(202);
        const accepted: string = res.body.id;
        id = accepted;
        expect(await t.store.runs.get(accepted)).toMatchObject({ status: 'queued', startOwed: true });
        // It reads as starting, not as a run no worker answers for.
        const view = await t.getRun(accepted);
        expect([view.status, view.worker, view.statusDetail]).toEqual(['queued', null, expect.stringContaining('starting')]);
        // What must reach the workflow cannot yet: a clear 503, and the run is kept.
        const cancel = await t.request('POST', `/api/runs/${accepted}/cancel`);
        expect([cancel.status, cancel.body.error.code]).toEqual([503, 'temporal_unavailable']);
        expect(await t.store.runs.get(accepted)).toMatchObject({ status: 'queued', startOwed: true });
        const ready = await t.request('GET', '/readyz');
        expect([ready.status, ready.body.checks.database]).toEqual([503, 'ok']);
        // Nothing of why (an address, a host) to whoever asks: that goes to the log.
        expect(ready.body.checks.temporal).toBe('unavailable');
      } finally {
        server = await startDevServer({ cliPath: testEnv().temporalCli || undefined, port, uiPort: 0, dbFile: path.join(dir, 'temporal.sqlite') });
      }
      if (id === undefined) throw new Error('no run was accepted');
      expect((await t.waitForStatus(id, 'completed', { timeoutMs: 60_000 })).result).toBeTruthy();
      expect((await t.store.runs.get(id))?.startOwed).toBe(false);
      const events = await t.events(id);
      expect(events.filter((e) => e.type === 'run.queued')).toHaveLength(1);
      expect(events.filter((e) => e.type === 'run.completed')).toHaveLength(1);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, n) => n + 1));
    });
  });
});
