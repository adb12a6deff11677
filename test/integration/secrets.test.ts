/**
 * Secrets never reach logs, answers, metrics or spans. Real API and worker processes start with
 * every secret set to a distinctive marker — Temporal gRPC metadata (from a profile), the OTLP
 * endpoint's userinfo, a webhook URL's path and query tokens and the webhook secret, the Anthropic key and a
 * base URL with credentials, API tokens, Slack's token, signing secret and API URL — and a run fails
 * a fetch to that credentialed base URL. Three more processes start and fail: one with a Temporal
 * profile holding an API key and an inline private key, a DATABASE_URL with `?password=` and a
 * password with a quote, an OTLP endpoint with a double quote in its password; one with a webhook
 * URL with `user:password@`, one with a Temporal UI URL with `user:password@` and MCP_SERVERS that
 * is not JSON (both refused at start). Then everything they wrote, every
 * answer fetched, both /metrics and every exported span are searched for every marker.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FakeAnthropic } from '../support/fake-anthropic';
import { startHarness, type Harness } from '../support/harness';
import { listenLocally, type LocalServer } from '../support/http-server';
import { OtlpReceiver } from '../support/otlp-receiver';
import { freePort } from '../support/ports';
import { startApiProcess, startWorkerProcess, type ChildHandle } from '../support/processes';
import { testEnv } from '../support/test-env';
import { waitFor } from '../support/wait';

const ROOT = path.join(__dirname, '..', '..');
const MARKER = /SECRET-MARKER-[A-Za-z0-9-]*/g;
const TOKEN = 'SECRET-MARKER-api-token-0001';
/** Numbers written where bytes were (`[83,69,…]`, or a Uint8Array as JSON: `{"0":83,"1":69,…}`), read back as text. */
function asBytes(text: string): string {
  const read = (re: RegExp) => [...text.matchAll(re)].map((m) => Number(m[1])).filter((n) => n < 256).map((n) => String.fromCharCode(n)).join('');
  return `${read(/":(\d{1,3})(?=[,}])/g)}\n${read(/[[,](\d{1,3})(?=[,\]])/g)}`;
}
const markersIn = (text: string) => [...new Set([...(text.match(MARKER) ?? []), ...(asBytes(text).match(MARKER) ?? []).map((m) => `${m} (as bytes)`)])];

/** A process expected to fail at start: all it wrote, once it exited. */
async function failedStart(entry: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, entry)], { cwd: ROOT, env: { ...process.env, ...env, LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  return { code, output };
}

describe('secrets in configuration', () => {
  const fake = new FakeAnthropic();
  const otlp = new OtlpReceiver();
  let h: Harness;
  let hooks: LocalServer;
  let hookCalls = 0;
  let dir: string;
  const children: ChildHandle[] = [];
  /** Every answer the test read, to be searched with the rest. */
  const answers: string[] = [];

  beforeAll(async () => {
    await fake.start();
    await otlp.start();
    hooks = await listenLocally((_req, res) => {
      hookCalls += 1;
      res.writeHead(204).end();
    });
    h = await startHarness({ noWorker: true });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-secrets-'));
  });
  afterAll(async () => {
    for (const c of children) await c.kill('SIGKILL');
    await h.close();
    await hooks.stop();
    await otlp.stop();
    await fake.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('never writes one: not at start, not in logs, answers, metrics or spans, not when a fetch to a credentialed URL fails', async () => {
    const profile = path.join(dir, 'temporal.toml');
    const t = testEnv();
    fs.writeFileSync(
      profile,
      [
        '[profile.local]',
        `address = "${t.temporalAddress}"`,
        `namespace = "${h.config.temporal.namespace}"`,
        '[profile.local.grpc_meta]',
        'authorization = "Bearer SECRET-MARKER-grpc-meta-authorization"',
        '[profile.cloud]',
        'address = "127.0.0.1:1"',
        'api_key = "SECRET-MARKER-temporal-profile-api-key"',
        '[profile.cloud.tls]',
        'client_cert_data = "CERT"',
        'client_key_data = """',
        '-----BEGIN PRIVATE KEY-----',
        'SECRET-MARKER-inline-private-key-0123456789abcdef',
        '-----END PRIVATE KEY-----',
        '"""',
      ].join('\n'),
    );
    const fakePort = new URL(fake.url).port;
    const apiPort = await freePort();
    const metricsPort = await freePort();
    const env: Record<string, string> = {
      ...h.env,
      TEMPORAL_ADDRESS: '',
      TEMPORAL_PROFILE: 'local',
      TEMPORAL_CONFIG_FILE: profile,
      ANTHROPIC_API_KEY: 'SECRET-MARKER-anthropic-api-key',
      ANTHROPIC_BASE_URL: `http://proxyuser:SECRET-MARKER-anthropic-base-url@127.0.0.1:${fakePort}`,
      LLM_MODEL: 'claude-sonnet-5-5',
      ACTIVITY_MAX_ATTEMPTS: '2',
      API_TOKENS: `${TOKEN}:alice`,
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://otel:SECRET-MARKER-otlp-userinfo@127.0.0.1:${new URL(otlp.url).port}`,
      OTEL_BSP_SCHEDULE_DELAY: '200',
      // A path token, as Slack, Teams and Discord webhooks carry: the operator's, not the run owner's.
      WEBHOOK_URLS: `${hooks.url}/hook/SECRET-MARKER-webhook-path-token?token=SECRET-MARKER-webhook-query-token`,
      WEBHOOK_ALLOWED_HOSTS: `127.0.0.1:${hooks.port}`,
      WEBHOOK_SECRET: `whsec_${Buffer.from('SECRET-MARKER-webhook-signing!').toString('base64')}`,
      SLACK_BOT_TOKEN: 'xoxb-SECRET-MARKER-slack-bot-token',
      SLACK_SIGNING_SECRET: 'SECRET-MARKER-slack-signing-secret',
      SLACK_CHANNEL: 'C1',
      SLACK_API_URL: 'http://slack:SECRET-MARKER-slack-api-url@127.0.0.1:9/api/',
      LOG_FORMAT: 'json',
    };
    const worker = await startWorkerProcess({ ...env, METRICS_PROMETHEUS_ADDRESS: `127.0.0.1:${metricsPort}` }, { plain: true });
    children.push(worker);
    const api = await startApiProcess({ ...env, PORT: String(apiPort) });
    children.push(api);
    const base = `http://127.0.0.1:${apiPort}`;
    const get = async (url: string) => {
      const res = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
      const text = await res.text();
      answers.push(`${url} ${res.status} ${JSON.stringify(Object.fromEntries(res.headers))} ${text}`);
      return { status: res.status, text };
    };

    // The model's base URL has credentials in it: fetch refuses it, and the run fails on that.
    const created = await fetch(`${base}/api/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ goal: 'Call the model through a proxy', approvals: 'none' }),
    });
    const createdText = await created.text();
    answers.push(createdText);
    const { id } = JSON.parse(createdText) as { id: string };
    await waitFor(async () => JSON.parse((await get(`${base}/api/runs/${id}`)).text).status === 'failed', { timeoutMs: 90_000, what: 'the run to fail' });
    await waitFor(async () => hookCalls > 0 && /"status":"delivered"/.test((await get(`${base}/api/runs/${id}/deliveries`)).text), { what: 'the run.failed webhook to be delivered' });
    const deliveries = await get(`${base}/api/runs/${id}/deliveries`);
    expect(deliveries.text).toContain(`"url":"${hooks.url}/***"`);
    const run = JSON.parse((await get(`${base}/api/runs/${id}`)).text) as { error: { message: string } };
    expect(run.error.message).toMatch(/model connection/);
    for (const url of [`${base}/api/runs`, `${base}/api/runs/${id}/events`, `${base}/api/capacity`, `${base}/api/usage`, `${base}/healthz`, `${base}/readyz`, `${base}/metrics`, `http://127.0.0.1:${metricsPort}/metrics`]) {
      expect([url, (await get(url)).status]).toEqual([url, 200]);
    }
    // Spans of both processes, a failed one among them; the processes stop cleanly, exporting what they still held.
    await waitFor(() => new Set(otlp.spans.map((s) => s.service)).size >= 2, { what: 'spans from the API and the worker' });
    await api.kill('SIGTERM');
    await worker.kill('SIGTERM');
    expect(otlp.bodies.join('\n')).toMatch(/"code":2/); // STATUS_CODE_ERROR: the failed model call

    // Starts that fail: a Temporal profile with an API key and an inline private key, database passwords in the query and
    // in the userinfo (with a quote, which ends a URL in a text), an OTLP password with a double quote…
    const tls = await failedStart('worker/main.ts', {
      ...env,
      TEMPORAL_PROFILE: 'cloud',
      DATABASE_URL: "postgres://longhaul:it's-SECRET-MARKER-database-userinfo@127.0.0.1:1/x?password=SECRET-MARKER-database-password",
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:dq"SECRET-MARKER-otlp-quoted@127.0.0.1:1',
    });
    expect(tls.code).not.toBe(0);
    expect(tls.output).toContain('starting worker');
    // …and a webhook URL with user:password@, refused at once with a clear message.
    const userinfo = await failedStart('api/main.ts', { ...env, WEBHOOK_URLS: `http://hook:SECRET-MARKER-webhook-userinfo@127.0.0.1:${hooks.port}/in` });
    expect(userinfo.code).toBe(1);
    expect(userinfo.output).toContain(`WEBHOOK_URLS: http://127.0.0.1:${hooks.port}/***: has user:password@ in it`);
    // …a Temporal UI link with credentials (every run owner would get them), refused; an MCP_SERVERS JSON error, said by position.
    const refused = await failedStart('api/main.ts', {
      ...env,
      TEMPORAL_UI_URL: 'https://ops:SECRET-MARKER-temporal-ui@temporal-ui.corp.example',
      MCP_SERVERS: '{"crm":{"url":"https://crm.example/mcp","headers":{"authorization":"Bearer SECRET-MARKER-mcp-header"} oops}}',
    });
    expect(refused.code).toBe(1);
    expect(refused.output).toContain('TEMPORAL_UI_URL: has user:password@ in it');
    expect(refused.output).toMatch(/MCP_SERVERS: .*not valid JSON/);

    const everything = {
      'worker output': worker.output(),
      'API output': api.output(),
      'failed start (profile)': tls.output,
      'failed start (webhook userinfo)': userinfo.output,
      'failed start (Temporal UI userinfo, MCP_SERVERS)': refused.output,
      answers: answers.join('\n'),
      'exported spans': otlp.bodies.join('\n'),
    };
    expect(worker.output()).toContain('"msg":"starting worker"');
    expect(api.output()).toContain('"msg":"starting API"');
    expect(Object.fromEntries(Object.entries(everything).map(([where, text]) => [where, markersIn(text)]))).toEqual(Object.fromEntries(Object.keys(everything).map((where) => [where, []])));
  });
});
