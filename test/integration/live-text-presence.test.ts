/**
 * A worker persists the text a model is streaming for other processes to read: every 50 ms while
 * someone watches the run, far less often while nobody does — and at once when someone starts to
 * watch, so a new subscriber has the text so far straight away.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LIVE_TEXT_FLUSH_MS, LiveTextWriter, UNWATCHED_FLUSH_MS } from '../../shared/bus/live-text-writer';
import { loadConfig } from '../../shared/config';
import { createLogger } from '../../shared/logger';
import { createStore, type Store } from '../../shared/store';
import { waitFor } from '../support/wait';

describe('live text while nobody watches', () => {
  let dir: string;
  let store: Store;
  let writer: LiveTextWriter;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-livetext-'));
    store = await createStore(loadConfig({ DATA_DIR: dir }));
    writer = new LiveTextWriter(store, createLogger({ level: 'silent' }));
  });
  afterAll(async () => {
    writer.close();
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Streams `n` pieces `gapMs` apart; returns the text streamed so far. */
  let offset = 0;
  let text = '';
  async function stream(runId: string, n: number, gapMs: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      const piece = `word${offset} `;
      writer.write({ type: 'delta', runId, turn: 1, attempt: 1, offset: text.length, text: piece });
      text += piece;
      offset += 1;
      await new Promise((r) => setTimeout(r, gapMs));
    }
  }

  it('persists rarely while unwatched, at once when watched, then at the full rate', async () => {
    const runId = 'run_livetext';
    // Written at the full rate until two presence checks in a row have found nobody watching…
    await stream(runId, 5, 50);
    await waitFor(async () => (await stream(runId, 1, 50), writer.unwatched(runId)), { what: 'two presence checks to find nobody watching' });
    // …then rarely: a write a second at most (one more for the write already due), however long the pieces took.
    const [warmedUp, slowFrom] = [writer.flushes, Date.now()];
    await stream(runId, 20, 40);
    expect(writer.flushes - warmedUp).toBeLessThanOrEqual(Math.ceil((Date.now() - slowFrom) / UNWATCHED_FLUSH_MS) + 1);

    // Someone subscribes (presence writes through): the text so far is written without waiting for more.
    await store.watchers.set('api_test', runId, 'alice', 1);
    await waitFor(async () => (await store.liveText.get(runId))?.text === text, { what: 'the text so far, written for the new watcher' });

    const before = writer.flushes;
    await stream(runId, 20, 60);
    expect(writer.flushes - before).toBeGreaterThanOrEqual(5); // about one write per piece now
    await waitFor(async () => (await store.liveText.get(runId))?.text === text, { what: 'the latest text' });
  });

  it('writes every streaming run due in one statement a tick, not one per run', async () => {
    const runs = Array.from({ length: 20 }, (_, i) => `run_many_${i}`);
    for (const runId of runs) await store.watchers.set('api_test', runId, 'alice', 1);
    const texts = new Map<string, string>();
    const [flushes, statements] = [writer.flushes, writer.statements];
    const started = Date.now();
    for (let piece = 0; piece < 10; piece++) {
      for (const runId of runs) {
        const before = texts.get(runId) ?? '';
        writer.write({ type: 'delta', runId, turn: 1, attempt: 1, offset: before.length, text: `w${piece} ` });
        texts.set(runId, `${before}w${piece} `);
      }
      await new Promise((r) => setTimeout(r, 30));
    }
    for (const runId of runs) await waitFor(async () => (await store.liveText.get(runId))?.text === texts.get(runId), { what: `${runId}'s latest text` });
    const ticks = Math.ceil((Date.now() - started) / LIVE_TEXT_FLUSH_MS) + 1;
    expect(writer.flushes - flushes).toBeGreaterThanOrEqual(runs.length * 2); // each run written several times…
    expect(writer.statements - statements).toBeLessThanOrEqual(ticks); // …in a statement a tick at most
  });

  it('keeps one write out at a time: what is due meanwhile goes in one statement once it ends, and a message\'s end clears after it', async () => {
    const runs = ['run_slow_a', 'run_slow_b'];
    for (const runId of runs) await store.watchers.set('api_test', runId, 'alice', 1);
    // The database answers slowly, as under a thousand streams: each write is held until the test lets it go.
    const putMany = store.liveText.putMany.bind(store.liveText);
    const held: (() => void)[] = [];
    let out = 0;
    let mostOut = 0;
    store.liveText.putMany = async (texts) => {
      out += 1;
      mostOut = Math.max(mostOut, out);
      await new Promise<void>((resolve) => held.push(resolve));
      try {
        await putMany(texts);
      } finally {
        out -= 1;
      }
    };
    try {
      const texts = new Map<string, string>();
      const piece = (runId: string, word: string) => {
        const before = texts.get(runId) ?? '';
        writer.write({ type: 'delta', runId, turn: 1, attempt: 1, offset: before.length, text: word });
        texts.set(runId, before + word);
      };
      piece('run_slow_a', 'one ');
      await waitFor(() => held.length === 1, { what: 'the first write to go out' });
      const statements = writer.statements;
      // Many ticks' worth of pieces while that write is held: none of them sends another.
      for (let i = 0; i < 6; i++) {
        for (const runId of runs) piece(runId, `w${i} `);
        await new Promise((r) => setTimeout(r, LIVE_TEXT_FLUSH_MS));
      }
      expect(writer.statements).toBe(statements);
      expect(held).toHaveLength(1);
      // The first message of run_slow_a ends while its write is out; its text must not come back after the clear.
      writer.write({ type: 'delta.end', runId: 'run_slow_a', turn: 1 });
      held.shift()!();
      // What came meanwhile goes at once, in one statement, with the latest text.
      await waitFor(() => held.length === 1, { what: 'the write of what was due meanwhile' });
      expect(writer.statements).toBe(statements + 1);
      held.shift()!();
      await waitFor(async () => (await store.liveText.get('run_slow_b'))?.text === texts.get('run_slow_b'), { what: "run_slow_b's latest text" });
      await waitFor(async () => (await store.liveText.get('run_slow_a')) === undefined, { what: "run_slow_a's ended message cleared" });
      expect(mostOut).toBe(1);
    } finally {
      store.liveText.putMany = putMany;
      for (const release of held) release();
    }
  });
});
