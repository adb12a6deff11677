/**
 * Streamed text is published in batches, not per delta (issue 26: publishing per delta was most of a worker's
 * CPU per streamed token): a model call's deltas within DELTA_BATCH_MS go as one, and a worker's NOTIFY carries
 * every run's deltas of its window merged per run. Offsets stay exact: no gap, no repeat, in order.
 */
import { DELTA_BATCH_CHARS, DELTA_BATCH_MS, createDeltaStream } from '../../activities/model/delta-stream';
import type { BusMessage, DeltaMessage } from '../../shared/bus/bus';
import { CrossProcessBus } from '../../shared/bus/cross-process-bus';
import { createLogger } from '../../shared/logger';
import type { Store } from '../../shared/store';
import { coalesce, NOTIFY_BATCH_MS, PostgresBus } from '../../shared/bus/postgres-bus';
import { WATCH_CHECK_MS } from '../../shared/bus/live-text-writer';

describe('a model call’s delta stream', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  function collect() {
    const batches: { offset: number; text: string }[] = [];
    const stream = createDeltaStream((offset, text) => batches.push({ offset, text }));
    const text = () => batches.map((b) => b.text).join('');
    const contiguous = () => batches.every((b, i) => b.offset === batches.slice(0, i).reduce((n, p) => n + p.text.length, 0));
    return { stream, batches, text, contiguous };
  }

  it('publishes the first piece at once, then at most one batch a window', () => {
    const { stream, batches, text, contiguous } = collect();
    stream.push('Hel');
    expect(batches).toEqual([{ offset: 0, text: 'Hel' }]); // the first token is not held back
    // Fifty pieces 20 ms apart (a second): about one batch per DELTA_BATCH_MS, not fifty.
    let sent = 'Hel';
    for (let i = 0; i < 50; i++) {
      jest.advanceTimersByTime(20);
      stream.push(`p${i} `);
      sent += `p${i} `;
    }
    stream.close();
    expect(batches.length).toBeLessThanOrEqual(1 + Math.ceil(1000 / DELTA_BATCH_MS) + 1);
    expect(batches.length).toBeGreaterThan(2);
    expect(text()).toBe(sent);
    expect(contiguous()).toBe(true);
  });

  it('publishes what it holds when the window ends, without waiting for more', () => {
    const { stream, batches } = collect();
    stream.push('a');
    stream.push('b');
    stream.push('c');
    expect(batches).toEqual([{ offset: 0, text: 'a' }]);
    jest.advanceTimersByTime(DELTA_BATCH_MS);
    expect(batches).toEqual([
      { offset: 0, text: 'a' },
      { offset: 1, text: 'bc' },
    ]);
  });

  it('sends a long burst at once, and nothing after close', () => {
    const { stream, batches, text } = collect();
    stream.push('x');
    stream.push('y'.repeat(DELTA_BATCH_CHARS));
    expect(text()).toBe(`x${'y'.repeat(DELTA_BATCH_CHARS)}`);
    stream.push('z');
    stream.close();
    stream.push('late');
    jest.advanceTimersByTime(10 * DELTA_BATCH_MS);
    expect(batches.at(-1)).toEqual({ offset: 1 + DELTA_BATCH_CHARS, text: 'z' });
    expect(text()).not.toContain('late');
  });
});

describe('NOTIFY batches', () => {
  const delta = (runId: string, offset: number, text: string, attempt = 1): DeltaMessage => ({ type: 'delta', runId, turn: 1, attempt, offset, text });

  it('merges each run’s contiguous deltas though runs interleave, keeping each run’s order', () => {
    const out = coalesce([delta('a', 0, 'He'), delta('b', 0, 'Wo'), delta('a', 2, 'llo'), delta('b', 2, 'rld'), { type: 'delta.end', runId: 'a', turn: 1 }, delta('b', 5, '!')]);
    expect(out).toEqual([delta('a', 0, 'Hello'), { type: 'delta.end', runId: 'a', turn: 1 }, delta('b', 0, 'World!')]);
  });

  it('does not merge across a new attempt or a gap', () => {
    const out = coalesce([delta('a', 0, 'ab'), delta('a', 0, 'cd', 2), delta('a', 5, 'x', 2)]);
    expect(out).toEqual([delta('a', 0, 'ab'), delta('a', 0, 'cd', 2), delta('a', 5, 'x', 2)]);
  });

  describe('sent by a worker', () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    it('keeps one NOTIFY out at a time: what comes meanwhile goes in one statement when it ends, in order', async () => {
      // The database answers slowly (a busy worker's pool): each statement is held until the test lets it go.
      const statements: { params: string[]; answer: () => void }[] = [];
      const connection = { query: (_text: string, params: string[]) => new Promise<void>((resolve) => statements.push({ params, answer: resolve })), on: () => undefined, release: () => undefined };
      const pool = { options: { max: 20 }, connect: async () => connection };
      const store = {
        opened: { pool },
        watchers: { watched: async () => new Set<string>() },
        liveText: { putMany: async () => undefined, clear: async () => undefined },
      } as unknown as Store;
      const bus = new PostgresBus(store, createLogger({ level: 'silent' }));
      const sent = () => statements.flatMap((st) => st.params.slice(1).map((p) => JSON.parse(p) as DeltaMessage));
      let text = '';
      const stream = (runId: string, piece: string) => {
        bus.publish(delta(runId, runId === 'a' ? text.length : 0, piece));
        if (runId === 'a') text += piece;
      };
      stream('a', 'one ');
      await jest.advanceTimersByTimeAsync(NOTIFY_BATCH_MS);
      expect(statements).toHaveLength(1);
      // Ten windows of deltas while that statement is out: none goes.
      for (let i = 0; i < 10; i++) {
        stream('a', `w${i} `);
        await jest.advanceTimersByTimeAsync(NOTIFY_BATCH_MS);
      }
      stream('b', 'other');
      expect(statements).toHaveLength(1);
      statements[0]!.answer();
      await jest.advanceTimersByTimeAsync(0);
      // All of it in the next statement, sent as soon as the first ended, merged per run, offsets contiguous.
      expect(statements).toHaveLength(2);
      expect(statements[1]!.params.slice(1).map((p) => JSON.parse(p))).toEqual([delta('a', 4, text.slice(4)), delta('b', 0, 'other')]);
      statements[1]!.answer();
      await jest.advanceTimersByTimeAsync(NOTIFY_BATCH_MS * 3);
      expect(statements).toHaveLength(2);
      expect(sent().filter((m) => m.runId === 'a' && m.type === 'delta').map((m) => (m.type === 'delta' ? m.text : '')).join('')).toBe(text);
      await bus.close();
    });

    it('sends its NOTIFYs on a connection it holds, and takes a new one after that one failed or was lost', async () => {
      const connections: { queries: string[][]; released?: boolean | Error; lose?: (err: Error) => void }[] = [];
      let failNext = false;
      const pool = {
        options: { max: 20 },
        connect: async () => {
          const c: (typeof connections)[number] = { queries: [] };
          connections.push(c);
          return {
            query: async (_text: string, params: string[]) => {
              c.queries.push(params.slice(1));
              if (failNext) {
                failNext = false;
                throw new Error('Connection terminated unexpectedly');
              }
            },
            on: (_event: 'error', listener: (err: Error) => void) => (c.lose = listener),
            release: (destroy?: boolean | Error) => (c.released = destroy ?? false),
          };
        },
      };
      const store = { opened: { pool }, watchers: { watched: async () => new Set<string>() }, liveText: { putMany: async () => undefined, clear: async () => undefined } } as unknown as Store;
      const bus = new PostgresBus(store, createLogger({ level: 'silent' }));
      const send = async (text: string) => {
        bus.publish(delta('r', 0, text));
        await jest.advanceTimersByTimeAsync(NOTIFY_BATCH_MS);
      };
      await send('a');
      await send('b');
      expect(connections).toHaveLength(1); // held: both on the one connection
      expect(connections[0]!.queries).toHaveLength(2);
      failNext = true;
      await send('c'); // fails: that connection is destroyed…
      expect(connections[0]!.released).toBe(true);
      await send('d'); // …and the next goes on a new one
      expect(connections).toHaveLength(2);
      connections[1]!.lose!(new Error('terminating connection due to administrator command')); // Postgres restarts
      expect(connections[1]!.released).toBe(true);
      await send('e');
      expect(connections).toHaveLength(3);
      await bus.close();
      expect(connections[2]!.released).toBe(false); // given back whole at close
    });
  });
});

describe('a worker’s cross-process bus', () => {
  class WorkerBus extends CrossProcessBus {
    protected follow(): void {}
    protected unfollow(): void {}
    /** The text the process-local bus holds for a run. */
    localText(runId: string) {
      return this.local.liveTextNow(runId);
    }
  }
  const store = { watchers: { watched: async () => new Set<string>() }, liveText: { putMany: async () => undefined, clear: async () => undefined } } as unknown as Store;

  it('keeps no local copy of a stream nobody in the process follows, and still hands deltas to local subscribers', async () => {
    const bus = new WorkerBus(store, createLogger({ level: 'silent' }));
    bus.publish({ type: 'delta', runId: 'r1', turn: 1, attempt: 1, offset: 0, text: 'unseen' });
    expect(bus.localText('r1')).toBeNull();
    const heard: BusMessage[] = [];
    const unsubscribe = bus.subscribe('r2', (m) => heard.push(m));
    bus.publish({ type: 'delta', runId: 'r2', turn: 1, attempt: 1, offset: 0, text: 'seen' });
    expect(heard).toEqual([{ type: 'delta', runId: 'r2', turn: 1, attempt: 1, offset: 0, text: 'seen' }]);
    unsubscribe();
    await bus.close();
  });

  describe('a run nobody watches', () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    /** A worker's bus whose presence answers from `watched` (or fails), recording what it sends to other processes. */
    function workerBus() {
      const presence = { watched: new Set<string>(), fails: false };
      const presenceStore = {
        watchers: { watched: async (ids: string[]) => (presence.fails ? Promise.reject(new Error('down')) : new Set(ids.filter((id) => presence.watched.has(id)))) },
        liveText: { putMany: async () => undefined, clear: async () => undefined },
      } as unknown as Store;
      const sent: DeltaMessage[] = [];
      class RecordingBus extends WorkerBus {
        protected override forward(msg: DeltaMessage): void {
          sent.push(msg);
        }
      }
      const bus = new RecordingBus(presenceStore, createLogger({ level: 'silent' }));
      let text = '';
      let attempt = 1;
      const stream = (piece: string) => {
        bus.publish(delta('r1', text.length, piece, attempt));
        text += piece;
      };
      /** The model call is retried: a new attempt, from offset 0. */
      const retry = () => {
        attempt += 1;
        text = '';
        bus.publish({ type: 'delta.reset', runId: 'r1', turn: 1, attempt });
      };
      return { bus, presence, sent, stream, retry };
    }
    const delta = (runId: string, offset: number, text: string, attempt = 1): DeltaMessage => ({ type: 'delta', runId, turn: 1, attempt, offset, text });
    const check = () => jest.advanceTimersByTimeAsync(WATCH_CHECK_MS);

    it('sends its deltas until presence has twice found nobody, then none; when someone arrives, the text so far, then every delta', async () => {
      const { bus, presence, sent, stream, retry } = workerBus();
      stream('ab'); // not yet checked: sent
      await check();
      stream('cd'); // nobody, once: still sent
      await check();
      stream('ef'); // nobody, twice: held back
      stream('gh');
      expect(sent).toEqual([delta('r1', 0, 'ab'), delta('r1', 2, 'cd')]);
      retry(); // resets and ends always go
      expect(sent.at(-1)).toEqual({ type: 'delta.reset', runId: 'r1', turn: 1, attempt: 2 });
      sent.length = 0;
      stream('ab');
      stream('cdef');
      presence.watched.add('r1');
      await check();
      stream('ij');
      // The text so far from offset 0 (a reader keeps only what is new to it), then each delta again.
      expect(sent).toEqual([delta('r1', 0, 'abcdef', 2), delta('r1', 6, 'ij', 2)]);
      await bus.close();
    });

    it('sends deltas again when presence cannot be read: a watcher must not miss text', async () => {
      const { bus, presence, sent, stream } = workerBus();
      stream('ab');
      await check();
      await check();
      stream('cd');
      expect(sent).toEqual([delta('r1', 0, 'ab')]);
      presence.fails = true;
      await check();
      stream('ef');
      expect(sent).toEqual([delta('r1', 0, 'ab'), delta('r1', 0, 'abcd'), delta('r1', 4, 'ef')]);
      await bus.close();
    });
  });
});
