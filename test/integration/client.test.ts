/**
 * The typed client (longhaul/client) against a real API, worker and Temporal: every call with its
 * typed answer, errors typed by the API's codes, and `runs.watch` through a connection dropped in
 * the middle of a token stream (every event once, the text whole) and through a retried model call
 * (its partial text discarded).
 */
import { createLonghaulClient, LonghaulError, type LonghaulClient, type WatchItem } from '../../client';
import type { RunEventOf } from '../../contract/events';
import { FakeAnthropic } from '../support/fake-anthropic';
import { startHarness, type Harness } from '../support/harness';
import { waitFor } from '../support/wait';

const ALICE = 'alice-token-0123456789';
const BOB = 'bob-token-0123456789ab';

describe('typed client', () => {
  const fake = new FakeAnthropic();
  let h: Harness;
  let alice: LonghaulClient;

  beforeAll(async () => {
    await fake.start();
    h = await startHarness({
      env: { API_TOKENS: `${ALICE}:alice,${BOB}:bob`, ANTHROPIC_API_KEY: fake.apiKey, ANTHROPIC_BASE_URL: fake.url, LLM_MODEL: 'claude-sonnet-5-5' },
    });
    h.defaultToken = ALICE;
    // A function, so the harness's restarted API (same port) is reached through the same client.
    alice = createLonghaulClient({ baseUrl: h.api.url, token: () => ALICE });
  });
  afterAll(async () => {
    await h.close();
    await fake.stop();
  });

  /** Collects what a watch yields until it ends. */
  async function collect(items: AsyncIterable<WatchItem>, onItem: (item: WatchItem, all: WatchItem[]) => void | Promise<void> = () => undefined): Promise<WatchItem[]> {
    const all: WatchItem[] = [];
    for await (const item of items) {
      all.push(item);
      await onItem(item, all);
    }
    return all;
  }

  /** The text of `turn` as a watcher assembled it: deltas appended, resets start over. */
  function assembled(items: WatchItem[], turn: number): string {
    let text = '';
    for (const item of items) {
      if (item.type === 'text' && item.turn === turn) {
        expect(item.text).toBe(text + item.delta); // each piece extends what came before, nothing repeated
        text = item.text;
      } else if (item.type === 'text.reset' && item.turn === turn) text = '';
    }
    return text;
  }

  it('makes every call with typed answers and typed errors', async () => {
    fake.script('[client-calls]', (req) =>
      req.assistantTurns === 0 ? { toolUses: [{ name: 'workspace_write', input: { path: 'x.txt', content: 'x' } }] } : { text: 'wrote it' },
    );
    const created = await alice.runs.start({ goal: 'write [client-calls]', approvals: 'write' }, { idempotencyKey: 'client-1' });
    expect(created).toMatchObject({ status: 'queued', links: { self: `/api/runs/${created.id}` } });
    expect((await alice.runs.start({ goal: 'write [client-calls]', approvals: 'write' }, { idempotencyKey: 'client-1' })).id).toBe(created.id);

    await waitFor(async () => (await alice.runs.get(created.id)).status === 'waiting_approval', { what: 'the run to wait for approval' });
    const { approvals } = await alice.approvals.list();
    const pending = approvals.find((a) => a.runId === created.id)!;
    expect(pending).toMatchObject({ tool: 'workspace_write', status: 'pending' });
    expect((await alice.runs.pause(created.id)).status).toBe('pausing');
    expect((await alice.runs.resume(created.id)).status).toBe('resuming');
    expect((await alice.approvals.decide(created.id, pending.approvalId, { decision: 'approve' })).status).toBe('approved');
    await waitFor(async () => (await alice.runs.get(created.id)).status === 'completed', { what: 'the run to complete' });
    expect((await alice.runs.get(created.id)).result).toBe('wrote it');

    fake.script('[client-calls]', () => ({ text: 'and a follow-up answer' }));
    const followed = await alice.runs.message(created.id, { text: 'one more thing' }, { idempotencyKey: 'client-msg-1' });
    expect(followed).toMatchObject({ runId: created.id, continued: true, status: 'pending' });
    expect((await alice.runs.message(created.id, { text: 'one more thing' }, { idempotencyKey: 'client-msg-1' })).messageId).toBe(followed.messageId);
    await waitFor(async () => (await alice.runs.get(created.id)).result === 'and a follow-up answer', { what: 'the follow-up to be answered' });

    const page = await alice.runs.events(created.id, { after: 1, limit: 2 });
    expect(page.events.map((e) => e.seq)).toEqual([2, 3]);
    expect(page.nextAfter).toBe(3);
    expect((await alice.runs.list({ status: ['completed'], limit: 5 })).runs.map((r) => r.id)).toContain(created.id);

    const typed = async (p: Promise<unknown>) => p.then(() => undefined, (err: unknown) => err as LonghaulError);
    const missing = await typed(alice.runs.get('run_missing'));
    expect(missing).toBeInstanceOf(LonghaulError);
    expect(missing).toMatchObject({ status: 404, code: 'run_not_found' });
    expect(await typed(alice.runs.cancel(created.id))).toMatchObject({ status: 409, code: 'run_not_active' });
    expect(await typed(alice.runs.list({ limit: 1000 }))).toMatchObject({ status: 400, code: 'invalid_query' });
    const bob = createLonghaulClient({ baseUrl: h.api.url, token: BOB });
    expect(await typed(bob.runs.get(created.id))).toMatchObject({ status: 404, code: 'run_not_found' });
    let told = 0;
    const nobody = createLonghaulClient({ baseUrl: h.api.url, onUnauthorized: () => (told += 1) });
    expect(await typed(nobody.runs.list())).toMatchObject({ status: 401, code: 'unauthorized' });
    expect(told).toBe(1);
    const offline = createLonghaulClient({ baseUrl: 'http://127.0.0.1:9' });
    expect(await typed(offline.runs.list())).toMatchObject({ status: 0, code: 'network_error' });
  });

  it('watches a run through a connection dropped mid-token-stream: every event once, the text whole', async () => {
    fake.script('[client-drop]', (req) =>
      req.assistantTurns === 0
        ? { text: 'Looking around the workspace first, then I will answer. '.repeat(2), chunkChars: 5, delayMs: 20, toolUses: [{ name: 'workspace_list', input: {} }] }
        : { text: 'The final answer, streamed token by token while the connection drops. '.repeat(3), chunkChars: 5, delayMs: 25 },
    );
    const { id } = await alice.runs.start({ goal: 'watch me drop [client-drop]', approvals: 'none' });
    let dropped = false;
    const items = await collect(alice.runs.watch(id, { retryMs: { initial: 50, max: 500 } }), async (item) => {
      if (!dropped && item.type === 'text' && item.turn === 2 && item.text.length > 60) {
        dropped = true;
        await h.restartApi(); // every connection to the API is cut; it comes back on the same port
      }
    });
    expect(dropped).toBe(true);
    expect(items.some((i) => i.type === 'reconnecting')).toBe(true);
    expect(items.filter((i) => i.type === 'snapshot').length).toBeGreaterThanOrEqual(2);

    const stored = await h.events(id);
    const seen = items.flatMap((i) => (i.type === 'event' ? [i.event.seq] : []));
    expect(seen).toEqual(stored.map((e) => e.seq)); // no gap, no duplicate, in order
    expect(stored[stored.length - 1]!.type).toBe('run.completed');
    for (const turn of [1, 2]) {
      const final = stored.find((e): e is RunEventOf<'llm.message'> => e.type === 'llm.message' && e.data.turn === turn)!;
      expect(assembled(items, turn)).toBe(final.data.text);
    }
  });

  it('gives a watcher that joins after the run ended the text of every turn whole, from the final messages', async () => {
    fake.script('[client-late]', (req) =>
      req.assistantTurns === 0 ? { text: 'First I look around.', toolUses: [{ name: 'workspace_list', input: {} }] } : { text: 'Nothing to see; done.' },
    );
    const { id } = await alice.runs.start({ goal: 'late watcher [client-late]', approvals: 'none' });
    await h.waitForStatus(id, 'completed');
    const items = await collect(alice.runs.watch(id));
    expect(assembled(items, 1)).toBe('First I look around.');
    expect(assembled(items, 2)).toBe('Nothing to see; done.');
    // Each text comes before its message's event, as it would have streamed.
    const firstText = items.findIndex((i) => i.type === 'text' && i.turn === 1);
    const firstMessage = items.findIndex((i) => i.type === 'event' && i.event.type === 'llm.message');
    expect(firstText).toBeLessThan(firstMessage);
  });

  it('discards the partial text of a retried model call', async () => {
    let calls = 0;
    fake.script('[client-retry]', () => {
      calls += 1;
      return calls === 1
        ? { text: 'This attempt breaks off halfway through what it is saying.', chunkChars: 4, delayMs: 20, errorAfterChars: { chars: 24, type: 'overloaded_error' } }
        : { text: 'The retried attempt, whole.', chunkChars: 4, delayMs: 10 };
    });
    const { id } = await alice.runs.start({ goal: 'retry [client-retry]', approvals: 'none' });
    const items = await collect(alice.runs.watch(id));
    const reset = items.findIndex((i) => i.type === 'text.reset');
    expect(reset).toBeGreaterThan(0);
    expect(items.slice(0, reset).some((i) => i.type === 'text' && i.turn === 1)).toBe(true);
    expect(assembled(items, 1)).toBe('The retried attempt, whole.');
  });

  it('ends a watch with the typed error for a run it may not see', async () => {
    const watching = collect(createLonghaulClient({ baseUrl: h.api.url, token: BOB }).runs.watch('run_missing'));
    await expect(watching).rejects.toMatchObject({ status: 404, code: 'run_not_found' });
  });
});
