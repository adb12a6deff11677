/** The store behaves the same on SQLite and on Postgres: one query layer, one set of migrations. */
import os from 'node:os';
import pg from 'pg';
import { createStore, type Store, type WriteWithEvent } from '../../shared/store';
import { EVENTS_CHANNEL, EventsRepo, UnknownRunError } from '../../shared/store/events';
import { insertRunsWithFirstEvents } from '../../shared/store/runs-with-first-events';
import { listTables } from '../../shared/store/migrations';
import { openTestStore } from '../support/test-store';
import { waitFor } from '../support/wait';
import type { EventDraft } from '../../contract/events';

/** A small, well-formed event for tests that only care about keys and seq. */
const retryEvent = (key: string, attempt: number): EventDraft => ({ key, type: 'llm.retry', data: { turn: 1, attempt } });

/**
 * Round trips to Postgres from here on: a statement with parameters ends in a Sync, one without (`begin`, `commit`)
 * is a simple query; counted on node-postgres's connection, beneath the store's own wrapping of each client.
 */
function roundTrips(): { count: () => number; restore: () => void } {
  const spies = [jest.spyOn(pg.Connection.prototype, 'sync'), jest.spyOn(pg.Connection.prototype, 'query')];
  return { count: () => spies.reduce((n, s) => n + s.mock.calls.length, 0), restore: () => spies.forEach((s) => s.mockRestore()) };
}

const limits = { maxSteps: 10, maxCostUsd: 1, maxDurationSec: 60 };
const newRun = (id: string, owner = 'alice', idempotencyKey?: string) => ({
  id,
  owner,
  goal: `goal of ${id}`,
  model: 'demo',
  approvals: 'write' as const,
  limits,
  idempotencyKey,
});

describe.each(['sqlite', 'postgres'] as const)('store on %s', (dialect) => {
  let store: Store;
  let close: () => Promise<void>;
  let databaseUrl: string | undefined;

  beforeAll(async () => {
    ({ store, close, databaseUrl } = await openTestStore(dialect));
  });
  afterAll(() => close());

  it('migrates to the same tables', async () => {
    expect(store.dialect).toBe(dialect);
    expect(await listTables(store.db as never)).toEqual(expect.arrayContaining(['effects', 'events', 'messages', 'runs']));
  });

  it('inserts a run once per (owner, idempotency key)', async () => {
    const a = await store.runs.insert(newRun('run_a', 'alice', 'k1'));
    const again = await store.runs.insert(newRun('run_a2', 'alice', 'k1'));
    const bob = await store.runs.insert(newRun('run_b', 'bob', 'k1'));
    const noKey1 = await store.runs.insert(newRun('run_n1', 'alice'));
    const noKey2 = await store.runs.insert(newRun('run_n2', 'alice'));
    expect([a.created, again.created, bob.created, noKey1.created, noKey2.created]).toEqual([true, false, true, true, true]);
    expect(again.run.id).toBe('run_a');
    expect(a.run).toMatchObject({ status: 'queued', owner: 'alice', limits, lastSeq: 0, usage: { inputTokens: 0, outputTokens: 0, costUsd: 0 } });
  });

  it('queues at most the cap of runs per owner under 40 concurrent callers, and replays a known key whatever the cap', async () => {
    const queued = { key: 'queued', type: 'run.queued', data: { goal: 'g', model: 'demo', approvals: 'write', limits } } as const;
    const tries = await Promise.all(Array.from({ length: 40 }, (_, i) => store.queueRun(newRun(`run_cap${i}`, 'capped', `cap-${i}`), 3, [queued])));
    const accepted = tries.filter((t) => 'run' in t);
    expect(accepted).toHaveLength(3);
    expect(tries.filter((t) => 'queueFull' in t).map((t) => ('queueFull' in t ? t.queueFull : -1))).toEqual(Array(37).fill(3));
    expect(await store.runs.countQueued('capped')).toBe(3);
    for (const t of accepted) expect('run' in t && t.events.map((e) => [e.seq, e.type])).toEqual([[1, 'run.queued']]);
    // A caller repeating an accepted request gets its run back, although the queue is full now.
    const first = accepted[0]!;
    const key = 'run' in first ? first.run.idempotencyKey! : '';
    const replay = await store.queueRun(newRun('run_cap_again', 'capped', key), 3, [queued]);
    expect(replay).toMatchObject({ created: false, events: [], run: { idempotencyKey: key } });
    // Another owner's queue is its own.
    expect(await store.queueRun(newRun('run_other', 'uncapped'), 3, [queued])).toMatchObject({ created: true });
  });

  it("writes one owner's concurrent starts together: a few transactions, not one each (issue 26, the start storm)", async () => {
    const queued = { key: 'queued', type: 'run.queued', data: { goal: 'g', model: 'demo', approvals: 'write', limits } } as const;
    const transactions = jest.spyOn(store, 'transaction');
    try {
      const tries = await Promise.all(Array.from({ length: 40 }, (_, i) => store.queueRun(newRun(`run_storm${i}`, 'stormy'), 100, [queued])));
      expect(tries.every((t) => 'run' in t && t.created && t.events.length === 1)).toBe(true);
      // The first start goes alone; the 39 that came while it was written wait and go as one batch (at most 50).
      expect(transactions.mock.calls.length).toBeLessThanOrEqual(2);
    } finally {
      transactions.mockRestore();
    }
    expect(await store.runs.countQueued('stormy')).toBe(40);
    // A batched run is as one queued alone: its event at seq 1, counted on the run.
    expect(await store.events.list('run_storm39', { after: 0, limit: 10 })).toMatchObject([{ seq: 1, type: 'run.queued' }]);
    expect(await store.runs.get('run_storm39')).toMatchObject({ lastSeq: 1, status: 'queued' });
  });

  it("writes many owners' concurrent starts together, each owner's cap and keys its own (issue 26, the storm over many owners)", async () => {
    const queued = { key: 'queued', type: 'run.queued', data: { goal: 'g', model: 'demo', approvals: 'write', limits } } as const;
    const owners = Array.from({ length: 8 }, (_, k) => `many-${k}`);
    const transactions = jest.spyOn(store, 'transaction');
    let tries;
    try {
      // Five starts of each of eight owners, interleaved, with a cap of three; each owner's first two use the key
      // `shared` (one run per owner), and the first start of all goes alone before the batch.
      tries = await Promise.all(
        Array.from({ length: 40 }, (_, i) => {
          const owner = owners[i % 8]!;
          return store.queueRun(newRun(`run_many${i}`, owner, i < 16 ? 'shared' : undefined), 3, [queued]);
        }),
      );
      expect(transactions.mock.calls.length).toBeLessThanOrEqual(2);
    } finally {
      transactions.mockRestore();
    }
    for (const [k, owner] of owners.entries()) {
      const answers = tries.filter((_, i) => i % 8 === k).map((t) => ('run' in t ? { id: t.run.id, created: t.created } : t));
      // The key's second use replays the first; the cap counts the owner's own runs only.
      expect(answers).toEqual([
        { id: `run_many${k}`, created: true },
        { id: `run_many${k}`, created: false },
        { id: `run_many${k + 16}`, created: true },
        { id: `run_many${k + 24}`, created: true },
        { queueFull: 3 },
      ]);
      expect(await store.runs.countQueued(owner)).toBe(3);
    }
  });

  if (dialect === 'postgres') {
    it("writes two processes' batches of the same owners at once without either waiting on the other for ever", async () => {
      const other = await createStore({ dataDir: os.tmpdir(), databaseUrl });
      const queued = { key: 'queued', type: 'run.queued', data: { goal: 'g', model: 'demo', approvals: 'write', limits } } as const;
      const owners = Array.from({ length: 12 }, (_, k) => `both-${k}`);
      const spies = [jest.spyOn(store, 'transaction'), jest.spyOn(other, 'transaction')];
      try {
        // Each process's batch takes the same twelve owners' locks, named in opposite orders: taken in one order, by id.
        const tries = await Promise.all([
          ...Array.from({ length: 24 }, (_, i) => store.queueRun(newRun(`run_both_a${i}`, owners[i % 12]!), 100, [queued])),
          ...Array.from({ length: 24 }, (_, i) => other.queueRun(newRun(`run_both_b${i}`, owners[11 - (i % 12)]!), 100, [queued])),
        ]);
        expect(tries.every((t) => 'run' in t && t.created)).toBe(true);
        // No batch failed (a deadlock fails one, and its starts are written again one at a time).
        for (const spy of spies) expect(spy.mock.calls.length).toBeLessThanOrEqual(2);
      } finally {
        spies.forEach((s) => s.mockRestore());
        await other.close();
      }
      for (const owner of owners) expect(await store.runs.countQueued(owner)).toBe(4);
    });
  }

  it('fails only the start that cannot be written when its batch fails, and replays a key within a batch', async () => {
    const queued = { key: 'queued', type: 'run.queued', data: { goal: 'g', model: 'demo', approvals: 'write', limits } } as const;
    const unwritable = { key: 'queued', type: 'run.queued', data: { goal: 'g', model: 'demo', approvals: 'write', limits, n: 1n } } as unknown as EventDraft; // JSON cannot hold a BigInt
    const tries = await Promise.allSettled([
      store.queueRun(newRun('run_b0', 'batchy'), 100, [queued]),
      store.queueRun(newRun('run_b1', 'batchy', 'same-key'), 100, [queued]),
      store.queueRun(newRun('run_b2', 'batchy'), 100, [unwritable]),
      store.queueRun(newRun('run_b3', 'batchy', 'same-key'), 100, [queued]),
      store.queueRun(newRun('run_b4', 'batchy'), 100, [queued]),
    ]);
    expect(tries.map((t) => t.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    const value = (i: number) => (tries[i] as PromiseFulfilledResult<Awaited<ReturnType<Store['queueRun']>>>).value;
    // The two of one key: one run, whichever was written first (retried alone, they race as any two requests do).
    const keyed = [value(1), value(3)].map((v) => ('run' in v ? { id: v.run.id, created: v.created } : undefined));
    expect(keyed[0]!.id).toBe(keyed[1]!.id);
    expect(keyed.filter((k) => k!.created)).toHaveLength(1);
    expect(await store.runs.get('run_b2')).toBeUndefined();
    expect(await store.runs.countQueued('batchy')).toBe(3);
  });

  it('answers a key used twice within one clean batch with one run, written for the first', async () => {
    const queued = { key: 'queued', type: 'run.queued', data: { goal: 'g', model: 'demo', approvals: 'write', limits } } as const;
    const transactions = jest.spyOn(store, 'transaction');
    let tries;
    try {
      // The first goes alone; the three that come while it is written go as one batch, which commits.
      tries = await Promise.all([
        store.queueRun(newRun('run_k0', 'keyed'), 100, [queued]),
        store.queueRun(newRun('run_k1', 'keyed', 'twice'), 100, [queued]),
        store.queueRun(newRun('run_k2', 'keyed', 'twice'), 100, [queued]),
        store.queueRun(newRun('run_k3', 'keyed'), 100, [queued]),
      ]);
      expect(transactions.mock.calls.length).toBe(2);
    } finally {
      transactions.mockRestore();
    }
    const answers = tries.map((t) => ('run' in t ? { id: t.run.id, created: t.created, events: t.events.length } : t));
    expect(answers).toEqual([
      { id: 'run_k0', created: true, events: 1 },
      { id: 'run_k1', created: true, events: 1 },
      { id: 'run_k1', created: false, events: 0 },
      { id: 'run_k3', created: true, events: 1 },
    ]);
    expect(await store.runs.get('run_k2')).toBeUndefined();
    expect(await store.runs.countQueued('keyed')).toBe(3);
  });

  it('queues a start in five round trips on Postgres (its run, event and NOTIFY in one statement), unless a first event owes a webhook delivery', async () => {
    const queued = { key: 'queued', type: 'run.queued', data: { goal: 'g', model: 'demo', approvals: 'write', limits } } as const;
    const stalled = { key: 'stalled', type: 'run.stalled', data: { lastProgressAt: '2026-01-01T00:00:00.000Z', minutes: 3 } } as const;
    const heard: unknown[] = [];
    const listener = dialect === 'postgres' ? new pg.Client({ connectionString: databaseUrl }) : undefined;
    if (listener) {
      await listener.connect();
      listener.on('notification', (n) => heard.push(JSON.parse(n.payload!)));
      await listener.query(`LISTEN ${EVENTS_CHANNEL}`);
    }
    try {
      const trips = roundTrips();
      const alone = await store.queueRun(newRun('run_trips', 'trips'), 100, [queued]);
      const count = trips.count();
      trips.restore();
      // Begin, the owner's queue lock, its count, the run with its event and NOTIFY, commit.
      if (dialect === 'postgres') expect(count).toBe(5);
      expect(alone).toMatchObject({ created: true, events: [{ seq: 1, type: 'run.queued' }] });
      expect(await store.events.list('run_trips', { after: 0, limit: 10 })).toMatchObject([{ seq: 1, type: 'run.queued' }]);
      expect(await store.runs.get('run_trips')).toMatchObject({ lastSeq: 1, status: 'queued' });

      // A run with webhooks (the deployment's are on every run) whose first events owe no delivery: the same.
      const webhooks = { to: [{ url: 'https://hooks.example/a' }], publicUrl: null };
      const hookedTrips = roundTrips();
      expect(await store.queueRun({ ...newRun('run_trips_hooked', 'trips'), webhooks }, 100, [queued])).toMatchObject({ created: true });
      const hookedCount = hookedTrips.count();
      hookedTrips.restore();
      if (dialect === 'postgres') expect(hookedCount).toBe(5);
      expect(await store.webhooks.listForRun('run_trips_hooked')).toEqual([]);

      // A first event a webhook is sent for has its delivery written with it (one statement could not).
      const owing = await store.queueRun({ ...newRun('run_trips_owing', 'trips'), webhooks }, 100, [queued, stalled]);
      expect(owing).toMatchObject({ created: true, events: [{ seq: 1 }, { seq: 2 }] });
      expect((await store.webhooks.listForRun('run_trips_owing')).map((d) => [d.seq, d.event])).toEqual([[2, 'run.stalled']]);
      expect(await store.runs.get('run_trips_owing')).toMatchObject({ lastSeq: 2 });

      // A run whose key another writer took is left out of the statement with its events (and its NOTIFY).
      await store.runs.insert(newRun('run_trips_first', 'trips', 'taken'));
      const writes = [newRun('run_trips_late', 'trips', 'taken'), newRun('run_trips_beside', 'trips')].map((run) => ({ run, events: EventsRepo.firstEvents([queued]) }));
      const written = await store.transaction((tx) => insertRunsWithFirstEvents(tx, writes));
      expect(written.map((r) => r.id)).toEqual(['run_trips_beside']);
      expect(await store.runs.get('run_trips_late')).toBeUndefined();
      expect(await store.events.list('run_trips_late', { after: 0, limit: 10 })).toEqual([]);
      expect(await store.events.list('run_trips_beside', { after: 0, limit: 10 })).toMatchObject([{ seq: 1, type: 'run.queued' }]);

      // Each run's NOTIFY names its last event, as an append's does. One transaction's come together, at its commit.
      const wanted = [
        { runId: 'run_trips', seq: 1 },
        { runId: 'run_trips_hooked', seq: 1 },
        { runId: 'run_trips_owing', seq: 2 },
        { runId: 'run_trips_beside', seq: 1 },
      ];
      if (listener) {
        await waitFor(() => wanted.every((w) => heard.some((h) => JSON.stringify(h) === JSON.stringify(w))), { what: `every NOTIFY, heard ${JSON.stringify(heard)}` });
        expect(heard.filter((h) => (h as { runId: string }).runId === 'run_trips_late')).toEqual([]);
      }
    } finally {
      await listener?.end();
    }
  });

  it('appends events with gap-free seq from 1, once per key, even under concurrent appenders', async () => {
    await store.runs.insert(newRun('run_ev'));
    const first = await store.events.append('run_ev', [
      retryEvent('a', 1),
      retryEvent('b', 2),
    ]);
    expect(first.map((e) => e.seq)).toEqual([1, 2]);
    const repeat = await store.events.append('run_ev', [
      retryEvent('b', 2),
      { key: 'c', type: 'run.stalled', data: { lastProgressAt: '2026-01-01T00:00:00.000Z', minutes: 3 } },
      { key: 'c', type: 'run.stalled', data: { lastProgressAt: '2026-01-01T00:00:00.000Z', minutes: 3 } },
    ]);
    expect(repeat.map((e) => [e.seq, e.type])).toEqual([[3, 'run.stalled']]);

    await Promise.all(
      Array.from({ length: 40 }, (_, i) => store.events.append('run_ev', [retryEvent(`p${i % 20}`, i)])),
    );
    const all = await store.events.list('run_ev', { after: 0, limit: 1000 });
    expect(all.map((e) => e.seq)).toEqual(Array.from({ length: 23 }, (_, i) => i + 1));
    expect(await store.events.lastSeq('run_ev')).toBe(23);
    expect((await store.events.list('run_ev', { after: 20, limit: 2 })).map((e) => e.seq)).toEqual([21, 22]);
    await expect(store.events.append('run_missing', [retryEvent('x', 1)])).rejects.toBeInstanceOf(UnknownRunError);
  });

  it('clears the stall flag with any event but a stall report, and writes a run’s webhook deliveries with its event', async () => {
    await store.runs.insert(newRun('run_flag'));
    const stalled = async () => (await store.runs.get('run_flag'))!.stalledSince;
    await store.runs.markStalled('run_flag', '2026-01-01T00:00:00.000Z');
    await store.events.append('run_flag', [{ key: 's1', type: 'run.stalled', data: { lastProgressAt: '2026-01-01T00:00:00.000Z', minutes: 3 } }]);
    expect(await stalled()).toBe('2026-01-01T00:00:00.000Z');
    // A key written before is no progress either: nothing is appended.
    await store.events.append('run_flag', [retryEvent('r1', 1)]);
    await store.runs.markStalled('run_flag', '2026-01-01T00:00:00.000Z');
    expect(await store.events.append('run_flag', [retryEvent('r1', 1)])).toEqual([]);
    expect(await stalled()).toBe('2026-01-01T00:00:00.000Z');
    expect((await store.events.append('run_flag', [retryEvent('r2', 2)])).map((e) => e.seq)).toEqual([3]);
    expect(await stalled()).toBeNull();

    // A run with webhooks: the delivery is the event's outbox row, written with it, once.
    await store.runs.insert({ ...newRun('run_hooked'), webhooks: { to: [{ url: 'https://hooks.example/a' }], publicUrl: null } });
    const completed: EventDraft = { key: 'done', type: 'run.completed', data: { turns: 1, usage: { inputTokens: 1, outputTokens: 1, costUsd: 0 } } };
    expect((await store.events.append('run_hooked', [completed])).map((e) => e.seq)).toEqual([1]);
    expect(await store.events.append('run_hooked', [completed])).toEqual([]);
    expect((await store.webhooks.listForRun('run_hooked')).map((d) => [d.seq, d.event])).toEqual([[1, 'run.completed']]);
  });

  it('writes an answer’s rows with its event or not at all, once per event key, for a run alone and one with webhooks', async () => {
    const usage = { inputTokens: 10, outputTokens: 2, costUsd: 0.25 };
    for (const runId of ['run_with', 'run_with_hooked']) {
      const hooked = runId === 'run_with_hooked';
      await store.runs.insert({ ...newRun(runId, `owner_${runId}`), ...(hooked && { webhooks: { to: [{ url: 'https://hooks.example/a' }], publicUrl: null } }) });
      const ledger = `model:${runId}:1`;
      await store.effects.begin(ledger, { runId, kind: 'model', name: 'demo' });
      const writes: WriteWithEvent[] = [
        { message: { runId, key: 'assistant:1', turn: 1, kind: 'assistant', content: [{ type: 'text', text: 'hi' }] } },
        { message: { runId, key: 'tool_result:t1', turn: 1, kind: 'tool_result', toolUseId: 't1', content: { content: 'ok', isError: false } } },
        { output: { answer: 42 } },
        { usage: { usage, turn: 3 } },
        { modelCall: { key: ledger, runId, model: 'demo', atMs: 1, day: '2026-12-07', usage } },
        { completed: { key: ledger, result: { stopReason: 'end_turn' } } },
      ];
      const answered: EventDraft = { key: 'llm:1', type: 'llm.message', data: { turn: 1, model: 'demo', text: 'hi', toolCalls: [], stopReason: 'end_turn', usage } };
      await store.events.append(runId, [retryEvent('before', 1)]);
      await store.runs.markStalled(runId, '2026-01-01T00:00:00.000Z');

      const trips = roundTrips();
      expect((await store.writeWithEvent(runId, answered, writes)).map((e) => [e.seq, e.type])).toEqual([[2, 'llm.message']]);
      // On Postgres, a run whose events have nothing written with them: the event's own statement, one round trip.
      if (dialect === 'postgres' && !hooked) expect(trips.count()).toBe(1);
      trips.restore();
      // A retry that finds the key written writes nothing: the usage is not counted twice.
      expect(await store.writeWithEvent(runId, answered, writes)).toEqual([]);

      const run = (await store.runs.get(runId))!;
      expect([run.usage, run.turn, run.output, run.stalledSince]).toEqual([usage, 3, { answer: 42 }, null]);
      // Written at once: no order among them (the context orders a turn's messages by turn and tool use, not by id).
      expect((await store.messages.list(runId)).map((m) => [m.key, m.content]).sort()).toEqual([
        ['assistant:1', [{ type: 'text', text: 'hi' }]],
        ['tool_result:t1', { content: 'ok', isError: false }],
      ]);
      expect(await store.effects.get(ledger)).toMatchObject({ status: 'completed', result: { stopReason: 'end_turn' } });
      expect(await store.modelCalls.spentOn(`owner_${runId}`, '2026-12-07')).toBe(0.25);
      expect((await store.events.list(runId, { after: 0, limit: 10 })).map((e) => e.seq)).toEqual([1, 2]);
    }
    await expect(store.writeWithEvent('run_missing', retryEvent('x', 1), [{ output: 1 }])).rejects.toBeInstanceOf(UnknownRunError);
  });

  it('begins a ledger entry with its event in one statement on Postgres, and writes nothing where it cannot', async () => {
    const started = (key: string): EventDraft => ({ key, type: 'tool.started', data: { turn: 1, toolUseId: 't1', name: 'echo', input: {}, risk: 'read' } });
    const entry = (runId: string) => ({ runId, kind: 'tool' as const, name: 'echo' });
    await store.runs.insert(newRun('run_begin'));
    await store.runs.insert({ ...newRun('run_begin_hooked'), webhooks: { to: [{ url: 'https://hooks.example/a' }], publicUrl: null } });
    const eventsOf = async (runId: string) => (await store.events.list(runId, { after: 0, limit: 10 })).map((e) => [e.seq, e.type]);

    const trips = roundTrips();
    const begun = await store.beginWithEvent('tool:a', entry('run_begin'), started('started:a'));
    if (dialect === 'postgres') {
      expect(trips.count()).toBe(1);
      expect(begun?.map((e) => [e.seq, e.type])).toEqual([[1, 'tool.started']]);
      expect(await store.effects.get('tool:a')).toMatchObject({ status: 'started', attempts: 1 });
    } else expect(begun).toBeUndefined(); // SQLite: the caller's transaction, as ever
    trips.restore();

    // Begun before, a run with webhooks, an event written before: nothing written, the caller's transaction decides.
    await store.effects.begin('tool:b', entry('run_begin'));
    await store.events.append('run_begin', [started('started:c')]);
    const before = await eventsOf('run_begin');
    expect(await store.beginWithEvent('tool:b', entry('run_begin'), started('started:b'))).toBeUndefined();
    expect(await store.beginWithEvent('tool:c', entry('run_begin'), started('started:c'))).toBeUndefined();
    expect(await store.beginWithEvent('tool:h', entry('run_begin_hooked'), started('started:h'))).toBeUndefined();
    expect(await eventsOf('run_begin')).toEqual(before);
    expect(await eventsOf('run_begin_hooked')).toEqual([]);
    expect(await store.effects.get('tool:b')).toMatchObject({ status: 'started', attempts: 1 });
    expect(await store.effects.get('tool:c')).toBeUndefined();
    expect(await store.effects.get('tool:h')).toBeUndefined();
  });

  it('rolls back every write of a failed transaction', async () => {
    await store.runs.insert(newRun('run_tx'));
    await expect(
      store.transaction(async (tx) => {
        await tx.events.append('run_tx', [retryEvent('x', 1)]);
        await tx.messages.put({ runId: 'run_tx', key: 'assistant:1', turn: 1, kind: 'assistant', content: [] });
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await store.events.list('run_tx', { after: 0, limit: 10 })).toEqual([]);
    expect(await store.messages.get('run_tx', 'assistant:1')).toBeUndefined();
    expect(await store.events.lastSeq('run_tx')).toBe(0);
  });

  it('stores messages once per key and lists them in order', async () => {
    await store.runs.insert(newRun('run_msg'));
    await store.messages.put({ runId: 'run_msg', key: 'assistant:1', turn: 1, kind: 'assistant', content: [{ type: 'text', text: 'hi' }] });
    await store.messages.put({ runId: 'run_msg', key: 'assistant:1', turn: 1, kind: 'assistant', content: [{ type: 'text', text: 'changed' }] });
    await store.messages.put({ runId: 'run_msg', key: 'tool_result:t1', turn: 1, kind: 'tool_result', toolUseId: 't1', content: { content: 'x', isError: false } });
    const list = await store.messages.list('run_msg');
    expect(list.map((m) => m.key)).toEqual(['assistant:1', 'tool_result:t1']);
    expect(list[0]!.content).toEqual([{ type: 'text', text: 'hi' }]);
    expect((await store.messages.latest('run_msg', 'assistant'))!.key).toBe('assistant:1');
  });

  it('reads a conversation in one statement: the latest summary, and the messages of its recent turns on', async () => {
    await store.runs.insert(newRun('run_conv'));
    const put = (key: string, turn: number, kind: 'assistant' | 'tool_result' | 'summary' | 'user', content: unknown = key) =>
      store.messages.put({ runId: 'run_conv', key, turn, kind, content });
    await put('assistant:1', 1, 'assistant');
    await put('user:1', 2, 'user');
    await put('assistant:2', 2, 'assistant');
    const kinds = ['assistant', 'tool_result', 'user'] as const;
    const keysOf = async () => {
      const read = await store.messages.conversation('run_conv', [...kinds]);
      return { summary: read.summary?.key, rows: read.rows.map((m) => m.key) };
    };
    expect(await keysOf()).toEqual({ summary: undefined, rows: ['assistant:1', 'user:1', 'assistant:2'] });

    await put('summary:1', 2, 'summary', { text: 'so far', throughTurn: 2, recentFromTurn: 1 });
    await put('assistant:3', 3, 'assistant');
    await put('summary:2', 3, 'summary', { text: 'later', throughTurn: 3, recentFromTurn: 2 });
    await put('tool_result:t4', 4, 'tool_result');
    // The latest summary's recent turns (2 on), in the order written; the older summary is not read.
    expect(await keysOf()).toEqual({ summary: 'summary:2', rows: ['user:1', 'assistant:2', 'assistant:3', 'tool_result:t4'] });
    expect((await store.messages.conversation('run_conv', [...kinds])).summary?.content).toEqual({ text: 'later', throughTurn: 3, recentFromTurn: 2 });
  });

  it('keeps the effects ledger: new, then in doubt until completed, then the stored result', async () => {
    await store.runs.insert(newRun('run_fx'));
    const entry = { runId: 'run_fx', kind: 'tool' as const, name: 'http_request' };
    expect(await store.effects.begin('k', entry)).toEqual({ state: 'new' });
    expect(await store.effects.begin('k', entry)).toEqual({ state: 'in_doubt', attempts: 1, attemptsFailed: 0 });
    expect(await store.effects.get('k')).toMatchObject({ status: 'started', attempts: 2 });
    await store.effects.complete('k', { ok: true });
    expect(await store.effects.begin('k', entry)).toEqual({ state: 'completed', result: { ok: true } });
  });

  it('counts the attempts that ended with a known failure, only while the attempt is the latest', async () => {
    await store.runs.insert(newRun('run_fail'));
    const entry = { runId: 'run_fail', kind: 'tool' as const, name: 'http_request' };
    expect(await store.effects.begin('kf', entry)).toEqual({ state: 'new' });
    await store.effects.attemptFailed('kf', 1, 1);
    expect(await store.effects.begin('kf', entry)).toEqual({ state: 'in_doubt', attempts: 1, attemptsFailed: 1 });
    // Attempt 2 runs; a late word from attempt 1 (overtaken) changes nothing.
    await store.effects.attemptFailed('kf', 1, 5);
    expect(await store.effects.begin('kf', entry)).toEqual({ state: 'in_doubt', attempts: 2, attemptsFailed: 1 });
    await store.effects.attemptFailed('kf', 3, 2);
    expect(await store.effects.begin('kf', entry)).toEqual({ state: 'in_doubt', attempts: 3, attemptsFailed: 2 });
  });

  it('spends an approved decision once, however many attempts try at the same time; never a pending one', async () => {
    await store.runs.insert(newRun('run_spend'));
    const now = new Date().toISOString();
    const approval = (id: string) => ({ id, runId: 'run_spend', kind: 'effect_in_doubt' as const, turn: 1, toolUseId: 'toolu_1', tool: 'note', reason: 'r', requestedAt: now, expiresAt: now });
    await store.approvals.insert(approval('apr_use_1'));
    await store.approvals.insert(approval('apr_use_2'));
    expect(await store.approvals.use('apr_use_1')).toBe(false); // still pending
    await store.approvals.settle('apr_use_1', { outcome: 'approved', by: 'alice', channel: 'api' });
    await store.approvals.settle('apr_use_2', { outcome: 'rejected', by: 'alice', channel: 'api' });
    expect((await Promise.all([1, 2, 3, 4].map(() => store.approvals.use('apr_use_1')))).filter(Boolean)).toHaveLength(1);
    expect(await store.approvals.use('apr_use_1')).toBe(false);
    expect(await store.approvals.use('apr_use_2')).toBe(false); // rejected
  });

  it('lists an owner’s runs newest first with keyset pagination and status filters', async () => {
    for (let i = 0; i < 5; i++) {
      await store.runs.insert(newRun(`run_page_${i}`, 'pager'));
      await new Promise((r) => setTimeout(r, 3));
    }
    await store.runs.updateState('run_page_1', { status: 'completed', ended: true });
    const page1 = await store.runs.list({ owner: 'pager', limit: 2 });
    const last = page1[1]!;
    const page2 = await store.runs.list({ owner: 'pager', limit: 2, before: { createdAt: last.createdAt, id: last.id } });
    expect([...page1, ...page2].map((r) => r.id)).toEqual(['run_page_4', 'run_page_3', 'run_page_2', 'run_page_1']);
    expect((await store.runs.list({ owner: 'pager', limit: 10, statuses: ['completed'] })).map((r) => r.id)).toEqual(['run_page_1']);
  });

  it('adds usage atomically', async () => {
    await store.runs.insert(newRun('run_use'));
    await Promise.all([1, 2, 3].map((t) => store.runs.addUsage('run_use', { inputTokens: 10, outputTokens: 1, costUsd: 0.5 }, t)));
    expect((await store.runs.get('run_use'))!.usage).toEqual({ inputTokens: 30, outputTokens: 3, costUsd: 1.5 });
  });
});
