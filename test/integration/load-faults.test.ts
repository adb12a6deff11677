/**
 * Faults under load, at the scale of CI (issue 26; the `scale-out` bench runs it at size on Temporal's real server):
 * five runs of the load workload stream across two worker processes; one worker is SIGKILLed mid-load, then the
 * database is cut for a few seconds (a proxy in front of Postgres, which the API and the workers reach it through).
 * While it is away the API answers 503 `store_unavailable` with Retry-After to everything asked of it, never a 500;
 * once it is back every run goes on by itself and completes exactly once, each model call and tool call once (the
 * ledger; the tool's effect counted by idempotency key at an outside system), every socket following a run gap-free.
 * Temporal here is the suite's dev server, which keeps its own state: only Longhaul's database goes away.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadGoal, loadMarkerOf, scriptLoad, type LoadShape } from '../support/agent-load';
import { CountingServer } from '../support/counting-server';
import { FakeAnthropic, type FakeRequest } from '../support/fake-anthropic';
import { startHarness, type Harness } from '../support/harness';
import { LiveClient, wsUrl } from '../support/live-client';
import { checkRunsOnce, checkWatcher, outageRequests, probeDuringOutage, type LoadRun } from '../support/load-faults';
import { createPostgresDatabase } from '../support/postgres';
import { startWorkerProcess, type ChildHandle } from '../support/processes';
import { TcpProxy } from '../support/tcp-proxy';
import { testEnv } from '../support/test-env';
import { waitFor } from '../support/wait';

/** Runs of ~10 s: long enough to be cut in the middle, short enough for CI. */
const SHAPE: LoadShape = { firstTokenMs: [100, 300], tokensPerSecond: 300, outputTokens: [150, 400], turns: [4, 6], toolMs: [200, 800], tokensPerDelta: 3, seed: 2626 };
const RUNS = 5;
const OUTAGE_MS = 5000;

describe('faults under load: a worker SIGKILLed and the database cut, mid-load', () => {
  const fake = new FakeAnthropic();
  const effects = new CountingServer();
  const requests: FakeRequest[] = [];
  let charsSent = 0;
  const lastChars = new WeakMap<object, number>();
  let proxy: TcpProxy;
  let drop: () => Promise<void>;
  let h: Harness;
  const workers: ChildHandle[] = [];
  const watchers: LiveClient[] = [];
  const dirs: string[] = [];

  beforeAll(async () => {
    scriptLoad(fake, SHAPE);
    fake.keepRequests = false;
    fake.onRequest = (req) => void (loadMarkerOf(req.goal) && requests.push(req));
    fake.onTextSent = (req, chars) => {
      charsSent += chars - (lastChars.get(req) ?? 0);
      lastChars.set(req, chars);
    };
    await fake.start();
    await effects.start();
    const db = await createPostgresDatabase(testEnv().postgresUrl);
    drop = db.drop;
    const direct = new URL(db.url);
    proxy = new TcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
    await proxy.open();
    const proxied = new URL(db.url);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(proxy.port);
    h = await startHarness({
      noWorker: true,
      bus: 'database',
      env: { DATABASE_URL: proxied.toString(), ANTHROPIC_API_KEY: fake.apiKey, ANTHROPIC_BASE_URL: fake.url, LLM_MODEL: 'claude-sonnet-5-5', SEGMENT_MAX_TURNS: '1000' },
    });
    for (let n = 0; n < 2; n++) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-load-faults-'));
      dirs.push(dir);
      workers.push(await startWorkerProcess({ ...h.env, DATA_DIR: dir, LOAD_EFFECTS_URL: effects.url }, { entry: 'test/support/effect-step-worker.ts' }));
    }
  });
  afterAll(async () => {
    for (const w of watchers) w.terminate();
    for (const w of workers) await w.kill('SIGKILL');
    await proxy?.open().catch(() => undefined); // reopened if a failure left it cut, so the database can be dropped
    await h?.close();
    await proxy?.close();
    await drop?.();
    await effects.stop();
    await fake.stop();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('loses nothing and does nothing twice; the API answers 503 store_unavailable while the database is away; runs resume by themselves', async () => {
    const runs: LoadRun[] = await Promise.all(Array.from({ length: RUNS }, async (_, index) => ({ id: await h.createRun({ goal: loadGoal('streaming', index), approvals: 'none', limits: { maxSteps: 20 } }), index })));
    for (const run of runs.slice(0, 2)) {
      const client = await LiveClient.connect(wsUrl(h.api.url));
      client.subscribe(run.id, 0);
      watchers.push(client);
    }

    // A worker dies while both are busy with the runs.
    await waitFor(() => requests.length >= RUNS + 2 && charsSent > 0, { timeoutMs: 30_000, what: 'the load under way' });
    await workers[0]!.kill('SIGKILL');
    const charsAtKill = charsSent;

    // Then the database goes away while the runs go on.
    await waitFor(() => charsSent > charsAtKill + 4000, { timeoutMs: 30_000, what: 'the load going on after the kill' });
    await proxy.cut();
    const back = new Promise((r) => setTimeout(r, OUTAGE_MS));
    const probe = await probeDuringOutage(h.request.bind(h), outageRequests(runs[0]!.id), back);
    await proxy.open();
    expect(probe.failures).toEqual([]);
    expect(probe.answers['503 store_unavailable']).toBeGreaterThan(0);

    // Every run goes on to the end by itself.
    await Promise.all(runs.map((r) => h.client.workflow.getHandle(r.id).result()));
    for (const r of runs) expect((await h.getRun(r.id)).status).toBe('completed');
    const once = await checkRunsOnce({ store: h.store, shape: SHAPE, runs, requests, effects, markerOf: loadMarkerOf });
    expect(once.problems).toEqual([]);
    expect(once.completedOnce).toBe(RUNS);
    for (const [n, c] of watchers.entries()) await waitFor(() => c.events(runs[n]!.id).some((e) => e.type === 'run.completed'), { what: 'run.completed on a watcher' });
    expect((await Promise.all(watchers.map((c) => checkWatcher(h.store, c)))).flat()).toEqual([]);
  }, 120_000);
});
