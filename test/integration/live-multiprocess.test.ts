/**
 * Live updates when the API is not the worker's process: on SQLite the API tails the database; on
 * Postgres API replicas LISTEN. An API process killed mid-run loses nothing: clients reconnect to
 * another and resume. Two API replicas on Postgres each serve every event of a run. A worker sends no deltas of
 * a run nobody watches; a socket that arrives mid-stream still gets all of its text.
 */
import { DELTAS_CHANNEL } from '../../shared/bus/postgres-bus';
import { FakeAnthropic } from '../support/fake-anthropic';
import { startHarness, type Harness } from '../support/harness';
import { LiveClient, wsUrl } from '../support/live-client';
import { freePort } from '../support/ports';
import { startApiProcess, startWorkerProcess, type ChildHandle } from '../support/processes';
import { waitFor } from '../support/wait';

describe('live updates across processes', () => {
  const fake = new FakeAnthropic();
  const children: ChildHandle[] = [];
  const clients: LiveClient[] = [];

  beforeAll(() => fake.start());
  afterAll(async () => {
    for (const c of clients) c.terminate();
    for (const c of children) await c.kill('SIGKILL');
    await fake.stop();
  });

  async function api(env: Record<string, string>): Promise<string> {
    const port = await freePort();
    children.push(await startApiProcess({ ...env, PORT: String(port) }));
    return `http://127.0.0.1:${port}`;
  }
  async function connect(url: string): Promise<LiveClient> {
    const c = await LiveClient.connect(wsUrl(url));
    clients.push(c);
    return c;
  }

  function streamingScript(marker: string) {
    fake.script(marker, (req) =>
      req.assistantTurns < 2
        ? { text: `Step ${req.assistantTurns}: working through it carefully, token by token. `.repeat(3), chunkChars: 6, delayMs: 30, toolUses: [{ name: 'workspace_list', input: {} }] }
        // Long enough (about 5 s) to still be streaming when a client resumes on a freshly started API process.
        : { text: 'All done; here is the summary of everything, streamed. '.repeat(18), chunkChars: 6, delayMs: 30 },
    );
  }

  describe('on SQLite', () => {
    let h: Harness;
    beforeAll(async () => {
      h = await startHarness({ noWorker: true, env: { ANTHROPIC_API_KEY: fake.apiKey, ANTHROPIC_BASE_URL: fake.url, LLM_MODEL: 'claude-sonnet-5-5' } });
    });
    afterAll(() => h.close());

    it('lets clients resume on another API process after theirs is killed mid-run', async () => {
      streamingScript('[api-restart]');
      children.push(await startWorkerProcess(h.env, { plain: true }));
      const first = await api(h.env);
      const client = await connect(first);
      client.watchRuns(); // the runs feed, tailed from the database: it hears of a run another process created
      const id = await h.createRun({ goal: 'Keep going [api-restart]', approvals: 'none' });
      await waitFor(() => client.runChanges(id).length > 0, { what: 'the runs feed to announce the new run' });
      client.subscribe(id, 0);
      await client.waitForMessage((m) => m.type === 'delta' && m.turn === 2 && m.offset > 30, 'turn 2 mid-stream', 60_000);
      const apiProcess = children.find((c) => c.output().includes('API listening'))!;
      await apiProcess.kill('SIGKILL');
      await client.closed;
      const seenBefore = client.events(id);

      const second = await api(h.env);
      const resumed = await connect(second);
      resumed.subscribe(id, client.seq(id));
      await resumed.waitForEvent(id, 'run.completed', 60_000);
      const stored = await h.events(id);
      expect([...seenBefore, ...resumed.events(id)].map((e) => e.seq)).toEqual(stored.map((e) => e.seq));
      expect(resumed.events(id)).toEqual(stored.slice(seenBefore.length));
      const final = stored.filter((e) => e.type === 'llm.message').at(-1)!;
      expect(resumed.streamed(id, Number(final.data.turn))).toBe(final.data.text);
      expect(resumed.violations).toEqual([]);
    });
  });

  describe('on Postgres', () => {
    let h: Harness;
    beforeAll(async () => {
      h = await startHarness({ noWorker: true, database: 'postgres', env: { ANTHROPIC_API_KEY: fake.apiKey, ANTHROPIC_BASE_URL: fake.url, LLM_MODEL: 'claude-sonnet-5-5' } });
    });
    afterAll(async () => {
      for (const c of children.splice(0)) await c.kill('SIGKILL');
      await h.close();
    });

    it('serves every event (and every token) of a run to sockets on two API replicas', async () => {
      streamingScript('[replicas]');
      children.push(await startWorkerProcess(h.env, { plain: true }));
      const [a, b] = [await api(h.env), await api(h.env)];
      const onA = await connect(a);
      const onB = await connect(b);
      onA.watchRuns();
      onB.watchRuns();
      const id = await h.createRun({ goal: 'Two replicas [replicas]', approvals: 'none' });
      onA.subscribe(id, 0);
      onB.subscribe(id, 0);
      await onA.waitForEvent(id, 'run.completed', 60_000);
      await onB.waitForEvent(id, 'run.completed', 60_000);
      // The runs feed on each replica (NOTIFY) told of the run from creation to its end.
      for (const client of [onA, onB]) await waitFor(() => client.runChanges(id).at(-1) === 'completed', { what: 'the runs feed to report the run completed' });
      const stored = await h.events(id);
      expect(onA.events(id)).toEqual(stored);
      expect(onB.events(id)).toEqual(stored);
      // Tokens crossed processes too (NOTIFY): the last message, streamed well after both sockets
      // were live, arrived token by token on each replica. (A message that finished while a socket
      // was still catching up arrives whole, in its llm.message event, instead.)
      const messages = stored.filter((e) => e.type === 'llm.message');
      for (const client of [onA, onB]) {
        const last = messages.at(-1)!;
        expect(client.streamed(id, Number(last.data.turn))).toBe(last.data.text);
        for (const m of messages) expect(['', m.data.text]).toContain(client.streamed(id, Number(m.data.turn)));
        expect(client.messages.filter((m) => m.type === 'delta').length).toBeGreaterThan(5);
      }
      expect([...onA.violations, ...onB.violations]).toEqual([]);
    });

    it('sends no deltas of a run nobody watches; a socket that arrives mid-stream gets the text so far, then every delta', async () => {
      const text = 'Streamed to nobody at first, then to somebody who arrived. '.repeat(50); // ~15 s at 6 characters per 30 ms
      fake.script('[unwatched]', () => ({ text, chunkChars: 6, delayMs: 30 }));
      children.push(await startWorkerProcess(h.env, { plain: true }));
      const url = await api(h.env);
      const streamedByFake = () => fake.requestsFor('[unwatched]')[0]?.streamedChars ?? 0;
      // Every delta the worker NOTIFYs, by run: how far the fake had streamed when it arrived.
      const notified = new Map<string, number[]>();
      const listener = await h.store.opened.pool!.connect();
      listener.on('notification', (n) => {
        const msg = JSON.parse(n.payload ?? '{}') as { type?: string; runId: string };
        if (msg.type === 'delta') notified.set(msg.runId, [...(notified.get(msg.runId) ?? []), streamedByFake()]);
      });
      await listener.query(`LISTEN ${DELTAS_CHANNEL}`);
      try {
        const id = await h.createRun({ goal: 'Nobody watches at first [unwatched]', approvals: 'none' });
        // Once the worker has seen (presence, twice) that nobody watches, it stops sending deltas while the model streams on.
        await waitFor(() => streamedByFake() >= (notified.get(id)?.at(-1) ?? 0) + 300, { what: '300 characters streamed with no delta sent', timeoutMs: 30_000 });
        const sentWhileUnwatched = notified.get(id)?.length ?? 0;
        const arrivedAt = streamedByFake();
        expect(arrivedAt).toBeLessThan(text.length / 2); // the socket arrives mid-stream

        const client = await connect(url);
        client.subscribe(id, 0);
        await client.waitForEvent(id, 'run.completed', 60_000);
        const stored = await h.events(id);
        expect(client.events(id)).toEqual(stored);
        const message = stored.find((e) => e.type === 'llm.message')!;
        expect(message.data.text).toBe(text);
        // The whole text, no gap, no repeat, in order (LiveClient checks each delta's offset)…
        expect(client.streamed(id, Number(message.data.turn))).toBe(text);
        expect(client.violations).toEqual([]);
        // …and live: the worker sends deltas again once it knows of the socket, and they reach it before the message ends.
        expect((notified.get(id)?.length ?? 0) - sentWhileUnwatched).toBeGreaterThan(5);
        const beforeTheEnd = client.messages.slice(0, client.messages.findIndex((m) => m.type === 'event' && m.event.type === 'llm.message'));
        expect(beforeTheEnd.filter((m) => m.type === 'delta' && m.runId === id).length).toBeGreaterThan(5);
      } finally {
        listener.release();
      }
    });

    it('keeps serving a run when the API loses its LISTEN connection mid-stream', async () => {
      streamingScript('[listen-cut]');
      children.push(await startWorkerProcess(h.env, { plain: true }));
      const client = await connect(await api(h.env));
      const apiProcess = children.at(-1)!;
      const id = await h.createRun({ goal: 'Lose the listener [listen-cut]', approvals: 'none' });
      client.subscribe(id, 0);
      await client.waitForMessage((m) => m.type === 'delta' && m.turn === 1 && m.offset > 30, 'turn 1 mid-stream', 60_000);

      // Cut every LISTEN connection to this database, as a Postgres restart or a network blip would.
      const pool = h.store.opened.pool!;
      const listening = `select pid from pg_stat_activity where datname = current_database() and query like 'LISTEN %'`;
      const cut = (await pool.query<{ pid: number }>(listening)).rows.map((r) => r.pid);
      expect(cut.length).toBeGreaterThan(0);
      await pool.query('select pg_terminate_backend(pid) from unnest($1::int[]) as pid', [cut]);
      await waitFor(() => apiProcess.output().includes('LISTEN connection lost'), { what: 'the API to notice the cut' });
      await waitFor(async () => (await pool.query<{ pid: number }>(listening)).rows.filter((r) => !cut.includes(r.pid)).length >= cut.length, {
        what: 'the listeners to reconnect',
      });

      await client.waitForEvent(id, 'run.completed', 60_000);
      const stored = await h.events(id);
      expect(client.events(id)).toEqual(stored);
      const last = stored.filter((e) => e.type === 'llm.message').at(-1)!;
      expect(client.streamed(id, Number(last.data.turn))).toBe(last.data.text);
      expect(client.violations).toEqual([]);
    });
  });
});
