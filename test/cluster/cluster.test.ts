/**
 * The cluster shape, run for real (no Docker here): Temporal's server built from its Go module, on
 * Postgres, started from the same config and setup script as docker-compose.yml; two workers and
 * two API replicas as separate processes, each with its own DATA_DIR, on one Longhaul database. A
 * run completes; a run survives SIGKILL of the worker running it, and of the Temporal server; a
 * client streaming from a replica that is SIGKILLed resumes on the other with no gap; an approval
 * decided on one replica reaches a run whose worker another replica's run started on.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FakeAnthropic } from '../support/fake-anthropic';
import { LiveClient, wsUrl } from '../support/live-client';
import { freePort } from '../support/ports';
import { createPostgresDatabase } from '../support/postgres';
import { startApiProcess, startWorkerProcess, type ChildHandle } from '../support/processes';
import { TemporalCluster } from '../support/temporal-cluster';
import { testEnv } from '../support/test-env';
import { waitFor } from '../support/wait';

describe('cluster shape: Temporal server on Postgres, two workers, two API replicas', () => {
  const fake = new FakeAnthropic();
  let cluster: TemporalCluster;
  let db: { url: string; drop: () => Promise<void> };
  let env: Record<string, string>;
  const processes: ChildHandle[] = [];
  const dirs: string[] = [];
  const sockets: LiveClient[] = [];

  function dataDir(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-cluster-'));
    dirs.push(dir);
    return dir;
  }

  async function worker(): Promise<ChildHandle> {
    const w = await startWorkerProcess({ ...env, DATA_DIR: dataDir() }, { plain: true });
    processes.push(w);
    return w;
  }

  async function api(): Promise<{ url: string; process: ChildHandle }> {
    const port = await freePort();
    const p = await startApiProcess({ ...env, DATA_DIR: dataDir(), PORT: String(port) });
    processes.push(p);
    return { url: `http://127.0.0.1:${port}`, process: p };
  }

  async function call(base: string, method: string, route: string, body?: unknown): Promise<any> {
    const res = await fetch(`${base}${route}`, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
    const json = await res.json();
    if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  }

  async function waitForStatus(base: string, id: string, status: string, timeoutMs = 60_000): Promise<any> {
    let run: any;
    await waitFor(async () => (run = await call(base, 'GET', `/api/runs/${id}`)).status === status, { timeoutMs, what: () => `${id} to be ${status} (is ${run?.status})` });
    return run;
  }

  async function storedEvents(base: string, id: string): Promise<any[]> {
    return (await call(base, 'GET', `/api/runs/${id}/events?limit=1000`)).events;
  }

  /** Turns that each stream slowly and call a tool, so there is time to kill things mid-run. */
  function longScript(marker: string, turns: number): void {
    fake.script(marker, (req) =>
      req.assistantTurns < turns
        ? { text: `Turn ${req.assistantTurns}: working carefully through the next part. `.repeat(2), chunkChars: 5, delayMs: 25, toolUses: [{ name: 'workspace_list', input: {} }] }
        : { text: `Finished ${marker}.`, chunkChars: 5, delayMs: 10 },
    );
  }

  beforeAll(async () => {
    const t = testEnv();
    await fake.start();
    cluster = await TemporalCluster.start({ adminUrl: t.postgresUrl, temporalCli: t.temporalCli });
    db = await createPostgresDatabase(t.postgresUrl);
    env = {
      TEMPORAL_ADDRESS: cluster.address,
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: 'longhaul-cluster',
      DATABASE_URL: db.url,
      WORKFLOW_BUNDLE_PATH: t.workflowBundlePath,
      ANTHROPIC_API_KEY: fake.apiKey,
      ANTHROPIC_BASE_URL: fake.url,
      LLM_MODEL: 'claude-sonnet-5-5',
      WORKER_STICKY_TIMEOUT_SEC: '1',
      LOG_LEVEL: 'info',
    };
  });

  afterAll(async () => {
    for (const s of sockets) s.terminate();
    for (const p of processes) await p.kill('SIGKILL');
    await cluster?.stop();
    await db?.drop();
    await fake.stop();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  let a: { url: string; process: ChildHandle };
  let b: { url: string; process: ChildHandle };
  let w1: ChildHandle;

  it('completes a run started on one replica and read on the other', async () => {
    w1 = await worker();
    [a, b] = [await api(), await api()];
    longScript('[cluster-first]', 1);
    const { id } = await call(a.url, 'POST', '/api/runs', { goal: 'First run [cluster-first]', approvals: 'none' });
    const done = await waitForStatus(b.url, id, 'completed');
    expect(done.result).toBe('Finished [cluster-first].');
  });

  it('carries a run on when the worker running it is SIGKILLed', async () => {
    longScript('[cluster-worker-kill]', 4);
    const { id } = await call(a.url, 'POST', '/api/runs', { goal: 'Outlive a worker [cluster-worker-kill]', approvals: 'none' });
    // Only w1 polls: it is the worker running this run. A second worker joins, then w1 dies mid-run.
    await waitFor(async () => (await storedEvents(a.url, id)).some((e) => e.type === 'tool.completed'), { what: 'the first tool call on w1' });
    const w2 = await worker();
    await w1.kill('SIGKILL');
    await waitForStatus(a.url, id, 'completed', 90_000);
    const turns = (await storedEvents(a.url, id)).filter((e) => e.type === 'llm.message').map((e) => e.data.turn);
    expect(turns).toEqual([...new Set(turns)]); // each turn recorded once
    expect(w2.output()).toContain('worker polling');
  });

  it('lets a client streaming from a replica that is SIGKILLed resume on the other with no gap', async () => {
    longScript('[cluster-api-kill]', 3);
    const onA = await LiveClient.connect(wsUrl(a.url));
    sockets.push(onA);
    const { id } = await call(b.url, 'POST', '/api/runs', { goal: 'Outlive a replica [cluster-api-kill]', approvals: 'none' });
    onA.subscribe(id, 0);
    await onA.waitForMessage((m) => m.type === 'delta' && m.turn === 2 && m.offset > 20, 'turn 2 mid-stream on replica A', 60_000);
    await a.process.kill('SIGKILL');
    await onA.closed;
    const seen = onA.events(id);

    const onB = await LiveClient.connect(wsUrl(b.url));
    sockets.push(onB);
    onB.subscribe(id, onA.seq(id));
    await onB.waitForEvent(id, 'run.completed', 60_000);
    const stored = await storedEvents(b.url, id);
    expect([...seen, ...onB.events(id)]).toEqual(stored);
    expect(onB.violations).toEqual([]);
    a = await api(); // back to two replicas
  });

  it('delivers an approval decided on one replica to a run started on the other', async () => {
    fake.script('[cluster-approve]', (req) =>
      req.assistantTurns === 0 ? { toolUses: [{ name: 'workspace_write', input: { path: 'decided.md', content: 'approved across replicas' } }] } : { text: 'Wrote it after approval.' },
    );
    const { id } = await call(a.url, 'POST', '/api/runs', { goal: 'Needs a decision [cluster-approve]', approvals: 'write' });
    const waiting = await waitForStatus(a.url, id, 'waiting_approval');
    const approvalId = waiting.pendingApprovals[0].approvalId as string;
    await call(b.url, 'POST', `/api/runs/${id}/approvals/${approvalId}`, { decision: 'approve', comment: 'from replica B' });
    const done = await waitForStatus(a.url, id, 'completed');
    expect(done.result).toBe('Wrote it after approval.');
    expect((await call(a.url, 'GET', `/api/runs/${id}/workspace`)).files.map((f: { path: string }) => f.path)).toEqual(['decided.md']);
  });

  it('carries a run on through a SIGKILL and restart of the Temporal server', async () => {
    longScript('[cluster-server-kill]', 3);
    const { id } = await call(a.url, 'POST', '/api/runs', { goal: 'Outlive the server [cluster-server-kill]', approvals: 'none' });
    await waitFor(async () => (await storedEvents(a.url, id)).some((e) => e.type === 'tool.completed'), { what: 'the run to be under way' });
    await cluster.kill('SIGKILL');
    await cluster.startServer();
    const done = await waitForStatus(b.url, id, 'completed', 120_000);
    expect(done.result).toBe('Finished [cluster-server-kill].');
  });
});
