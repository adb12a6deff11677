/**
 * The HTTP contract of docs/api.md: auth and ownership, idempotent creation, listing with
 * cursors, events paging, cancel, health — and every kind of bad input getting a clean 4xx.
 */
import { FakeAnthropic } from '../support/fake-anthropic';
import { startHarness, type Harness } from '../support/harness';
import { waitFor } from '../support/wait';

const ALICE = 'alice-token-0123456789';
const BOB = 'bob-token-0123456789ab';

describe('HTTP API contract', () => {
  const fake = new FakeAnthropic();
  let h: Harness;

  beforeAll(async () => {
    await fake.start();
    h = await startHarness({
      env: {
        API_TOKENS: `${ALICE}:alice,${BOB}:bob`,
        MAX_GOAL_CHARS: '1000',
        MAX_BODY_BYTES: '4096',
        ANTHROPIC_API_KEY: fake.apiKey,
        ANTHROPIC_BASE_URL: fake.url,
      },
    });
    h.defaultToken = ALICE;
  });

  const anonymously = { token: '' };
  afterAll(async () => {
    await h.close();
    await fake.stop();
  });

  const post = (path: string, body: unknown, token = ALICE, headers: Record<string, string> = {}) =>
    h.request('POST', path, { body, token, headers });

  describe('auth', () => {
    it('requires a bearer token on every /api route', async () => {
      for (const [method, path] of [
        ['GET', '/api/runs'],
        ['POST', '/api/runs'],
        ['GET', '/api/runs/run_x'],
        ['GET', '/api/runs/run_x/events'],
        ['POST', '/api/runs/run_x/cancel'],
      ] as const) {
        const res = await h.request(method, path, anonymously);
        expect([method, path, res.status, res.body.error.code]).toEqual([method, path, 401, 'unauthorized']);
        expect(res.headers.get('www-authenticate')).toContain('Bearer');
      }
      const wrong = await h.request('GET', '/api/runs', { token: 'not-a-real-token-at-all' });
      expect(wrong.status).toBe(401);
    });

    it("keeps each user's runs private: another user's run is a 404 everywhere", async () => {
      const id = await h.createRun({ goal: 'private errand', model: 'demo', approvals: 'none' }, { token: ALICE });
      await h.waitForStatus(id, 'completed', { token: ALICE });
      for (const [method, path] of [
        ['GET', `/api/runs/${id}`],
        ['GET', `/api/runs/${id}/events`],
        ['POST', `/api/runs/${id}/cancel`],
      ] as const) {
        const res = await h.request(method, path, { token: BOB });
        expect([path, res.status, res.body.error.code]).toEqual([path, 404, 'run_not_found']);
      }
      const bobsList = await h.request('GET', '/api/runs', { token: BOB });
      expect(bobsList.body.runs.map((r: { id: string }) => r.id)).not.toContain(id);
      const alicesList = await h.request('GET', '/api/runs', { token: ALICE });
      expect(alicesList.body.runs.map((r: { id: string }) => r.id)).toContain(id);
    });
  });

  describe('creating runs', () => {
    it('answers 202 at once with the id, status and links', async () => {
      const res = await post('/api/runs', { goal: 'hello', model: 'demo', approvals: 'none' });
      expect(res.status).toBe(202);
      expect(res.body).toEqual({
        id: expect.stringMatching(/^run_[a-z0-9]+$/),
        status: 'queued',
        links: {
          self: `/api/runs/${res.body.id}`,
          events: `/api/runs/${res.body.id}/events`,
          stream: `/api/runs/${res.body.id}/stream`,
          cancel: `/api/runs/${res.body.id}/cancel`,
        },
      });
      expect(res.headers.get('location')).toBe(`/api/runs/${res.body.id}`);
      // The run id is the workflow id.
      const description = await h.client.workflow.getHandle(res.body.id).describe();
      expect(description.type).toBe('agentRunWorkflow');
    });

    it('returns the same run for the same Idempotency-Key from the same user, and starts nothing new', async () => {
      const key = `key-${Date.now()}`;
      const body = { goal: 'only once', model: 'demo', approvals: 'none' };
      const first = await post('/api/runs', body, ALICE, { 'Idempotency-Key': key });
      const second = await post('/api/runs', body, ALICE, { 'Idempotency-Key': key });
      expect(second.status).toBe(202);
      expect(second.body.id).toBe(first.body.id);
      expect(second.headers.get('idempotent-replayed')).toBe('true');
      // Concurrent repeats too.
      const burst = await Promise.all([1, 2, 3].map(() => post('/api/runs', body, ALICE, { 'Idempotency-Key': key })));
      expect(new Set(burst.map((r) => r.body.id))).toEqual(new Set([first.body.id]));

      const runs = await h.store.db.selectFrom('runs').select('id').where('idempotency_key', '=', key).execute();
      expect(runs).toHaveLength(1);
      // Visibility is written after the start, in the background: wait for the run to be listed at all.
      let executions: unknown[] = [];
      await waitFor(async () => {
        executions = [];
        for await (const wf of h.client.workflow.list({ query: `WorkflowId = "${first.body.id}"` })) executions.push(wf);
        return executions.length > 0;
      }, { what: 'visibility to list the run' });
      expect(executions).toHaveLength(1);

      // Another user with the same key gets their own run.
      const bobs = await post('/api/runs', body, BOB, { 'Idempotency-Key': key });
      expect(bobs.body.id).not.toBe(first.body.id);
      // The same key for a different request is a conflict, not a silent replay.
      const other = await post('/api/runs', { ...body, goal: 'something else' }, ALICE, { 'Idempotency-Key': key });
      expect([other.status, other.body.error.code]).toEqual([409, 'idempotency_key_reused']);
    });

    it('applies the admin maximum on limits and fills in defaults', async () => {
      const res = await post('/api/runs', { goal: 'limits', model: 'demo', approvals: 'none', limits: { maxSteps: 7 } });
      const run = await h.getRun(res.body.id, ALICE);
      expect(run.limits).toEqual({ maxSteps: 7, maxCostUsd: 5, maxDurationSec: 86400 });
      const tooMany = await post('/api/runs', { goal: 'limits', limits: { maxSteps: 100000 } });
      expect([tooMany.status, tooMany.body.error.code]).toEqual([400, 'limit_out_of_range']);
    });
  });

  describe('bad input gets a clear 4xx and creates nothing', () => {
    const cases: [string, () => Promise<{ status: number; body: any }>, number, string][] = [
      ['invalid JSON', () => h.request('POST', '/api/runs', { rawBody: '{"goal": ', token: ALICE, headers: { 'content-type': 'application/json' } }), 400, 'invalid_json'],
      ['missing goal', () => post('/api/runs', {}), 400, 'invalid_request'],
      ['empty goal', () => post('/api/runs', { goal: '   ' }), 400, 'invalid_request'],
      ['goal of the wrong type', () => post('/api/runs', { goal: 42 }), 400, 'invalid_request'],
      ['unknown field', () => post('/api/runs', { goal: 'x', colour: 'red' }), 400, 'invalid_request'],
      ['bad approvals value', () => post('/api/runs', { goal: 'x', approvals: 'sometimes' }), 400, 'invalid_request'],
      ['negative limit', () => post('/api/runs', { goal: 'x', limits: { maxSteps: -1 } }), 400, 'invalid_request'],
      ['body that is an array', () => post('/api/runs', [{ goal: 'x' }]), 400, 'invalid_request'],
      ['body that is a string', () => h.request('POST', '/api/runs', { rawBody: '"hi"', token: ALICE, headers: { 'content-type': 'application/json' } }), 400, 'invalid_json'],
      ['oversized goal', () => post('/api/runs', { goal: 'x'.repeat(1001) }), 413, 'goal_too_large'],
      ['oversized body', () => post('/api/runs', { goal: 'x', metadata: { pad: 'y'.repeat(5000) } }), 413, 'payload_too_large'],
      ['wrong content type', () => h.request('POST', '/api/runs', { rawBody: 'goal=x', token: ALICE, headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, 'unsupported_media_type'],
      ['text/plain JSON', () => h.request('POST', '/api/runs', { rawBody: '{"goal":"x"}', token: ALICE, headers: { 'content-type': 'text/plain' } }), 415, 'unsupported_media_type'],
      ['malformed Idempotency-Key', () => post('/api/runs', { goal: 'x' }, ALICE, { 'Idempotency-Key': 'has spaces in it' }), 400, 'invalid_idempotency_key'],
      ['unknown run', () => h.request('GET', '/api/runs/run_doesnotexist', { token: ALICE }), 404, 'run_not_found'],
      ['unknown run events', () => h.request('GET', '/api/runs/run_doesnotexist/events', { token: ALICE }), 404, 'run_not_found'],
      ['cancel unknown run', () => h.request('POST', '/api/runs/run_doesnotexist/cancel', { token: ALICE }), 404, 'run_not_found'],
      // Postgres cannot store a NUL in text: refused at the edge, never a 500 from the database.
      ['NUL in a run id', () => h.request('GET', '/api/runs/run_%00x', { token: ALICE }), 400, 'invalid_request'],
      ['NUL in a search', () => h.request('GET', '/api/runs?q=a%00b', { token: ALICE }), 400, 'invalid_request'],
      ['NUL in the goal', () => post('/api/runs', { goal: 'a\u0000b' }), 400, 'invalid_request'],
      ['NUL in a metadata key', () => post('/api/runs', { goal: 'x', metadata: { 'a\u0000': 'b' } }), 400, 'invalid_request'],
      ['list limit out of range', () => h.request('GET', '/api/runs?limit=0', { token: ALICE }), 400, 'invalid_query'],
      ['list limit not a number', () => h.request('GET', '/api/runs?limit=ten', { token: ALICE }), 400, 'invalid_query'],
      ['list with unknown status', () => h.request('GET', '/api/runs?status=sleeping', { token: ALICE }), 400, 'invalid_query'],
      ['list with a forged cursor', () => h.request('GET', '/api/runs?cursor=bm9wZQ', { token: ALICE }), 400, 'invalid_query'],
      ['list with an unknown parameter', () => h.request('GET', '/api/runs?colour=red', { token: ALICE }), 400, 'invalid_query'],
      ['events after negative', () => h.request('GET', '/api/runs/run_x/events?after=-1', { token: ALICE }), 400, 'invalid_query'],
      ['events limit too large', () => h.request('GET', '/api/runs/run_x/events?limit=100000', { token: ALICE }), 400, 'invalid_query'],
      ['unknown API route', () => h.request('GET', '/api/nothing-here', { token: ALICE }), 404, 'not_found'],
    ];

    it.each(cases)('%s', async (_name, call, status, code) => {
      const before = await h.store.db.selectFrom('runs').select(({ fn }) => fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      const res = await call();
      expect([res.status, res.body?.error?.code]).toEqual([status, code]);
      expect(typeof res.body.error.message).toBe('string');
      const after = await h.store.db.selectFrom('runs').select(({ fn }) => fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      expect(Number(after.n)).toBe(Number(before.n));
    });

    it('accepts the models it can price, refuses others with unknown_model before anything is stored', async () => {
      // This server has a key, so Claude models in the price table are accepted; the demo is always available.
      const res = await post('/api/runs', { goal: 'x', model: 'claude-haiku-4-5', approvals: 'none' });
      expect(res.status).toBe(202);
      const before = await h.store.db.selectFrom('runs').select(({ fn }) => fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      // A made-up name, and names that would find an object's own members in a plain lookup table.
      for (const model of ['claude-imaginary-9', 'constructor', '__proto__', 'toString', 'hasOwnProperty']) {
        const refused = await post('/api/runs', { goal: 'x', model, approvals: 'none' });
        expect([model, refused.status, refused.body.error.code]).toEqual([model, 400, 'unknown_model']);
      }
      const after = await h.store.db.selectFrom('runs').select(({ fn }) => fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      expect(Number(after.n)).toBe(Number(before.n));
    });
  });

  describe('reading runs', () => {
    it('lists runs newest first, filtered by status, in pages joined by a cursor', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push(await h.createRun({ goal: `page ${i}`, model: 'demo', approvals: 'none' }, { token: BOB }));
      for (const id of ids) await h.waitForStatus(id, 'completed', { token: BOB });
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res: any = await h.request('GET', `/api/runs?limit=2&status=completed${cursor ? `&cursor=${cursor}` : ''}`, { token: BOB });
        expect(res.status).toBe(200);
        expect(res.body.runs.length).toBeLessThanOrEqual(2);
        seen.push(...res.body.runs.map((r: { id: string }) => r.id));
        cursor = res.body.nextCursor;
      } while (cursor);
      expect(seen.filter((id) => ids.includes(id))).toEqual([...ids].reverse());
      const running = await h.request('GET', '/api/runs?status=running,waiting_approval', { token: BOB });
      expect(running.body.runs.filter((r: { id: string }) => ids.includes(r.id))).toEqual([]);
    });

    it('pages through events with after/limit and nextAfter', async () => {
      const id = await h.createRun({ goal: 'events', model: 'demo', approvals: 'none' });
      await h.waitForStatus(id, 'completed', { token: ALICE });
      const all: number[] = [];
      let after = 0;
      for (;;) {
        const res = await h.request('GET', `/api/runs/${id}/events?after=${after}&limit=3`, { token: ALICE });
        expect(res.status).toBe(200);
        if (res.body.events.length === 0) {
          expect(res.body.nextAfter).toBe(after);
          break;
        }
        for (const e of res.body.events) {
          expect(Object.keys(e).sort()).toEqual(['at', 'data', 'seq', 'type']);
          all.push(e.seq);
        }
        after = res.body.nextAfter;
      }
      expect(all).toEqual(Array.from({ length: all.length }, (_, i) => i + 1));
      expect(all.length).toBeGreaterThan(10);
    });

    it('mirrors status into a search attribute, so Temporal visibility can list runs by status', async () => {
      const id = await h.createRun({ goal: 'visible', model: 'demo', approvals: 'none' });
      await h.waitForStatus(id, 'completed', { token: ALICE });
      await waitFor(async () => {
        for await (const wf of h.client.workflow.list({ query: `LonghaulStatus = "completed" AND LonghaulOwner = "alice" AND WorkflowId = "${id}"` })) {
          return wf.workflowId === id;
        }
        return false;
      }, { what: 'visibility to list the completed run' });
    });
  });

  describe('cancel', () => {
    it('cancels a running run: the in-flight activity sees it, status ends cancelled', async () => {
      fake.script('[cancel-me]', () => ({ text: 'Thinking very slowly about this. '.repeat(40), chunkChars: 4, delayMs: 50 }));
      const id = await h.createRun({ goal: 'slow thought [cancel-me]', model: 'claude-sonnet-5-5', approvals: 'none' });
      await waitFor(async () => (await h.events(id)).some((e) => e.type === 'run.started') && fake.requestsFor('[cancel-me]').length > 0, {
        what: 'the model call to be streaming',
      });
      const res = await post(`/api/runs/${id}/cancel`, undefined);
      expect(res.status).toBe(202);
      const run = await h.waitForStatus(id, 'cancelled', { token: ALICE });
      expect(run.statusDetail).toBe('cancelled on request');
      const types = (await h.events(id)).map((e) => e.type);
      expect(types[types.length - 1]).toBe('run.cancelled');
      expect(types).not.toContain('llm.message');
      // The streaming model call noticed the cancellation (through its heartbeat) and hung up.
      await waitFor(() => fake.requestsFor('[cancel-me]')[0]!.abandoned, { what: 'the model stream to be abandoned' });
      // The store says cancelled before the workflow task that ends the execution completes: wait for it to close.
      let execution = '';
      await waitFor(async () => (execution = (await h.client.workflow.getHandle(id).describe()).status.name) !== 'RUNNING', { what: () => `the execution to close (${execution})` });
      expect(execution).toBe('CANCELLED');

      const again = await post(`/api/runs/${id}/cancel`, undefined);
      expect([again.status, again.body.error.code]).toEqual([409, 'run_not_active']);
    });
  });

  describe('health', () => {
    it('reports liveness and readiness (Temporal and database)', async () => {
      expect((await h.request('GET', '/healthz')).body).toEqual({ status: 'ok' });
      const ready = await h.request('GET', '/readyz');
      expect([ready.status, ready.body]).toEqual([200, { status: 'ready', checks: { temporal: 'ok', database: 'ok' } }]);
    });
  });
});
