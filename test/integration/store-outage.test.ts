/**
 * The database goes away and comes back (issue 26's "faults", at the scale of one run): while Postgres cannot be
 * reached the API answers 503 `store_unavailable` with Retry-After — never a 500, never a half-done change — and
 * once it is back the API answers again and a run that was waiting for a human goes on to the end. The outage is a
 * proxy between Longhaul and the shared Postgres that the test cuts (port closed, every connection dropped) and
 * reopens on the same port, as a restarted server would be.
 */
import { CountingServer } from '../support/counting-server';
import { FakeAnthropic } from '../support/fake-anthropic';
import { createPostgresDatabase } from '../support/postgres';
import { startHarness, type Harness } from '../support/harness';
import { TcpProxy } from '../support/tcp-proxy';
import { testTools } from '../support/test-tools';
import { testEnv } from '../support/test-env';
import { waitFor } from '../support/wait';

describe('a database outage', () => {
  let h: Harness;
  let proxy: TcpProxy;
  let drop: () => Promise<void>;
  let proxiedUrl: (url?: string) => string;

  beforeAll(async () => {
    const db = await createPostgresDatabase(testEnv().postgresUrl);
    drop = db.drop;
    const direct = new URL(db.url);
    proxy = new TcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
    await proxy.open();
    proxiedUrl = (url = db.url) => {
      const proxied = new URL(url);
      proxied.hostname = '127.0.0.1';
      proxied.port = String(proxy.port);
      return proxied.toString();
    };
    h = await startHarness({ env: { DATABASE_URL: proxiedUrl() } });
  });
  afterAll(async () => {
    await h?.close();
    await proxy?.close();
    await drop?.();
  });

  it('answers 503 store_unavailable while the database is down, and the run waiting for a human goes on once it is back', async () => {
    const id = await h.createRun({ goal: 'outage [store]', model: 'demo', approvals: 'all' });
    const waiting = await h.waitForStatus(id, 'waiting_approval');
    const [approval] = waiting.pendingApprovals as { approvalId: string }[];

    await proxy.cut();
    for (const [method, path, body] of [
      ['GET', '/api/runs', undefined],
      ['GET', `/api/runs/${id}`, undefined],
      ['POST', '/api/runs', { goal: 'during the outage', model: 'demo' }],
      ['POST', `/api/runs/${id}/approvals/${approval!.approvalId}`, { decision: 'approve' }],
    ] as const) {
      const res = await h.request(method, path, { body });
      expect([method, path, res.status, res.body.error?.code, res.headers.get('retry-after')]).toEqual([method, path, 503, 'store_unavailable', '5']);
    }

    await proxy.open();
    await waitFor(async () => (await h.request('GET', '/api/runs')).status === 200, { what: 'the API to answer again' });
    // Nothing the outage refused was done: no run started, the approval still waits.
    expect((await h.request('GET', '/api/runs')).body.runs.map((r: { id: string }) => r.id)).toEqual([id]);
    expect((await h.getRun(id)).status).toBe('waiting_approval');

    // Approved now, the run goes on (approving whatever else the demo model asks) to the end.
    expect((await h.request('POST', `/api/runs/${id}/approvals/${approval!.approvalId}`, { body: { decision: 'approve' } })).status).toBe(200);
    await waitFor(
      async () => {
        const view = await h.getRun(id);
        for (const next of view.pendingApprovals as { approvalId: string }[]) await h.request('POST', `/api/runs/${id}/approvals/${next.approvalId}`, { body: { decision: 'approve' } });
        return view.status === 'completed';
      },
      { what: 'the run to complete', timeoutMs: 60_000 },
    );
  });

  it('keeps a tool call whose database goes away mid-call waiting, costing no attempt, and the run goes on once it is back', async () => {
    // One attempt per activity: without waiting inside it, the tool call's lost result write would end the run failed.
    const db = await createPostgresDatabase(testEnv().postgresUrl);
    const fake = new FakeAnthropic();
    const outside = new CountingServer();
    await fake.start();
    await outside.start();
    const patient = await startHarness({
      env: { DATABASE_URL: proxiedUrl(db.url), ANTHROPIC_API_KEY: fake.apiKey, ANTHROPIC_BASE_URL: fake.url, LLM_MODEL: 'claude-sonnet-5-5', ACTIVITY_MAX_ATTEMPTS: '1' },
      extraTools: testTools(),
    });
    try {
      fake.script('[outage-tool]', (req) => (req.assistantTurns === 0 ? { toolUses: [{ name: 'quick_effect', input: { url: outside.url } }] } : { text: 'Recorded it.' }));
      outside.hold(() => true);
      const id = await patient.createRun({ goal: 'record it [outage-tool]' });
      await waitFor(() => outside.requests.length === 1, { what: 'the tool to reach the outside system' });

      // The tool's effect is taken while the database is away; what the call writes next (its workspace, its
      // result) cannot be. The outage lasts three seconds: far longer than one attempt takes to fail.
      await proxy.cut();
      outside.release();
      await new Promise((resolve) => setTimeout(resolve, 3000));
      await proxy.open();

      const run = await patient.waitForStatus(id, ['completed', 'failed'], { timeoutMs: 60_000 });
      expect(run.status).toBe('completed');
      expect(outside.applied).toHaveLength(1);
      const tools = (await patient.events(id)).filter((e) => e.type === 'tool.completed' || e.type === 'tool.failed');
      expect(tools.map((e) => e.type)).toEqual(['tool.completed']);
    } finally {
      await patient.close();
      await outside.stop();
      await fake.stop();
      await db.drop();
    }
  });
});
