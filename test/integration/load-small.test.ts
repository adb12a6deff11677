/**
 * Issue 26's workload at a scale that fits CI: 100 runs streaming at once through the fake Messages
 * API (real SDK, paced streams, tools that take their time) while runs wait for an approval or a
 * question, which the test then gives through the API. Behaviour only, no timings (the `load` bench
 * measures): every run completes, once; every turn's model call is in the ledger once; events have
 * no gaps; sockets watching runs see every token, in order, once; a run waiting for a person holds
 * no activity.
 */
import { LOAD_MARKER, QUICK_LOAD, loadGoal, loadMarkerOf, loadTurns, scriptLoad, type LoadRunKind } from '../support/agent-load';
import { FakeAnthropic } from '../support/fake-anthropic';
import { startHarness, type Harness } from '../support/harness';
import { LiveClient, wsUrl } from '../support/live-client';
import { seededRandom } from '../support/random';
import { testTools } from '../support/test-tools';
import { waitFor } from '../support/wait';

const SMALL = QUICK_LOAD;
const STREAMING = 100;
const PARKED = 10; // half on approvals, half on questions
const WATCHERS = 10;

describe('load, small', () => {
  const fake = new FakeAnthropic();
  let h: Harness;
  const watchers: LiveClient[] = [];

  beforeAll(async () => {
    await fake.start();
    scriptLoad(fake, SMALL);
    h = await startHarness({
      extraTools: testTools(),
      env: {
        ANTHROPIC_API_KEY: fake.apiKey,
        ANTHROPIC_BASE_URL: fake.url,
        LLM_MODEL: 'claude-sonnet-5-5',
        MAX_CONCURRENT_RUNS_PER_USER: String(STREAMING + PARKED + 10),
        MAX_QUEUED_RUNS_PER_USER: String(STREAMING + PARKED + 10),
        SEGMENT_MAX_TURNS: '1000',
      },
    });
  });
  afterAll(async () => {
    for (const w of watchers) w.terminate();
    await h.close();
    await fake.stop();
  });

  /** Each run's stored events: seq 1…n with no gap or repeat, and one run.completed. */
  async function expectWholeAndOnce(id: string): Promise<void> {
    const events = await h.events(id);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.filter((e) => e.type === 'run.completed')).toHaveLength(1);
  }

  /** One ledger entry per model call the run made (turns 1…n), none beyond. */
  async function expectLedger(id: string, turns: number): Promise<void> {
    for (let turn = 1; turn <= turns; turn++) expect((await h.store.effects.get(`${id}:turn:${turn}:model`))?.status).toBe('completed');
    expect(await h.store.effects.get(`${id}:turn:${turns + 1}:model`)).toBeUndefined();
  }

  it('runs 100 streams at once and parked runs to the end, each once, with nothing lost', async () => {
    // Parked first: runs waiting for people while the streams go on.
    const parked: { id: string; kind: LoadRunKind }[] = [];
    for (let i = 0; i < PARKED; i++) {
      const kind: LoadRunKind = i % 2 === 0 ? 'approval' : 'question';
      parked.push({ id: await h.createRun({ goal: loadGoal(kind, i), approvals: 'write' }), kind });
    }
    let inbox: { kind: string; id: string; runId: string }[] = [];
    await waitFor(
      async () => {
        inbox = (await h.request('GET', '/api/inbox')).body.items;
        return inbox.length === PARKED;
      },
      { timeoutMs: 60_000, what: () => `${PARKED} items in the inbox (have ${inbox.length})` },
    );
    // Waiting for a person holds no activity: once the bookkeeping around the request is done, nothing is pending in
    // Temporal and nothing runs in the worker (a wait inside an activity would keep both above zero for good).
    let pending = -1;
    await waitFor(
      async () => {
        pending = 0;
        for (const p of parked) pending += ((await h.client.workflow.getHandle(p.id).describe()).raw.pendingActivities ?? []).length;
        return pending === 0 && h.worker!.getStatus().numInFlightNonLocalActivities === 0;
      },
      { timeoutMs: 20_000, what: () => `no activity pending for the parked runs (${pending} pending, ${h.worker!.getStatus().numInFlightNonLocalActivities} in the worker)` },
    );

    const streaming = await Promise.all(Array.from({ length: STREAMING }, (_, i) => h.createRun({ goal: loadGoal('streaming', i), approvals: 'none', limits: { maxSteps: 30 } })));
    const random = seededRandom(SMALL.seed);
    for (let w = 0; w < WATCHERS; w++) {
      const client = await LiveClient.connect(wsUrl(h.api.url));
      client.subscribe(streaming[Math.floor(random() * STREAMING)]!, 0);
      watchers.push(client);
    }
    // People answer while the streams run.
    for (const item of inbox) {
      const res =
        item.kind === 'approval'
          ? await h.request('POST', `/api/runs/${item.runId}/approvals/${item.id}`, { body: { decision: 'approve' } })
          : await h.request('POST', `/api/runs/${item.runId}/input`, { body: { text: 'the short way' } });
      expect(res.status).toBe(200);
    }

    const all = [...streaming, ...parked.map((p) => p.id)];
    await Promise.all(all.map((id) => h.client.workflow.getHandle(id).result()));
    for (const id of all) expect((await h.getRun(id)).status).toBe('completed');

    // Every model call the fake answered, per run: each planned turn, and each once unless retried.
    const calls = new Map<string, number[]>();
    for (const r of fake.requestsFor(LOAD_MARKER)) {
      const marker = loadMarkerOf(r.goal)!;
      calls.set(marker, [...(calls.get(marker) ?? []), r.assistantTurns]);
    }
    for (const [i, id] of streaming.entries()) {
      const turns = loadTurns(SMALL, i);
      expect(new Set(calls.get(`load-s${i}`))).toEqual(new Set(Array.from({ length: turns }, (_, t) => t)));
      await expectLedger(id, turns);
      await expectWholeAndOnce(id);
    }
    for (const p of parked) {
      await expectLedger(p.id, 2);
      await expectWholeAndOnce(p.id);
    }

    // Watchers saw every event in order once, and every token of the turns they saw streamed, once.
    for (const client of watchers) {
      const id = (client.messages.find((m) => m.type === 'event') as { runId: string } | undefined)?.runId;
      expect(id).toBeDefined();
      await waitFor(() => client.events(id!).some((e) => e.type === 'run.completed'), { what: `run.completed on a watcher of ${id}` });
      expect(client.violations).toEqual([]);
      const stored = await h.events(id!);
      expect(client.events(id!)).toEqual(stored);
      for (const m of stored.filter((e) => e.type === 'llm.message')) expect(['', m.data.text]).toContain(client.streamed(id!, Number(m.data.turn)));
    }
    // …and they did see tokens streamed (not only whole messages in events).
    expect(watchers.reduce((n, c) => n + c.messages.filter((m) => m.type === 'delta').length, 0)).toBeGreaterThan(0);
  }, 240_000);
});
