/**
 * Holes an attacker's pass found, each closed: in open mode (no API_TOKENS) a page on another host
 * name cannot drive the local API (DNS rebinding); malformed percent-escapes, corrupt gzip/br
 * bodies (on the API and on Slack's route) and absurdly nested metadata are clear 400s, never 500s;
 * SSE refuses a repeated `after` like every other route; concurrent creates on Postgres cannot
 * all slip under the per-user queue cap.
 */
import http from 'node:http';
import WebSocket from 'ws';
import { LOCAL_USER } from '../../api/auth';
import { FakeSlack } from '../support/fake-slack';
import { startHarness, type Harness } from '../support/harness';

/** A request with a Host header of our choosing (fetch will not send a forged Host). */
function rawRequest(url: string, opts: { method?: string; path: string; host?: string; headers?: Record<string, string>; body?: Buffer | string }): Promise<{ status: number; body: any }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ hostname, port, method: opts.method ?? 'GET', path: opts.path, headers: { ...(opts.host && { host: opts.host }), ...opts.headers } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('API hardening', () => {
  const slack = new FakeSlack();
  let h: Harness;

  beforeAll(async () => {
    await slack.start();
    h = await startHarness({
      noWorker: true,
      env: {
        PUBLIC_URL: 'http://longhaul.test:3000',
        SLACK_BOT_TOKEN: 'xoxb-test',
        SLACK_SIGNING_SECRET: 'hardening-secret',
        SLACK_CHANNEL: 'C1',
        SLACK_API_URL: slack.url,
      },
    });
  });
  afterAll(async () => {
    await h.close();
    await slack.stop();
  });

  it('answers only loopback host names (and PUBLIC_URL’s) when open, on HTTP and WebSocket', async () => {
    for (const host of ['evil.example', 'evil.example:3000', '192.168.1.20', 'localhost.evil.example']) {
      const res = await rawRequest(h.api.url, { path: '/api/runs', host });
      expect([host, res.status, res.body.error.code]).toEqual([host, 403, 'host_not_allowed']);
    }
    expect((await rawRequest(h.api.url, { path: '/healthz', host: 'evil.example' })).status).toBe(403);
    for (const host of ['localhost:3000', '127.0.0.1', '[::1]:3000', 'longhaul.test:3000', 'app.localhost']) {
      expect([host, (await rawRequest(h.api.url, { path: '/api/runs', host })).status]).toEqual([host, 200]);
    }
    const refused = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${h.api.url.replace('http', 'ws')}/ws`, { headers: { host: 'evil.example' } });
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('error', () => undefined);
    });
    expect(refused).toBe(403);
  });

  it.each([
    ['a malformed escape in a run id', 'GET', '/api/runs/%ZZ'],
    ['a malformed escape in its events', 'GET', '/api/runs/%E0%A4%A/events'],
    ['a malformed escape in an approval id', 'POST', '/api/runs/run_x/approvals/%ZZ'],
    ['a malformed escape on the stream', 'GET', '/api/runs/%ZZ/stream'],
  ])('answers 400 to %s', async (_name, method, path) => {
    const res = await rawRequest(h.api.url, { method, path, headers: { 'content-type': 'application/json' }, body: method === 'POST' ? '{"decision":"approve"}' : undefined });
    expect([res.status, res.body.error.code]).toEqual([400, 'invalid_request']);
  });

  it.each([
    ['gzip', '/api/runs', 'application/json'],
    ['br', '/api/runs', 'application/json'],
    ['deflate', '/api/runs', 'application/json'],
    ['gzip', '/slack/interactions', 'application/x-www-form-urlencoded'],
    ['br', '/slack/interactions', 'application/x-www-form-urlencoded'],
  ])('answers 400 to a corrupt %s body on %s', async (encoding, path, type) => {
    const res = await rawRequest(h.api.url, { method: 'POST', path, headers: { 'content-type': type, 'content-encoding': encoding }, body: Buffer.from('this is not compressed data at all') });
    expect([res.status, res.body.error.code]).toEqual([400, 'invalid_request']);
    expect(res.body.error.message).toMatch(/decompressed/);
  });

  it('answers 400 to metadata nested 5,000 deep', async () => {
    const deep = `${'{"a":'.repeat(5000)}{}${'}'.repeat(5000)}`;
    const res = await h.request('POST', '/api/runs', { rawBody: `{"goal":"x","model":"demo","metadata":${deep}}`, headers: { 'content-type': 'application/json' } });
    expect([res.status, res.body.error.code]).toEqual([400, 'invalid_request']);
    expect(res.body.error.message).toMatch(/nest at most 32 levels/);
    const shallow = await h.request('POST', '/api/runs', { body: { goal: 'x', model: 'demo', approvals: 'none', metadata: { a: { b: { c: 1 } } } } });
    expect(shallow.status).toBe(202);
  });

  it('refuses a repeated `after` on the stream, like every other route', async () => {
    const { body } = await h.request('POST', '/api/runs', { body: { goal: 'x', model: 'demo' } });
    const res = await rawRequest(h.api.url, { path: `/api/runs/${body.id}/stream?after=1&after=2` });
    expect([res.status, res.body.error.code]).toEqual([400, 'invalid_query']);
  });
});

describe('the per-user queue cap under concurrent requests', () => {
  let h: Harness;

  beforeAll(async () => {
    // No worker: every accepted run stays queued, so each one counts against the cap.
    h = await startHarness({ noWorker: true, database: 'postgres', env: { MAX_QUEUED_RUNS_PER_USER: '3' } });
  });
  afterAll(async () => {
    await h.close();
  });

  it('accepts exactly the cap out of 40 parallel creates on Postgres, and refuses the rest with queue_full', async () => {
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => h.request('POST', '/api/runs', { body: { goal: `parallel ${i}`, model: 'demo' } })));
    expect(answers.map((a) => a.status).sort()).toEqual([...Array(3).fill(202), ...Array(37).fill(429)]);
    const refused = answers.filter((a) => a.status !== 202);
    expect(new Set(refused.map((a) => a.body.error.code))).toEqual(new Set(['queue_full']));
    expect(refused[0]!.body.error.message).toBe('you already have 3 runs waiting to start (the limit is 3); try again when some have started');
    expect(await h.store.runs.countQueued(LOCAL_USER)).toBe(3);
  });
});
