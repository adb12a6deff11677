/**
 * The inbox with thousands waiting (issue 26: "the inbox and the runs list answer with p99 ≤ 200 ms" at 10,000 runs
 * waiting for people). No workflows: `INBOX_BENCH_N` (10,000) pending requests — approvals and questions, one per run,
 * half of the instants shared by an approval and a question — are written through the store on Postgres, on runs of
 * team `ops`, and a tenth as many on another team's runs that the caller may not see. The caller is an approver and a
 * member of `ops` (every `ops` request waits for them). Then, `INBOX_BENCH_REQUESTS` (200) times each, interleaved:
 *
 *   first     GET /api/inbox, the first page as the web UI reads it (no limit: the server's default page)
 *   page      GET /api/inbox?cursor=…, a page further on (a walk of `WALK_PAGES` pages from the first, repeated)
 *   runs      GET /api/runs, the runs list's first page
 *
 * and once, the whole inbox walked at the largest page (`walk`), checked to hold every request once. Against code
 * without pages (before issue 26's paging) `first` is the whole inbox and the walk is that one answer.
 */
import { performance } from 'node:perf_hooks';
import { startHarness, type Harness } from '../test/support/harness';
import { summarize } from './env';

const TOKEN = 'bench-inbox-amy-token';
const WALK_PAGES = 5;
const ms = (n: number) => Number(n.toFixed(1));
const stats = (samples: number[]) => {
  const s = summarize(samples);
  return { n: s.n, p50: ms(s.p50), p99: ms(s.p99), max: ms(s.max), mean: ms(s.mean) };
};

/** `limit` at a time, at most `concurrency` at once. */
async function inBatches<T>(items: T[], concurrency: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

/** Every item waiting for the harness's caller, walked a page at a time (the load bench decides them all). */
export async function wholeInbox<T>(h: Pick<Harness, 'request'>): Promise<T[]> {
  const items: T[] = [];
  for (let cursor: string | undefined; ; ) {
    const { status, body } = await h.request('GET', `/api/inbox?limit=200${cursor ? `&cursor=${cursor}` : ''}`);
    if (status !== 200) throw new Error(`GET /api/inbox: ${status} ${JSON.stringify(body)}`);
    items.push(...(body.items as T[]));
    cursor = body.nextCursor ?? undefined;
    if (!cursor) return items;
  }
}

export async function inboxBench(opts: { n?: number; requests?: number } = {}) {
  const n = opts.n ?? Number(process.env.INBOX_BENCH_N ?? 10_000);
  const requests = opts.requests ?? Number(process.env.INBOX_BENCH_REQUESTS ?? 200);
  const h = await startHarness({
    noWorker: true,
    database: 'postgres',
    env: { API_TOKENS: `${TOKEN}:amy`, TEAM_ROLES: 'amy:ops:approver,amy:ops:member', LOG_LEVEL: 'silent', DATABASE_POOL_MAX: process.env.DATABASE_POOL_MAX ?? '' },
  });
  h.defaultToken = TOKEN;
  try {
    const limits = { maxSteps: 5, maxCostUsd: 1, maxDurationSec: 60 };
    const base = Date.parse('2026-12-06T08:00:00.000Z');
    const expiresAt = new Date(base + 7 * 86_400_000).toISOString();
    const seedStarted = performance.now();
    const hidden = Math.ceil(n / 10);
    await inBatches(Array.from({ length: n + hidden }, (_, i) => i), 16, async (i) => {
      const mine = i < n;
      const runId = `run_inbox_${i}`;
      // Two requests an instant (an approval and a question share it), the other team's between them.
      const requestedAt = new Date(base + Math.floor((mine ? i : (i - n) * 10) / 2) * 1000).toISOString();
      await h.store.runs.insert({ id: runId, owner: `owner${i % 50}`, goal: `inbox bench run ${i}`, model: 'demo', approvals: 'write', limits, metadata: null, idempotencyKey: null, team: mine ? 'ops' : 'elsewhere' });
      if (i % 2 === 0) {
        await h.store.approvals.insert({ id: `apr_inbox_${i}`, runId, kind: 'tool', turn: 1, toolUseId: `tu_${i}`, tool: 'workspace_write', input: { path: `notes/${i}.md`, content: 'x'.repeat(200) }, risk: 'write', reason: 'writes a file', requestedAt, expiresAt });
      } else {
        await h.store.inputs.insert({ id: `ask_inbox_${i}`, runId, turn: 1, toolUseId: `tu_${i}`, question: `Which way for run ${i}?`, requestedAt, expiresAt });
      }
    });
    const seedSeconds = (performance.now() - seedStarted) / 1000;

    const get = async (path: string) => {
      const t0 = performance.now();
      const res = await h.request('GET', path);
      const took = performance.now() - t0;
      if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${JSON.stringify(res.body)}`);
      return { took, body: res.body };
    };

    // The whole inbox, walked at the largest page: every request once (the old code answers it in one).
    const walkStarted = performance.now();
    const seen = new Set<string>();
    let walkPages = 0;
    let total: number | undefined;
    for (let cursor: string | undefined; ; ) {
      const { body } = await get(`/api/inbox?limit=200${cursor ? `&cursor=${cursor}` : ''}`);
      walkPages++;
      total ??= body.total;
      for (const item of body.items as { kind: string; id: string }[]) seen.add(`${item.kind}:${item.id}`);
      cursor = body.nextCursor ?? undefined;
      if (!cursor) break;
    }
    const walkMs = performance.now() - walkStarted;
    if (seen.size !== n) throw new Error(`the walk saw ${seen.size} requests, not ${n}`);

    const first: number[] = [];
    const page: number[] = [];
    const runs: number[] = [];
    let firstItems = 0;
    let cursor: string | undefined;
    let step = 0;
    for (let i = 0; i < requests; i++) {
      const f = await get('/api/inbox');
      first.push(f.took);
      firstItems = f.body.items.length;
      // A page further on: the walk goes WALK_PAGES deep, then starts again from the first page's cursor.
      if (!cursor || step === WALK_PAGES) {
        cursor = f.body.nextCursor ?? undefined;
        step = 0;
      }
      if (cursor) {
        const p = await get(`/api/inbox?cursor=${cursor}`);
        page.push(p.took);
        cursor = p.body.nextCursor ?? undefined;
        step++;
      }
      runs.push((await get('/api/runs')).took);
    }
    return {
      waiting: n,
      hiddenOtherTeam: hidden,
      seedSeconds: ms(seedSeconds),
      firstPageItems: firstItems,
      total: total ?? null,
      inboxFirstPageMs: stats(first),
      inboxLaterPageMs: page.length ? stats(page) : null,
      runsListMs: stats(runs),
      wholeWalk: { pages: walkPages, ms: ms(walkMs), items: seen.size },
      goal: { inboxAndRunsListP99Ms: 200 },
    };
  } finally {
    await h.close();
  }
}
