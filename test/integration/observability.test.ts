/**
 * What operators see: a worker's Prometheus endpoint carries model calls (latency, time to first
 * token, tokens and cost by model), tool calls (duration and failures by tool) and step durations
 * next to the SDK's own metrics; the API's /metrics carries request durations by route, approvals
 * waiting and their age, and the process's own; every request has an id, echoed and logged.
 */
import { FakeAnthropic } from '../support/fake-anthropic';
import { startHarness, type Harness } from '../support/harness';
import { freePort } from '../support/ports';
import { startApiProcess, startWorkerProcess, type ChildHandle } from '../support/processes';
import { waitFor } from '../support/wait';

const MODEL = 'claude-sonnet-5-5';

describe('metrics and request logs', () => {
  const fake = new FakeAnthropic();
  let h: Harness;
  const children: ChildHandle[] = [];
  let workerMetricsUrl: string;

  beforeAll(async () => {
    await fake.start();
    // On Postgres, so the worker's waits for its pooled connections are measured too.
    h = await startHarness({ noWorker: true, database: 'postgres', bus: 'database', env: { ANTHROPIC_API_KEY: fake.apiKey, ANTHROPIC_BASE_URL: fake.url, LLM_MODEL: MODEL } });
    const port = await freePort();
    workerMetricsUrl = `http://127.0.0.1:${port}/metrics`;
    // A rate limit for a model no run here uses: its throttling counters must exist at 0 all the same.
    const limits = JSON.stringify({ 'claude-haiku-4-5': { rpm: 1000 } });
    children.push(await startWorkerProcess({ ...h.env, METRICS_PROMETHEUS_ADDRESS: `127.0.0.1:${port}`, MODEL_RATE_LIMITS: limits }, { plain: true }));
  });
  afterAll(async () => {
    for (const c of children) await c.kill('SIGKILL');
    await h.close();
    await fake.stop();
  });

  it('has the series alerts watch at 0 before anything happened, and counters typed as counters', async () => {
    let text = '';
    await waitFor(async () => /^longhaul_/m.test((text = await (await fetch(workerMetricsUrl)).text())), { what: "the worker's metrics" });
    expect(text).toMatch(/^longhaul_model_rate_limited_total\{model="claude-sonnet-5-5"\} 0$/m);
    for (const limit of ['rpm', 'input_tpm', 'output_tpm']) {
      expect(text).toMatch(new RegExp(`^longhaul_model_throttled_total\\{(?=[^}]*model="claude-haiku-4-5")(?=[^}]*limit="${limit}")[^}]*\\} 0$`, 'm'));
    }
    expect(text).toMatch(/^longhaul_stalled_runs_flagged 0$/m);
    expect(text).toMatch(/^longhaul_schedule_firings_skipped_total\{reason="queue_full"\} 0$/m);
    const api = (await h.request('GET', '/metrics')).body as string;
    expect(api).toMatch(/^# TYPE longhaul_live_slow_consumer_closes_total counter$/m);
    expect(api).toMatch(/^longhaul_live_slow_consumer_closes_total 0$/m);
    expect(api).not.toMatch(/longhaul_workspace_restore_seconds/); // restore time is the workers' histogram
  });

  it("exports the worker's model, tool and step measurements with the SDK's metrics", async () => {
    fake.script('[obs-worker]', (req) =>
      req.assistantTurns === 0
        ? { text: 'Writing notes, then calling a host I may not.', chunkChars: 8, delayMs: 5, toolUses: [{ name: 'workspace_write', input: { path: 'n.md', content: 'x' } }, { name: 'http_request', input: { method: 'GET', url: 'http://not-allowed.invalid/' } }] }
        : { text: 'Done.', chunkChars: 8, delayMs: 5 },
    );
    const id = await h.createRun({ goal: 'Measure me [obs-worker]', approvals: 'none' });
    await h.waitForStatus(id, 'completed');
    let text = '';
    const has = (re: RegExp) => re.test(text);
    await waitFor(
      async () => {
        text = await (await fetch(workerMetricsUrl)).text();
        return has(/^longhaul_step_duration\w*_count\{[^}]*model="claude-sonnet-5-5"[^}]*\} [1-9]/m);
      },
      { what: () => `the step histogram in the worker's metrics:\n${text.split('\n').filter((l) => l.startsWith('longhaul_')).join('\n')}` },
    );
    expect(has(/^longhaul_model_call_duration\w*_count\{[^}]*model="claude-sonnet-5-5"[^}]*\} 2$/m)).toBe(true);
    expect(has(/^longhaul_model_time_to_first_token\w*_count\{[^}]*model="claude-sonnet-5-5"[^}]*\} 2$/m)).toBe(true);
    expect(has(/^longhaul_model_tokens\w*\{[^}]*kind="input"[^}]*\} [1-9]/m)).toBe(true);
    expect(has(/^longhaul_model_tokens\w*\{[^}]*kind="output"[^}]*\} [1-9]/m)).toBe(true);
    expect(has(/^longhaul_model_cost_microdollars\w*\{[^}]*model="claude-sonnet-5-5"[^}]*\} [1-9]/m)).toBe(true);
    expect(has(/^longhaul_tool_duration\w*_count\{[^}]*outcome="ok"[^}]*tool="workspace_write"[^}]*\} 1$/m) || has(/^longhaul_tool_duration\w*_count\{[^}]*tool="workspace_write"[^}]*outcome="ok"[^}]*\} 1$/m)).toBe(true);
    expect(has(/^longhaul_tool_failures\w*\{[^}]*tool="http_request"[^}]*\} 1$/m)).toBe(true);
    expect(has(/^longhaul_db_connection_wait\w*_count(\{[^}]*\})? [1-9]/m)).toBe(true);
    expect(has(/^temporal_/m)).toBe(true); // the SDK's own, at the same address
  });

  it('has the API report request durations by route, what waits and for how long, with an id on every request', async () => {
    const port = await freePort();
    const api = await startApiProcess({ ...h.env, PORT: String(port) });
    children.push(api);
    const base = `http://127.0.0.1:${port}`;
    fake.script('[obs-wait]', (req) => (req.assistantTurns === 0 ? { toolUses: [{ name: 'workspace_write', input: { path: 'w.md', content: 'y' } }] } : { text: 'ok' }));
    const created = await fetch(`${base}/api/runs`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'req-from-the-caller-1' }, body: JSON.stringify({ goal: 'Wait for me [obs-wait]', approvals: 'write' }) });
    expect(created.headers.get('x-request-id')).toBe('req-from-the-caller-1');
    const { id } = (await created.json()) as { id: string };
    const waiting = await h.waitForStatus(id, 'waiting_approval');
    const own = await fetch(`${base}/api/runs/${id}`, { headers: { 'x-request-id': 'not a sane id; <script>' } });
    expect(own.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/); // a fresh id instead

    let text = '';
    await waitFor(async () => /^longhaul_approvals_oldest_wait_seconds [1-9]/m.test((text = await (await fetch(`${base}/metrics`)).text())), {
      what: () => `the oldest approval's age: ${text.split('\n').filter((l) => l.startsWith('longhaul_approvals')).join(' | ')}`,
    });
    expect(text).toMatch(/^longhaul_approvals_waiting [1-9]/m);
    expect(text).toMatch(/^longhaul_http_request_duration_seconds_count\{method="GET",route="\/api\/runs\/:id",status="200"\} [1-9]/m);
    expect(text).toMatch(/^longhaul_http_request_duration_seconds_count\{method="POST",route="\/api\/runs\/",status="202"\} 1$/m);
    expect(text).toMatch(/^longhaul_runs\{status="waiting_approval"\} [1-9]/m);
    expect(text).toMatch(/^longhaul_api_process_cpu_seconds_total /m);

    const logged = api.output().split('\n').filter((l) => l.includes('"req-from-the-caller-1"'));
    expect(logged.length).toBeGreaterThan(0);
    expect(JSON.parse(logged[0]!)).toMatchObject({ req: { id: 'req-from-the-caller-1', method: 'POST', path: '/api/runs' }, res: { status: 202 } });
    expect(api.output()).not.toMatch(/authorization|x-api-key/i);

    await h.request('POST', `/api/runs/${id}/approvals/${waiting.pendingApprovals[0].approvalId}`, { body: { decision: 'approve' } });
    await h.waitForStatus(id, 'completed');
  });
});
