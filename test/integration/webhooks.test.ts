/**
 * Signed webhooks, delivered by Temporal: a receiver that fails the first two attempts then
 * accepts gets exactly one accepted delivery per event, the same `webhook-id` on every attempt,
 * each attempt signed the way the Standard Webhooks specification says (checked with its own
 * library); a run never waits for its webhooks; a host that is not allowed is never contacted.
 */
import crypto from 'node:crypto';
import type http from 'node:http';
import { Webhook } from 'standardwebhooks';
import { FakeAnthropic } from '../support/fake-anthropic';
import { startHarness, type Harness } from '../support/harness';
import { listenLocally, type LocalServer } from '../support/http-server';
import { waitFor } from '../support/wait';

const SECRET = `whsec_${crypto.randomBytes(32).toString('base64')}`;

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  answered: number;
}

describe('webhooks', () => {
  const fake = new FakeAnthropic();
  const received: Received[] = [];
  const attemptsById = new Map<string, number>();
  let receiver: LocalServer;
  let stranger: LocalServer;
  let strangerHits = 0;
  let h: Harness;

  beforeAll(async () => {
    await fake.start();
    // Fails each delivery's first two attempts, accepts the third; /down never accepts.
    receiver = await listenLocally((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        const id = String(req.headers['webhook-id']);
        const n = (attemptsById.get(id) ?? 0) + 1;
        attemptsById.set(id, n);
        const answered = req.url === '/down' || n <= 2 ? 500 : 204;
        received.push({ path: req.url ?? '', headers: req.headers, body, answered });
        res.writeHead(answered).end();
      });
    });
    stranger = await listenLocally((_req, res) => {
      strangerHits += 1;
      res.writeHead(204).end();
    });
    // On Postgres: the outbox is written in the events' transaction there too.
    h = await startHarness({
      database: 'postgres',
      env: {
        ANTHROPIC_API_KEY: fake.apiKey,
        ANTHROPIC_BASE_URL: fake.url,
        LLM_MODEL: 'claude-sonnet-5-5',
        WEBHOOK_SECRET: SECRET,
        WEBHOOK_ALLOWED_HOSTS: `127.0.0.1:${receiver.port}`,
        WEBHOOK_URLS: `${receiver.url}/all`,
        PUBLIC_URL: 'https://longhaul.example',
      },
    });
  });
  afterAll(async () => {
    await h.close();
    await receiver.stop();
    await stranger.stop();
    await fake.stop();
  });

  it('delivers each event once after two failed attempts, same id every attempt, every attempt signed', async () => {
    fake.script('[hooks]', (req) =>
      req.assistantTurns === 0 ? { toolUses: [{ name: 'workspace_write', input: { path: 'a.txt', content: 'a' } }] } : { text: 'wrote a.txt' },
    );
    const id = await h.createRun({
      goal: 'write [hooks]',
      approvals: 'write',
      webhooks: [
        { url: `${receiver.url}/approvals`, events: ['approval.requested'] },
        { url: `${receiver.url}/down`, events: ['run.completed'] },
      ],
    });
    const waiting = await h.waitForStatus(id, 'waiting_approval');
    await h.request('POST', `/api/runs/${id}/approvals/${waiting.pendingApprovals[0].approvalId}`, { body: { decision: 'approve' } });
    // The run does not wait for its webhooks: it completes while deliveries are still being retried.
    await h.waitForStatus(id, 'completed');

    const accepted = () => received.filter((r) => r.answered === 204);
    // Nobody watched the run while it waited, so it also asked for attention (presence.test.ts covers why).
    await waitFor(() => accepted().length >= 4, { timeoutMs: 30_000, what: 'four accepted deliveries' });
    const bodies = accepted().map((r) => ({ path: r.path, ...(JSON.parse(r.body) as { type: string; data: Record<string, unknown> }) }));
    expect(bodies.map((b) => `${b.path} ${b.type}`).sort()).toEqual(['/all approval.requested', '/all attention.needed', '/all run.completed', '/approvals approval.requested']);
    for (const b of bodies) expect(b.data).toMatchObject({ runId: id, link: `https://longhaul.example/runs/${id}` });

    const verifier = new Webhook(SECRET);
    const byId = new Map<string, Received[]>();
    for (const r of received.filter((x) => x.path !== '/down')) byId.set(String(r.headers['webhook-id']), [...(byId.get(String(r.headers['webhook-id'])) ?? []), r]);
    expect(byId.size).toBe(4);
    for (const attempts of byId.values()) {
      expect(attempts.map((a) => a.answered)).toEqual([500, 500, 204]); // one accepted delivery per event
      expect(new Set(attempts.map((a) => a.body)).size).toBe(1); // the same body every attempt
      for (const a of attempts) {
        const headers = { 'webhook-id': String(a.headers['webhook-id']), 'webhook-timestamp': String(a.headers['webhook-timestamp']), 'webhook-signature': String(a.headers['webhook-signature']) };
        expect(() => verifier.verify(a.body, headers)).not.toThrow();
        expect(() => new Webhook(`whsec_${crypto.randomBytes(32).toString('base64')}`).verify(a.body, headers)).toThrow();
      }
    }

    // The receiver answers before the delivery records its success: wait for the record, not the answer.
    type Delivery = { status: string; url: string; event: string; attempts: { status: number }[] };
    const deliveries = async (): Promise<Delivery[]> => (await h.request('GET', `/api/runs/${id}/deliveries`)).body.deliveries;
    await waitFor(async () => (await deliveries()).filter((d) => d.status === 'delivered').length >= 4, { timeoutMs: 30_000, what: 'four deliveries recorded as delivered' });
    const all = await deliveries();
    const delivered = all.filter((d) => d.status === 'delivered');
    expect(delivered).toHaveLength(4);
    for (const d of delivered) expect(d.attempts.map((a) => a.status)).toEqual([500, 500, 204]);
    // The run's own destinations as given; the deployment's (WEBHOOK_URLS, the operator's) by scheme and host only.
    expect(all.filter((d) => d.url === `${receiver.url}/***`).map((d) => d.event).sort()).toEqual(['approval.requested', 'attention.needed', 'run.completed']);
    expect(all.filter((d) => d.url === `${receiver.url}/approvals`)).toHaveLength(1);
    const down = all.find((d) => d.url.endsWith('/down'));
    expect(down).toMatchObject({ event: 'run.completed', status: 'pending' });
    expect(down?.attempts.length).toBeGreaterThanOrEqual(1);
    // Each delivery's workflow says, in Temporal's UI, which event of which run it delivers and where.
    const rows = await h.store.db.selectFrom('webhook_deliveries').select(['id', 'event_type', 'seq', 'url']).where('run_id', '=', id).execute();
    for (const row of rows) {
      const summary = await (await h.client.workflow.getHandle(row.id).describe()).staticSummary();
      expect(summary).toBe(`Webhook: ${row.event_type} (#${row.seq}) of run ${id} to ${new URL(row.url).host}`);
    }
  });

  it('never contacts a host that is not allowed', async () => {
    const res = await h.request('POST', '/api/runs', { body: { goal: 'x', model: 'demo', webhooks: [{ url: `${stranger.url}/hook` }] } });
    expect([res.status, res.body.error.code]).toEqual([400, 'invalid_request']);
    expect(res.body.error.message).toContain('WEBHOOK_ALLOWED_HOSTS');
    const redirected = await h.request('POST', '/api/runs', { body: { goal: 'x', model: 'demo', webhooks: [{ url: 'file:///etc/passwd' }] } });
    expect(redirected.status).toBe(400);
    // Refused before anything was stored: no delivery to it exists, and it was never called.
    const queued = await h.store.db.selectFrom('webhook_deliveries').select('id').where('url', 'like', `${stranger.url}%`).execute();
    expect(queued).toEqual([]);
    expect(strangerHits).toBe(0);
  });

  it("refuses a run's own webhook with user:password@ (it could never be sent), without echoing the password", async () => {
    const res = await h.request('POST', '/api/runs', { body: { goal: 'x', model: 'demo', webhooks: [{ url: `http://hook:hunter2-password@127.0.0.1:${receiver.port}/own` }] } });
    expect([res.status, res.body.error.code]).toEqual([400, 'invalid_request']);
    expect(res.body.error.message).toBe(`webhooks: http://***@127.0.0.1:${receiver.port}/own: has user:password@ in it, which cannot be sent; check the webhook signature instead`);
  });
});
