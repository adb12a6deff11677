/**
 * The live protocol in one API process: snapshot, events in seq order, token deltas; resuming
 * after a dropped socket (mid-run and mid-token) with no gap and no duplicate; retries discarding
 * partial text; tickets (one whose credential ended before it was used opens nothing), Origin, ownership; slow
 * consumers cut off without holding anyone up; dead peers dropped; SSE with Last-Event-ID.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { FakeAnthropic } from '../support/fake-anthropic';
import { startHarness, type Harness } from '../support/harness';
import { LiveClient, wsUrl } from '../support/live-client';
import { testTools } from '../support/test-tools';
import { waitFor } from '../support/wait';
import type { RunEventOf } from '../../contract/events';
import { WS_CLOSE_CREDENTIAL_ENDED } from '../../contract/errors';

const ALICE = 'alice-token-0123456789';
const BOB = 'bob-token-0123456789ab';

describe('live stream', () => {
  const fake = new FakeAnthropic();
  let h: Harness;
  const clients: LiveClient[] = [];
  async function connect(opts: Parameters<typeof LiveClient.connect>[1] = { token: ALICE }, query = ''): Promise<LiveClient> {
    const c = await LiveClient.connect(wsUrl(h.api.url, query), opts);
    clients.push(c);
    return c;
  }

  beforeAll(async () => {
    await fake.start();
    h = await startHarness({
      env: {
        API_TOKENS: `${ALICE}:alice,${BOB}:bob`,
        ANTHROPIC_API_KEY: fake.apiKey,
        ANTHROPIC_BASE_URL: fake.url,
        LLM_MODEL: 'claude-sonnet-5-5',
        WS_MAX_BUFFERED_BYTES: String(256 * 1024),
        WS_PING_INTERVAL_SEC: '120',
      },
      extraTools: testTools(),
    });
    h.defaultToken = ALICE;
  });
  afterAll(async () => {
    for (const c of clients) c.terminate();
    await h.close();
    await fake.stop();
  });

  /** Turn 1 streams slowly and calls a tool; turn 2 streams and ends. */
  function slowTwoTurns(marker: string) {
    fake.script(marker, (req) =>
      req.assistantTurns === 0
        ? { text: 'Let me look around the workspace before I answer you properly. '.repeat(3), chunkChars: 5, delayMs: 25, toolUses: [{ name: 'workspace_list', input: {} }] }
        : { text: 'Here is the final answer, streamed token by token to every viewer. '.repeat(3), chunkChars: 5, delayMs: 25 },
    );
  }

  it('sends a snapshot, then every event in seq order and the model text as deltas', async () => {
    slowTwoTurns('[watch]');
    const c = await connect();
    const id = await h.createRun({ goal: 'Watch me [watch]', approvals: 'none' });
    c.subscribe(id, 0);
    const snapshot = await c.waitForMessage((m) => m.type === 'snapshot', 'the snapshot');
    expect(snapshot).toMatchObject({ type: 'snapshot', runId: id, progress: { id, status: expect.any(String), limits: expect.any(Object) } });
    await c.waitForEvent(id, 'run.completed');
    const stored = await h.events(id);
    expect(c.events(id).map((e) => e.seq)).toEqual(stored.map((e) => e.seq));
    expect(c.events(id)).toEqual(stored);
    for (const turn of [1, 2]) {
      const message = stored.find((e): e is RunEventOf<'llm.message'> => e.type === 'llm.message' && e.data.turn === turn)!;
      expect(c.streamed(id, turn)).toBe(message.data.text);
    }
    expect(c.violations).toEqual([]);
  });

  it('resumes after a socket drops mid-token-stream: partial text then the rest, seqs contiguous across sockets', async () => {
    slowTwoTurns('[drop]');
    const first = await connect();
    const id = await h.createRun({ goal: 'Drop me [drop]', approvals: 'none' });
    first.subscribe(id, 0);
    // Wait until the second message is half streamed, then cut the connection hard.
    await first.waitForMessage((m) => m.type === 'delta' && m.turn === 2 && m.offset > 40, 'turn 2 to be mid-stream');
    first.terminate();
    const seenBefore = first.events(id);
    const lastSeq = first.seq(id);
    const textBefore = first.streamed(id, 2);
    expect(textBefore.length).toBeGreaterThan(40);

    const second = await connect();
    second.subscribe(id, lastSeq);
    await second.waitForEvent(id, 'run.completed');
    const stored = await h.events(id);
    // No gap, no duplicate across the two sockets.
    expect([...seenBefore, ...second.events(id)].map((e) => e.seq)).toEqual(stored.map((e) => e.seq));
    // The new socket first got the text so far, at offset 0, then the rest.
    const firstDelta = second.messages.find((m) => m.type === 'delta' && m.turn === 2);
    expect(firstDelta).toMatchObject({ offset: 0 });
    expect((firstDelta as { text: string }).text.startsWith(textBefore)).toBe(true);
    const final = stored.find((e): e is RunEventOf<'llm.message'> => e.type === 'llm.message' && e.data.turn === 2)!.data.text;
    expect(second.streamed(id, 2)).toBe(final);
    expect(second.violations).toEqual([]);
  });

  it('tells clients to discard the partial text of a model call that is retried', async () => {
    let calls = 0;
    fake.script('[retry]', () => {
      calls += 1;
      return calls === 1
        ? { text: 'This attempt will fail halfway through the sentence it is writing.', chunkChars: 4, delayMs: 20, errorAfterChars: { chars: 24, type: 'overloaded_error' } }
        : { text: 'The retried attempt, complete.', chunkChars: 4, delayMs: 10 };
    });
    const c = await connect();
    const id = await h.createRun({ goal: 'Retry [retry]', approvals: 'none' });
    c.subscribe(id, 0);
    await c.waitForEvent(id, 'run.completed');
    const reset = c.messages.findIndex((m) => m.type === 'delta.reset');
    expect(reset).toBeGreaterThan(0);
    expect(c.messages.slice(0, reset).some((m) => m.type === 'delta' && m.turn === 1)).toBe(true);
    expect(c.messages[reset]).toEqual({ type: 'delta.reset', runId: id, turn: 1 });
    expect(c.streamed(id, 1)).toBe('The retried attempt, complete.');
    expect(c.violations).toEqual([]);
  });

  it('serves many runs on one socket, and many sockets on one run', async () => {
    fake.script('[many]', () => ({ text: 'quick answer', chunkChars: 3 }));
    const ids = await Promise.all([1, 2, 3].map((i) => h.createRun({ goal: `Many ${i} [many]`, approvals: 'none' })));
    const one = await connect();
    for (const id of ids) one.subscribe(id, 0);
    const watchers = await Promise.all([1, 2, 3, 4].map(() => connect()));
    for (const w of watchers) w.subscribe(ids[0]!, 0);
    for (const id of ids) await one.waitForEvent(id, 'run.completed');
    for (const w of watchers) await w.waitForEvent(ids[0]!, 'run.completed');
    for (const id of ids) expect(one.events(id)).toEqual(await h.events(id));
    for (const w of watchers) expect(w.events(ids[0]!)).toEqual(await h.events(ids[0]!));
    one.unsubscribe(ids[0]!);
    expect(one.violations).toEqual([]);
  });

  describe('who may connect and watch', () => {
    it('refuses a handshake without credentials, with a bad token, or with the token in the URL', async () => {
      await expect(LiveClient.connect(wsUrl(h.api.url))).rejects.toMatchObject({ status: 401 });
      await expect(LiveClient.connect(wsUrl(h.api.url), { token: 'not-a-real-token-x' })).rejects.toMatchObject({ status: 401 });
      await expect(LiveClient.connect(wsUrl(h.api.url, `?token=${ALICE}`))).rejects.toMatchObject({ status: 401 });
      await expect(LiveClient.connect(`${h.api.url.replace('http', 'ws')}/elsewhere`, { token: ALICE })).rejects.toMatchObject({ status: 404 });
    });

    it('accepts a browser through a single-use, short-lived ticket', async () => {
      const issued = await h.request('POST', '/api/ws-ticket');
      expect(issued.status).toBe(201);
      expect(issued.body).toEqual({ ticket: expect.any(String), expiresAt: expect.any(String) });
      expect(Date.parse(issued.body.expiresAt) - Date.now()).toBeLessThanOrEqual(60_000);
      const origin = h.api.url;
      const c = await connect({ origin }, `?ticket=${issued.body.ticket}`);
      const id = await h.createRun({ goal: 'Ticket [many]', approvals: 'none' });
      c.subscribe(id, 0);
      await c.waitForEvent(id, 'run.completed');
      await expect(LiveClient.connect(wsUrl(h.api.url, `?ticket=${issued.body.ticket}`), { origin })).rejects.toMatchObject({ status: 401 });
      expect((await h.request('POST', '/api/ws-ticket', { token: '' })).status).toBe(401);
    });

    it("closes at once (4401), sending nothing, a socket whose ticket's API key was revoked before it was used", async () => {
      const key = (await h.request('POST', '/api/keys', { body: { name: 'stale ticket', scopes: ['runs:read'] } })).body as { id: string; key: string };
      const id = await h.createRun({ goal: 'Watched through a stale ticket [stale-ticket]', approvals: 'none' });
      const ticket = async () => ((await h.request('POST', '/api/ws-ticket', { token: key.key })).body as { ticket: string }).ticket;
      const [forSocket, forStream] = [await ticket(), await ticket()];
      expect((await h.request('DELETE', `/api/keys/${key.id}`)).status).toBe(200);

      // The keep-alive beat is two minutes away here: only the check at redemption closes this socket in time.
      const c = await connect({ origin: h.api.url }, `?ticket=${forSocket}`);
      c.subscribe(id, 0);
      const soon = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the socket is still open 10 s after its ticket was redeemed')), 10_000).unref());
      expect(await Promise.race([c.closed, soon])).toEqual({ code: WS_CLOSE_CREDENTIAL_ENDED, reason: expect.stringContaining('revoked') });
      expect(c.messages).toEqual([]);
      // The event stream's ticket is refused as the key itself would be.
      const stream = await fetch(`${h.api.url}/api/runs/${id}/stream?ticket=${forStream}`);
      expect(stream.status).toBe(401);
      expect(((await stream.json()) as { error: { code: string } }).error).toEqual({ code: 'key_revoked', message: expect.any(String) });
    });

    it('refuses a foreign Origin at the handshake', async () => {
      await expect(LiveClient.connect(wsUrl(h.api.url), { token: ALICE, origin: 'https://evil.example' })).rejects.toMatchObject({ status: 403 });
      // The server's own origin is fine.
      await connect({ token: ALICE, origin: h.api.url });
    });

    it("does not let a user's socket read another user's run", async () => {
      const id = await h.createRun({ goal: 'Private [many]', approvals: 'none' }, { token: ALICE });
      const bob = await connect({ token: BOB });
      bob.subscribe(id, 0);
      const error = await bob.waitForMessage((m) => m.type === 'error', 'an error');
      expect(error).toMatchObject({ type: 'error', code: 'run_not_found', runId: id });
      await h.waitForStatus(id, 'completed');
      expect(bob.messages.filter((m) => m.type !== 'error')).toEqual([]);
    });

    it('answers malformed messages with an error and oversized ones by closing', async () => {
      const c = await connect();
      c.ws.send('{"type":"subscribe"}');
      expect(await c.waitForMessage((m) => m.type === 'error', 'an error')).toMatchObject({ code: 'invalid_message' });
      c.ws.send('x'.repeat(20 * 1024));
      expect((await c.closed).code).toBe(1009);
    });
  });

  it('cuts off a socket that stops reading, without slowing the run or other sockets', async () => {
    // 24 turns × 5 tool results × 60 KB: ~7 MB of events.
    const five = Array.from({ length: 5 }, () => ({ name: 'big_text', input: { bytes: 60_000 } }));
    fake.script('[firehose]', () => (fake.requestsFor('[firehose]').length <= 24 ? { toolUses: five } : { text: 'flood over' }));
    const id = await h.createRun({ goal: 'Flood [firehose]', approvals: 'none', limits: { maxSteps: 100 } });
    const healthy = await connect();
    healthy.subscribe(id, 0);
    // A peer with a 4 KB receive window that reads nothing (test/support/slow-ws-client.py).
    const { port } = new URL(h.api.url);
    const slow = spawn('python3', [path.join(__dirname, '..', 'support', 'slow-ws-client.py'), '127.0.0.1', port, ALICE, id], { stdio: ['pipe', 'pipe', 'inherit'] });
    let slowOut = '';
    slow.stdout!.on('data', (d: Buffer) => (slowOut += d.toString()));
    try {
      await waitFor(() => slowOut.includes('SUBSCRIBED'), { what: 'the slow client to subscribe' });
      const closesBefore = h.api.live.slowConsumerCloses;
      await waitFor(() => h.api.live.slowConsumerCloses > closesBefore, { timeoutMs: 60_000, what: 'the slow socket to be cut off' });
      // Reading again (within the server's grace period) it finds the close frame, code 4008: resume.
      slow.stdin!.write('read now\n');
      await waitFor(() => /CLOSE|EOF/.test(slowOut), { what: 'the slow client to see the close' });
      expect(slowOut).toContain('CLOSE 4008');

      // Meanwhile the run and the healthy socket were not held up.
      const done = await h.waitForStatus(id, ['completed', 'failed'], { timeoutMs: 90_000 });
      expect({ status: done.status, error: done.error }).toEqual({ status: 'completed', error: null });
      await healthy.waitForEvent(id, 'run.completed', 60_000);
      expect(healthy.events(id)).toEqual(await h.events(id));
      expect(healthy.violations).toEqual([]);
    } finally {
      slow.kill('SIGKILL');
    }
  });

  it('terminates sockets that stop answering pings', async () => {
    const pinging = await startHarness({ noWorker: true, env: { WS_PING_INTERVAL_SEC: '1' } });
    try {
      const silent = await LiveClient.connect(wsUrl(pinging.api.url), { autoPong: false });
      const alive = await LiveClient.connect(wsUrl(pinging.api.url));
      let pingsAnswered = 0;
      alive.ws.on('ping', () => (pingsAnswered += 1));
      const closed = await silent.closed;
      expect(closed.code).toBe(1006); // terminated, not closed politely
      // More ping rounds: a peer that answers stays.
      const answeredBefore = pingsAnswered;
      await waitFor(() => pingsAnswered >= answeredBefore + 2, { timeoutMs: 10_000, what: 'two more ping rounds' });
      expect(alive.ws.readyState).toBe(alive.ws.OPEN);
      alive.close();
      // SSE keeps idle streams open with comments on the same beat.
      const id = await pinging.createRun({ goal: 'idle', model: 'demo' });
      const res = await fetch(`${pinging.api.url}/api/runs/${id}/stream`);
      const reader = res.body!.getReader();
      let text = '';
      while (!text.includes(': keep-alive')) text += new TextDecoder().decode((await reader.read()).value);
      await reader.cancel();
    } finally {
      await pinging.close();
    }
  });

  describe('SSE', () => {
    function sse(path: string, headers: Record<string, string>): Promise<{ status: number; text: () => string; close: () => void }> {
      return new Promise((resolve, reject) => {
        const req = http.get(`${h.api.url}${path}`, { headers }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          resolve({ status: res.statusCode!, text: () => text, close: () => req.destroy() });
        });
        req.on('error', reject);
      });
    }
    const eventsIn = (text: string) =>
      text
        .split('\n\n')
        .filter((block) => block.includes('event: event'))
        .map((block) => ({ id: Number(/^id: (\d+)$/m.exec(block)![1]), data: JSON.parse(/^data: (.*)$/m.exec(block)![1]!) }));

    it('resumes from Last-Event-ID (or ?after=), with ids equal to seqs', async () => {
      fake.script('[sse]', () => ({ text: 'sse answer', chunkChars: 3 }));
      const id = await h.createRun({ goal: 'SSE [sse]', approvals: 'none' });
      await h.waitForStatus(id, 'completed');
      const stored = await h.events(id);
      const s = await sse(`/api/runs/${id}/stream`, { authorization: `Bearer ${ALICE}`, 'last-event-id': '3' });
      expect(s.status).toBe(200);
      await waitFor(() => eventsIn(s.text()).length === stored.length - 3, { what: 'the SSE events' });
      const got = eventsIn(s.text());
      expect(got.map((e) => e.id)).toEqual(stored.slice(3).map((e) => e.seq));
      expect(got.map((e) => e.data.event)).toEqual(stored.slice(3));
      expect(s.text()).toMatch(/^retry: 2000/);
      expect(s.text()).toContain('event: snapshot');
      s.close();

      const viaQuery = await sse(`/api/runs/${id}/stream?after=${stored.length - 1}`, { authorization: `Bearer ${ALICE}` });
      await waitFor(() => eventsIn(viaQuery.text()).length === 1, { what: 'the last event' });
      viaQuery.close();
    });

    it('uses the same auth: token or ticket, and only for visible runs', async () => {
      const id = await h.createRun({ goal: 'SSE auth [sse]', approvals: 'none' });
      expect((await sse(`/api/runs/${id}/stream`, {})).status).toBe(401);
      const other = await sse(`/api/runs/${id}/stream`, { authorization: `Bearer ${BOB}` });
      expect(other.status).toBe(404);
      const { body } = await h.request('POST', '/api/ws-ticket');
      const viaTicket = await sse(`/api/runs/${id}/stream?ticket=${body.ticket}`, {});
      expect(viaTicket.status).toBe(200);
      viaTicket.close();
      expect((await sse(`/api/runs/${id}/stream?ticket=${body.ticket}`, {})).status).toBe(401);
      expect((await sse(`/api/runs/${id}/stream?after=-4`, { authorization: `Bearer ${ALICE}` })).status).toBe(400);
    });
  });
});
