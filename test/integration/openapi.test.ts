/**
 * The OpenAPI document: served at /api/openapi.json, valid OpenAPI 3.1 by a real validator, and
 * true — every route is called for real here (successes and the errors this setup can provoke) and
 * each answer is checked against the document: a status it does not list, or a body that does not
 * match its schema, fails the test. At the end every route must have shown its success answer.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import WebSocket from 'ws';
import { ROUTES } from '../../contract/routes';
import { slackSignature } from '../../shared/slack/verify-signature';
import { FakeAnthropic } from '../support/fake-anthropic';
import { FakeSlack } from '../support/fake-slack';
import { INVOICE_CHECKER } from '../support/agent-data';
import { startHarness, type Harness } from '../support/harness';
import { OpenApiChecker } from '../support/openapi-checker';
import { signInWithoutBrowser, TEST_CLIENT_SECRET, TestOidcProvider } from '../support/oidc-test-provider';
import { freePort } from '../support/ports';
import { waitFor } from '../support/wait';

const ALICE = 'alice-token-0123456789';
const BOB = 'bob-token-0123456789ab';
const SIGNING_SECRET = 'openapi-signing-secret';

describe('OpenAPI document', () => {
  const fake = new FakeAnthropic();
  const slack = new FakeSlack();
  let h: Harness;
  let checker: OpenApiChecker;

  beforeAll(async () => {
    await fake.start();
    await slack.start();
    h = await startHarness({
      env: {
        API_TOKENS: `${ALICE}:alice,${BOB}:bob`,
        TEAM_ROLES: 'bob:payments:admin',
        MAX_GOAL_CHARS: '1000',
        ANTHROPIC_API_KEY: fake.apiKey,
        ANTHROPIC_BASE_URL: fake.url,
        LLM_MODEL: 'claude-sonnet-5-5',
        SLACK_BOT_TOKEN: 'xoxb-test',
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_CHANNEL: 'C_APPROVALS',
        SLACK_USERS: 'U_ALICE:alice',
        SLACK_API_URL: slack.url,
      },
    });
    h.defaultToken = ALICE;
  });
  afterAll(async () => {
    await h.close();
    await fake.stop();
    await slack.stop();
  });

  /** Calls the API and checks the answer against the document. */
  async function call(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, opts: { body?: unknown; rawBody?: string; token?: string; headers?: Record<string, string> } = {}) {
    const res = await h.request(method, path, opts);
    checker.check(method, path, res.status, res.headers.get('content-type'), res.body);
    return res;
  }

  it('is served without a token and is valid OpenAPI 3.1', async () => {
    const res = await h.request('GET', '/api/openapi.json', { token: '' });
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    const validated = spawnSync(process.execPath, [path.join(__dirname, '..', 'support', 'validate-openapi.mjs')], { input: JSON.stringify(res.body), encoding: 'utf8' });
    const result = JSON.parse(validated.stdout) as { valid: boolean; version: string; errors: unknown[] };
    expect(result.errors).toEqual([]);
    expect(result).toMatchObject({ valid: true, version: '3.1' });
    checker = new OpenApiChecker(res.body);
    checker.check('GET', '/api/openapi.json', res.status, res.headers.get('content-type'), res.body);
    // Every route of the contract is in it, with its operation id.
    const ids = Object.values(res.body.paths as Record<string, Record<string, { operationId: string }>>).flatMap((item) => Object.values(item).map((op) => op.operationId));
    expect(ids.sort()).toEqual(Object.keys(ROUTES).sort());
  });

  it('describes every answer of the run routes truthfully', async () => {
    fake.script('[openapi-ask]', (req) =>
      req.assistantTurns === 0 ? { toolUses: [{ name: 'ask_user', input: { question: 'Which colour?' } }] } : { text: `Colour: ${req.lastToolResults[0]?.content}` },
    );
    fake.script('[openapi-write]', (req) =>
      req.assistantTurns === 0 ? { toolUses: [{ name: 'workspace_write', input: { path: 'a.txt', content: 'hello' } }] } : { text: 'written' },
    );

    const created = await call('POST', '/api/runs', { body: { goal: 'ask a question [openapi-ask]', approvals: 'none' }, headers: { 'Idempotency-Key': 'openapi-1' } });
    expect(created.status).toBe(202);
    const asking = created.body.id as string;
    await call('POST', '/api/runs', { body: { goal: 'something else', approvals: 'none' }, headers: { 'Idempotency-Key': 'openapi-1' } }).then((r) => expect(r.status).toBe(409));
    await call('POST', '/api/runs', { body: { goal: '' } }).then((r) => expect(r.status).toBe(400));
    await call('POST', '/api/runs', { body: { goal: 'x' }, token: '' }).then((r) => expect(r.status).toBe(401));
    await call('POST', '/api/runs', { body: { goal: 'x'.repeat(1001) } }).then((r) => expect(r.status).toBe(413));
    await call('POST', '/api/runs', { rawBody: '{"goal":"x"}', headers: { 'content-type': 'text/plain' } }).then((r) => expect(r.status).toBe(415));

    const waiting = await h.waitForStatus(asking, 'waiting_input');
    expect(waiting.pendingInput.question).toBe('Which colour?');
    await call('GET', '/api/inbox').then((r) =>
      expect(r.body.items).toContainEqual(expect.objectContaining({ kind: 'question', runId: asking, id: waiting.pendingInput.requestId, question: 'Which colour?', goal: 'ask a question [openapi-ask]' })),
    );
    await call('GET', '/api/inbox', { token: BOB }).then((r) => expect(r.body.items).toEqual([]));
    await call('GET', '/api/inbox', { token: '' }).then((r) => expect(r.status).toBe(401));
    await call('GET', '/api/inbox?limit=1').then((r) => expect([r.body.items.length, r.body.total, typeof r.body.nextCursor]).toEqual([1, expect.any(Number), r.body.total > 1 ? 'string' : 'object']));
    await call('GET', '/api/inbox?cursor=nonsense').then((r) => expect([r.status, r.body.error.code]).toEqual([400, 'invalid_query']));
    await call('GET', '/api/inbox?limit=201').then((r) => expect(r.status).toBe(400));
    await call('GET', `/api/runs/${asking}`).then((r) => expect(r.status).toBe(200));
    await call('POST', `/api/runs/${asking}/input`, { body: { text: '' } }).then((r) => expect(r.status).toBe(400));
    await call('POST', `/api/runs/${asking}/input`, { body: { text: 'x'.repeat(1001) } }).then((r) => expect(r.status).toBe(413));
    await call('POST', `/api/runs/${asking}/input`, { body: { text: 'teal' }, token: BOB }).then((r) => expect(r.status).toBe(404));
    await call('POST', `/api/runs/${asking}/input`, { body: { text: 'teal' } }).then((r) => expect(r.status).toBe(200));
    await h.waitForStatus(asking, 'completed');
    await call('GET', `/api/runs/${asking}`).then((r) => expect(r.body.result).toBe('Colour: teal'));
    await call('POST', `/api/runs/${asking}/input`, { body: { text: 'again' } }).then((r) => expect(r.status).toBe(409));
    await call('GET', `/api/runs/${asking}/events?after=2&limit=3`).then((r) => expect(r.body.events.map((e: { seq: number }) => e.seq)).toEqual([3, 4, 5]));
    await call('GET', `/api/runs/${asking}/events`).then((r) => expect(r.status).toBe(200));
    await call('GET', `/api/runs/${asking}/deliveries`).then((r) => expect(r.body).toEqual({ deliveries: [] }));
    await call('GET', `/api/runs/${asking}/children`).then((r) => expect(r.body).toEqual({ children: [] }));
    await call('GET', `/api/runs/${asking}/children`, { token: BOB }).then((r) => expect(r.status).toBe(404));
    await call('GET', `/api/runs/${asking}/deliveries`, { token: BOB }).then((r) => expect(r.status).toBe(404));
    await call('GET', `/api/runs/${asking}/events?after=-1`).then((r) => expect(r.status).toBe(400));
    // A run's workspace (the demo model writes plan.md): the listing, one file, a release refused while live and done after.
    const planner = await h.createRun({ goal: 'plan [openapi-planner]', model: 'demo', approvals: 'none' });
    await h.waitForStatus(planner, 'completed');
    await call('GET', `/api/runs/${planner}/workspace`).then((r) => expect(r.body.files.map((f: { path: string }) => f.path)).toEqual(['plan.md']));
    await call('GET', `/api/runs/${planner}/workspace/files/plan.md`).then((r) => expect(r.status).toBe(200));
    await call('GET', `/api/runs/${planner}/workspace/files/none.md`).then((r) => expect(r.status).toBe(404));
    await call('GET', `/api/runs/${planner}/workspace`, { token: BOB }).then((r) => expect(r.status).toBe(404));
    await call('POST', `/api/runs/${planner}/workspace/release`).then((r) => expect(r.body.state).toBe('released'));

    // Capacity and spend: the books (empty without limits) and the caller's spend; bad days and others' spend refused.
    await call('GET', '/api/capacity').then((r) => expect(r.status).toBe(200));
    await call('GET', '/api/usage').then((r) => expect(r.body.days.length).toBeGreaterThan(0));
    await call('GET', '/api/usage?from=2026-02-30').then((r) => expect(r.status).toBe(400));
    await call('GET', '/api/usage?from=2026-11-22&to=2026-11-01').then((r) => expect(r.status).toBe(400));
    await call('GET', '/api/usage?user=bob').then((r) => expect(r.status).toBe(403));
    await call('POST', `/api/runs/${asking}/cancel`).then((r) => expect(r.status).toBe(409));
    await call('GET', '/api/runs/run_nope').then((r) => expect(r.status).toBe(404));
    await call('GET', '/api/runs?limit=2&status=completed').then((r) => expect(r.status).toBe(200));
    await call('GET', '/api/runs?limit=zero').then((r) => expect(r.status).toBe(400));
    await call('GET', '/api/runs?q=A%20QUESTION').then((r) => expect(r.body.runs.map((x: { id: string }) => x.id)).toEqual([asking]));
    await call('GET', '/api/runs?q=100%25_done').then((r) => expect(r.body.runs).toEqual([]));
    await call('GET', `/api/runs?q=${'x'.repeat(201)}`).then((r) => expect(r.status).toBe(400));

    // A run that waits for approval: pause, resume, decide, conflict, cancel.
    const writing = (await call('POST', '/api/runs', { body: { goal: 'write a file [openapi-write]', approvals: 'write' } })).body.id as string;
    const pending = await h.waitForStatus(writing, 'waiting_approval');
    const approvalId = pending.pendingApprovals[0].approvalId as string;
    await call('GET', '/api/approvals').then((r) => expect(r.body.approvals.map((a: { approvalId: string }) => a.approvalId)).toContain(approvalId));
    await call('GET', '/api/approvals?status=decided').then((r) => expect(r.status).toBe(400));
    await call('GET', `/api/approvals/${approvalId}`).then((r) => expect(r.body).toMatchObject({ approvalId, runId: writing, tool: 'workspace_write', input: { path: 'a.txt', content: 'hello' } }));
    await call('GET', `/api/approvals/${approvalId}`, { token: BOB }).then((r) => expect(r.status).toBe(404));
    await call('GET', '/api/approvals/apr_nope').then((r) => expect(r.body.error.code).toBe('approval_not_found'));
    await call('GET', '/api/inbox').then((r) =>
      // The call's input is there to read before deciding from the inbox: nothing approved blind.
      expect(r.body.items).toContainEqual(expect.objectContaining({ kind: 'approval', id: approvalId, runId: writing, tool: 'workspace_write', input: { path: 'a.txt', content: 'hello' } })),
    );
    await call('POST', `/api/runs/${writing}/pause`).then((r) => expect(r.status).toBe(202));
    await call('POST', `/api/runs/${writing}/pause`, { token: BOB }).then((r) => expect(r.status).toBe(404));
    await call('POST', `/api/runs/${writing}/resume`).then((r) => expect(r.status).toBe(202));
    await call('POST', `/api/runs/${writing}/approvals/${approvalId}`, { body: { decision: 'maybe' } }).then((r) => expect(r.status).toBe(400));
    await call('POST', `/api/runs/${writing}/approvals/apr_nope`, { body: { decision: 'approve' } }).then((r) => expect(r.status).toBe(404));
    await call('POST', '/api/approvals/apr_nope', { body: { decision: 'approve' } }).then((r) => expect(r.body.error.code).toBe('approval_not_found'));
    await call('POST', `/api/approvals/${approvalId}`, { body: { decision: 'approve' }, token: BOB }).then((r) => expect(r.status).toBe(404));
    await call('POST', `/api/approvals/${approvalId}`, { body: { decision: 'maybe' } }).then((r) => expect(r.status).toBe(400));
    await call('POST', `/api/approvals/${approvalId}`, { body: { decision: 'approve', comment: 'fine' } }).then((r) => expect(r.body).toMatchObject({ status: 'approved', runId: writing }));
    // Repeating one's own decision is harmless, on either route.
    await call('POST', `/api/runs/${writing}/approvals/${approvalId}`, { body: { decision: 'approve', comment: 'fine' } }).then((r) => expect(r.body.status).toBe('approved'));
    await call('POST', `/api/runs/${writing}/approvals/${approvalId}`, { body: { decision: 'reject' } }).then((r) => expect(r.status).toBe(409));
    await h.waitForStatus(writing, ['completed', 'paused']);

    const cancelling = (await call('POST', '/api/runs', { body: { goal: 'write a file [openapi-write]', approvals: 'all' } })).body.id as string;
    await h.waitForStatus(cancelling, 'waiting_approval');
    await call('POST', `/api/runs/${cancelling}/cancel`, { token: BOB }).then((r) => expect(r.status).toBe(404));
    await call('POST', `/api/runs/${cancelling}/cancel`).then((r) => expect(r.status).toBe(202));
    await h.waitForStatus(cancelling, 'cancelled');

    // Follow-up messages: continue the completed run; refuse the cancelled one, other users, bad input.
    await call('POST', `/api/runs/${cancelling}/messages`, { body: { text: 'go on' } }).then((r) => expect(r.body.error.code).toBe('run_not_continuable'));
    await call('POST', `/api/runs/${asking}/messages`, { body: { text: 'go on' }, token: BOB }).then((r) => expect(r.status).toBe(404));
    await call('POST', `/api/runs/${asking}/messages`, { body: { text: '' } }).then((r) => expect(r.status).toBe(400));
    await call('POST', `/api/runs/${asking}/messages`, { body: { text: 'And a second colour?' } }).then((r) => expect(r.body).toMatchObject({ continued: true }));
    await h.waitForEvent(asking, 'run.completed', (e) => e.data.turns === 3);
  });

  it('describes the live routes, tickets, health, metrics and Slack', async () => {
    const runs = await call('GET', '/api/runs?limit=1');
    const id = runs.body.runs[0].id as string;

    const sse = await fetch(`${h.api.url}/api/runs/${id}/stream`, { headers: { authorization: `Bearer ${ALICE}` } });
    checker.check('GET', `/api/runs/${id}/stream`, sse.status, sse.headers.get('content-type'), undefined);
    await sse.body?.cancel();
    await call('GET', '/api/runs/run_nope/stream').then((r) => expect(r.status).toBe(404));

    const ticket = await call('POST', '/api/ws-ticket');
    expect(ticket.status).toBe(201);
    await call('POST', '/api/ws-ticket', { token: '' }).then((r) => expect(r.status).toBe(401));
    const upgraded = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`${h.api.url.replace('http', 'ws')}/ws?ticket=${ticket.body.ticket}`, { origin: h.api.url });
      ws.once('upgrade', (res) => {
        resolve(res.statusCode ?? 0);
        ws.close();
      });
      ws.once('error', reject);
    });
    checker.check('GET', '/ws', upgraded, null, undefined);
    const refused = await new Promise<{ status: number; type: string | null; body: unknown }>((resolve) => {
      const ws = new WebSocket(`${h.api.url.replace('http', 'ws')}/ws`, { origin: h.api.url });
      ws.once('unexpected-response', (_req, res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'] ?? null, body: JSON.parse(text) }));
      });
      ws.once('error', () => undefined);
    });
    checker.check('GET', '/ws', refused.status, refused.type, refused.body);
    expect(refused.status).toBe(401);

    await call('GET', '/healthz', { token: '' }).then((r) => expect(r.status).toBe(200));
    await call('GET', '/readyz', { token: '' }).then((r) => expect(r.status).toBe(200));
    await call('GET', '/metrics').then((r) => expect(r.status).toBe(200));
    await call('GET', '/metrics', { token: '' }).then((r) => expect(r.status).toBe(401));

    await call('POST', '/slack/interactions', { rawBody: 'payload=%7B%7D', headers: { 'content-type': 'application/x-www-form-urlencoded' } }).then((r) =>
      expect(r.status).toBe(401),
    );
    const body = `payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions', user: { id: 'U_ALICE' }, actions: [] }))}`;
    const timestamp = String(Math.floor(Date.now() / 1000));
    await call('POST', '/slack/interactions', {
      rawBody: body,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': timestamp,
        'x-slack-signature': slackSignature(SIGNING_SECRET, timestamp, body),
      },
    }).then((r) => expect(r.status).toBe(200));
  });

  it('describes the schedule routes', async () => {
    const created = await call('POST', '/api/schedules', { body: { name: 'hourly', goal: 'check the news', everySec: 3600, model: 'demo', approvals: 'none' } });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    await call('POST', '/api/schedules', { body: { name: 'bad', goal: 'x', cron: 'never', model: 'demo' } }).then((r) => expect(r.status).toBe(400));
    await call('GET', '/api/schedules').then((r) => expect(r.status).toBe(200));
    await call('GET', `/api/schedules/${id}`).then((r) => expect(r.body.id).toBe(id));
    await call('GET', `/api/schedules/${id}`, { token: BOB }).then((r) => expect(r.status).toBe(404));
    await call('POST', `/api/schedules/${id}/pause`).then((r) => expect(r.body.paused).toBe(true));
    await call('POST', `/api/schedules/${id}/resume`).then((r) => expect(r.body.paused).toBe(false));
    await call('POST', `/api/schedules/${id}/trigger`).then((r) => expect(r.status).toBe(202));
    await waitFor(async () => (await h.request('GET', `/api/runs?scheduleId=${id}`)).body.runs.length === 1, { what: 'the triggered run' });
    await call('DELETE', `/api/schedules/${id}`).then((r) => expect(r.status).toBe(204));
    await call('DELETE', `/api/schedules/${id}`).then((r) => expect(r.status).toBe(404));
  });

  it('describes the agent routes: the list, agent runs and their refusals, upgrade', async () => {
    await h.store.agents.publishVersion('invoice_checker', '1111111111111111', INVOICE_CHECKER);
    await h.store.agents.serve('openapi-worker', [{ agent: 'invoice_checker', version: '1111111111111111' }]);
    await call('GET', '/api/agents').then((r) => expect(r.body.agents.map((a: { name: string }) => a.name)).toEqual(['default', 'invoice_checker']));
    await call('GET', '/api/agents', { token: '' }).then((r) => expect(r.status).toBe(401));
    await call('POST', '/api/runs', { body: { agent: 'nobody', goal: 'x' } }).then((r) => expect(r.body.error.code).toBe('unknown_agent'));
    await call('POST', '/api/runs', { body: { agent: 'invoice_checker', input: { invoiceId: 1 } } }).then((r) => expect(r.body.error.details.length).toBeGreaterThan(0));
    const created = await call('POST', '/api/runs', { body: { agent: 'invoice_checker', input: { invoiceId: 'INV-1', amountCents: 1 } } });
    expect(created.status).toBe(202);
    const id = created.body.id as string;
    // Nothing serves the agent here: the run waits queued, and its views say so.
    await call('GET', `/api/runs/${id}`).then((r) => expect(r.body).toMatchObject({ agent: 'invoice_checker', worker: 'unavailable' }));
    await call('GET', '/api/runs?limit=5').then((r) => expect(r.status).toBe(200));
    await call('POST', `/api/runs/${id}/upgrade`, { token: BOB }).then((r) => expect(r.status).toBe(404));
    await call('POST', `/api/runs/${id}/upgrade`).then((r) => expect(r.body).toMatchObject({ id, status: 'upgrading' }));
    const plain = (await h.store.runs.list({ owner: 'alice', limit: 50 })).find((r) => r.agent === null)!;
    await call('POST', `/api/runs/${plain.id}/upgrade`).then((r) => expect(r.body.error.code).toBe('run_has_no_agent'));
    await call('POST', '/api/runs/run_nope/upgrade').then((r) => expect(r.status).toBe(404));
    await h.client.workflow.getHandle(id).terminate('test over');
  });

  it('describes the API key routes: created once, listed, revoked, and their refusals', async () => {
    const created = await call('POST', '/api/keys', { body: { name: 'openapi', scopes: ['runs:read'], expiresAt: '2099-01-01T00:00:00Z' } });
    expect(created.status).toBe(201);
    await call('POST', '/api/keys', { body: { name: '', scopes: [] } }).then((r) => expect(r.status).toBe(400));
    await call('POST', '/api/keys', { body: { name: 'x', scopes: ['admin'] }, token: created.body.key }).then((r) => expect(r.body.error.code).toBe('scope_missing'));
    await call('POST', '/api/keys', { body: { name: 'x', scopes: ['runs:read'] }, token: '' }).then((r) => expect(r.status).toBe(401));
    await call('GET', '/api/keys').then((r) => expect(r.body.keys.map((k: { id: string }) => k.id)).toContain(created.body.id));
    await call('GET', '/api/keys?colour=red').then((r) => expect(r.status).toBe(400));
    await call('GET', '/api/keys', { token: '' }).then((r) => expect(r.status).toBe(401));
    await call('DELETE', `/api/keys/${created.body.id}`, { token: BOB }).then((r) => expect(r.status).toBe(404));
    await call('DELETE', `/api/keys/${created.body.id}`).then((r) => expect(r.body.revokedBy).toBe('alice'));
    await call('GET', '/api/keys', { token: created.body.key }).then((r) => expect(r.body.error.code).toBe('key_revoked'));
  });

  it('describes the sign-in routes (on a second server, signing in at a real OpenID Provider)', async () => {
    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${port}`;
    const op = new TestOidcProvider({ redirectUri: `${publicUrl}/auth/callback`, postLogoutUri: `${publicUrl}/`, audience: 'https://api.longhaul.test' });
    await op.start();
    const signed = await startHarness({
      noWorker: true,
      env: { PORT: String(port), PUBLIC_URL: publicUrl, OIDC_ISSUER: op.issuer, OIDC_CLIENT_ID: 'longhaul', OIDC_CLIENT_SECRET: TEST_CLIENT_SECRET },
    });
    const raw = async (method: 'GET' | 'POST', path: string, headers: Record<string, string> = {}) => {
      const res = await fetch(`${publicUrl}${path}`, { method, headers, redirect: 'manual' });
      const text = await res.text();
      const body: unknown = text && res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : text;
      checker.check(method, path, res.status, res.headers.get('content-type'), body);
      return { status: res.status, body: body as any, headers: res.headers };
    };
    try {
      await raw('GET', '/api/session').then((r) => expect(r.body).toEqual({ signIn: 'oidc' }));
      await raw('GET', '/auth/login?returnTo=/runs').then((r) => expect(r.headers.get('location')).toContain(`${op.issuer}/auth?`));
      await raw('GET', '/auth/callback?code=x&state=y').then((r) => expect(r.body.error.code).toBe('sign_in_failed'));
      const { callback, callbackUrl, cookie } = await signInWithoutBrowser(publicUrl, 'alice');
      checker.check('GET', callbackUrl, callback.status, callback.headers.get('content-type'), undefined);
      expect(callback.status).toBe(302);
      const me = await raw('GET', '/api/session', { cookie });
      expect(me.body.user.id).toBe('alice');
      await raw('POST', '/auth/logout', { cookie }).then((r) => expect(r.body.error.code).toBe('csrf_failed'));
      await raw('POST', '/auth/logout', { cookie, 'x-csrf-token': me.body.csrfToken }).then((r) => expect(r.status).toBe(200));
    } finally {
      await signed.close();
      await op.close();
    }
  });

  it('describes the team routes: the caller\'s teams, members and budget for a team\'s admin, and the refusals', async () => {
    await call('GET', '/api/teams', { token: BOB }).then((r) => expect(r.body).toEqual({ teams: [{ team: 'payments', roles: ['admin'] }] }));
    await call('GET', '/api/teams/payments/members', { token: BOB }).then((r) => expect(r.body.members).toEqual([expect.objectContaining({ user: 'bob', role: 'admin', source: 'admin' })]));
    await call('GET', '/api/teams/payments/members').then((r) => expect([r.status, r.body.error.code]).toEqual([403, 'forbidden']));
    await call('GET', '/api/teams/Not A Team/members', { token: BOB }).then((r) => expect(r.status).toBe(400));
    await call('PUT', '/api/teams/payments/members/alice/viewer', { token: BOB }).then((r) => expect(r.body.members).toContainEqual(expect.objectContaining({ user: 'alice', role: 'viewer' })));
    await call('PUT', '/api/teams/payments/members/alice/boss', { token: BOB }).then((r) => expect(r.status).toBe(400));
    await call('DELETE', '/api/teams/payments/members/alice/viewer', { token: BOB }).then((r) => expect(r.status).toBe(204));
    await call('DELETE', '/api/teams/payments/members/alice/viewer').then((r) => expect(r.status).toBe(403));
    await call('GET', '/api/teams/payments/budget', { token: BOB }).then((r) => expect(r.body).toEqual({ team: 'payments', dailyUsd: null, source: null, spentTodayUsd: 0 }));
    await call('PUT', '/api/teams/payments/budget', { token: BOB, body: { dailyUsd: 25 } }).then((r) => expect(r.body).toMatchObject({ dailyUsd: 25, source: 'api' }));
    await call('PUT', '/api/teams/payments/budget', { token: BOB, body: { dailyUsd: -1 } }).then((r) => expect(r.status).toBe(400));
    await call('PUT', '/api/teams/payments/budget', { token: BOB, body: { dailyUsd: null } }).then((r) => expect(r.body.source).toBeNull());
    await call('GET', '/api/teams/payments/budget').then((r) => expect(r.status).toBe(403));
    // A run on the team, and one on a team the caller holds no role on.
    const created = await call('POST', '/api/runs', { token: BOB, body: { goal: 'a team run', model: 'demo', approvals: 'none', team: 'payments' } });
    await call('GET', `/api/runs/${created.body.id}`, { token: BOB }).then((r) => expect(r.body.team).toBe('payments'));
    await call('GET', '/api/runs?team=payments', { token: BOB }).then((r) => expect(r.body.runs.map((x: { id: string }) => x.id)).toContain(created.body.id));
    await call('POST', '/api/runs', { body: { goal: 'x', model: 'demo', team: 'payments' } }).then((r) => expect([r.status, r.body.error.code]).toEqual([403, 'forbidden']));
  });

  it('has seen every route answer its documented success', () => {
    expect(checker.unexercised()).toEqual([]);
  });
});
