/**
 * Live-update benchmarks:
 * - latency: event committed → received on a socket, and model delta published → received
 *   (goals: events p50 ≤ 20 ms, p99 ≤ 100 ms; deltas p50 ≤ 10 ms), with the API in the worker's
 *   process (in memory) and as a separate process on Postgres (LISTEN/NOTIFY) and SQLite (tailing);
 * - catch-up: a new socket receiving all of a 10,000-event run (goal ≤ 0.5 s);
 * - sockets: 5,000 sockets on one 2-core API process following one busy run, with delivery latency
 *   and memory per socket.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { publishEvents } from '../activities/publish';
import { PostgresBus } from '../shared/bus/postgres-bus';
import { SqliteTailBus } from '../shared/bus/sqlite-tail-bus';
import { loadConfig } from '../shared/config';
import { createLogger } from '../shared/logger';
import { createStore, type Store } from '../shared/store';
import type { Bus } from '../shared/bus/bus';
import { startHarness, type Harness } from '../test/support/harness';
import { LiveClient, wsUrl } from '../test/support/live-client';
import { createPostgresDatabase } from '../test/support/postgres';
import { freePort } from '../test/support/ports';
import { startApiProcess } from '../test/support/processes';
import { testEnv } from '../test/support/test-env';
import { waitFor } from '../test/support/wait';
import { summarize } from './env';

const limits = { maxSteps: 10, maxCostUsd: 1, maxDurationSec: 3600 };

async function newRun(store: Store, id: string): Promise<void> {
  await store.runs.insert({ id, owner: 'local', goal: 'benchmark', model: 'demo', approvals: 'none', limits });
  await store.runs.updateState(id, { status: 'running' });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Appends events (one per `gapMs`) and measures commit → socket; publishes deltas and measures too. */
async function measureLatency(h: Harness, publisher: Bus, opts: { events: number; deltas: number; gapMs: number }) {
  const id = `run_bench_${Math.random().toString(36).slice(2)}`;
  await newRun(h.store, id);
  const client = await LiveClient.connect(wsUrl(h.api.url));
  client.subscribe(id, 0);
  await client.waitForMessage((m) => m.type === 'snapshot', 'snapshot');
  const committedAt = new Map<number, number>();
  // An event can reach the socket before the appender has seen its own commit return (the API hears of it on
  // another connection): arrivals are kept by seq and matched to commits at the end.
  const arrivedAt = new Map<number, number>();
  const deltaSentAt = new Map<number, number>();
  const deltaLatency: number[] = [];
  client.ws.on('message', (data) => {
    const now = performance.now();
    const msg = JSON.parse(data.toString());
    if (msg.type === 'event') arrivedAt.set(msg.event.seq, now);
    if (msg.type === 'delta' && deltaSentAt.has(msg.offset)) deltaLatency.push(now - deltaSentAt.get(msg.offset)!);
  });
  for (let i = 0; i < opts.events; i++) {
    const events = await h.store.events.append(id, [{ key: `e${i}`, type: 'tool.started', data: { turn: 1, toolUseId: `t${i}`, name: 'workspace_read', input: { path: 'notes.md' }, risk: 'read' } }]);
    committedAt.set(events[0]!.seq, performance.now());
    publishEvents(publisher, id, events); // what activities do after commit (a no-op across processes)
    await sleep(opts.gapMs);
  }
  let offset = 0;
  for (let i = 0; i < opts.deltas; i++) {
    const text = `tok${i} `;
    deltaSentAt.set(offset, performance.now());
    publisher.publish({ type: 'delta', runId: id, turn: 1, attempt: 1, offset, text });
    offset += text.length;
    await sleep(opts.gapMs);
  }
  // Deltas may arrive merged (SQLite tailing sends what accumulated since the last look): wait for
  // all the text, and time the pieces whose start offset arrived.
  await waitFor(() => [...committedAt.keys()].every((seq) => arrivedAt.has(seq)) && client.streamed(id, 1).length === offset, { timeoutMs: 30_000, what: 'all messages' });
  await sleep(200);
  client.close();
  // Arrived before its commit returned to the appender: delivered within the commit's own return, counted as 0.
  const eventLatency = [...committedAt].map(([seq, at]) => Math.max(0, arrivedAt.get(seq)! - at));
  return { events: summarize(eventLatency), deltas: summarize(deltaLatency), deltaMessages: deltaLatency.length };
}

export async function liveLatencyBench() {
  const logger = createLogger({ level: 'silent' });
  const results: Record<string, unknown> = {};

  // API and worker in one process (npm start): the in-memory bus.
  const mem = await startHarness({ noWorker: true, env: { LOG_LEVEL: 'silent' } });
  try {
    results.inMemory = await measureLatency(mem, mem.bus, { events: 500, deltas: 500, gapMs: 5 });
  } finally {
    await mem.close();
  }

  // API apart from the worker, on Postgres: NOTIFY in the commit's transaction, LISTEN in the API.
  const pg = await startHarness({ noWorker: true, database: 'postgres', bus: 'database', env: { LOG_LEVEL: 'silent' } });
  const pgWorkerBus = new PostgresBus(pg.store, logger);
  try {
    results.postgres = await measureLatency(pg, pgWorkerBus, { events: 500, deltas: 500, gapMs: 5 });
  } finally {
    await pgWorkerBus.close();
    await pg.close();
  }

  // API apart from the worker, on SQLite: the API tails the database every 100 ms.
  const lite = await startHarness({ noWorker: true, bus: 'database', env: { LOG_LEVEL: 'silent' } });
  const liteWorkerBus = new SqliteTailBus(lite.store, logger, { tailIntervalMs: 100 });
  try {
    results.sqliteTail = await measureLatency(lite, liteWorkerBus, { events: 200, deltas: 200, gapMs: 10 });
  } finally {
    await liteWorkerBus.close();
    await lite.close();
  }
  return { goals: { eventP50Ms: 20, eventP99Ms: 100, deltaP50Ms: 10 }, ...results };
}

export async function catchUpBench(opts: { events?: number } = {}) {
  const n = opts.events ?? 10_000;
  const results: Record<string, unknown> = {};
  for (const database of ['sqlite', 'postgres'] as const) {
    const h = await startHarness({ noWorker: true, database, env: { LOG_LEVEL: 'silent' } });
    try {
      const id = `run_catchup_${database}`;
      await newRun(h.store, id);
      for (let i = 0; i < n; i += 500) {
        await h.store.events.append(
          id,
          Array.from({ length: Math.min(500, n - i) }, (_, k) => ({
            key: `e${i + k}`,
            type: 'tool.completed' as const,
            data: { turn: i + k, toolUseId: `t${i + k}`, name: 'workspace_read', output: 'x'.repeat(200), bytes: 200, truncated: false },
          })),
        );
      }
      const samples: number[] = [];
      for (let trial = 0; trial < 5; trial++) {
        const client = await LiveClient.connect(wsUrl(h.api.url));
        const started = performance.now();
        client.subscribe(id, 0);
        await waitFor(() => client.seq(id) === n, { timeoutMs: 30_000, intervalMs: 1, what: 'the whole run' });
        samples.push(performance.now() - started);
        client.close();
      }
      results[database] = { events: n, ms: summarize(samples) };
    } finally {
      await h.close();
    }
  }
  return { goalMs: 500, ...results };
}

/** RSS of a process in bytes, from /proc. */
function rss(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

export async function socketsBench(opts: { sockets?: number; eventsPerSec?: number; seconds?: number } = {}) {
  const sockets = opts.sockets ?? 5000;
  const eventsPerSec = opts.eventsPerSec ?? 20;
  const seconds = opts.seconds ?? 10;
  const t = testEnv();
  const db = await createPostgresDatabase(t.postgresUrl);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-sockets-'));
  const env = { DATA_DIR: dataDir, DATABASE_URL: db.url, TEMPORAL_ADDRESS: t.temporalAddress, LOG_LEVEL: 'info', PROGRESS_QUERY_TIMEOUT_MS: '500' };
  const store = await createStore(loadConfig(env));
  const port = await freePort();
  const api = await startApiProcess({ ...env, PORT: String(port) });
  const url = `http://127.0.0.1:${port}`;
  const clients: LiveClient[] = [];
  try {
    const id = 'run_sockets';
    await newRun(store, id);
    const baseline = rss(api.pid);
    const connectStarted = performance.now();
    for (let i = 0; i < sockets; i += 200) {
      const batch = await Promise.all(Array.from({ length: Math.min(200, sockets - i) }, () => LiveClient.connect(wsUrl(url))));
      for (const c of batch) c.subscribe(id, 0);
      clients.push(...batch);
    }
    await waitFor(() => clients.every((c) => c.messages.some((m) => m.type === 'snapshot')), { timeoutMs: 120_000, what: 'every snapshot' });
    const connectMs = performance.now() - connectStarted;
    await sleep(1000);
    const loaded = rss(api.pid);

    // A busy run: events at `eventsPerSec`, each delivered to every socket.
    const committedAt = new Map<number, number>();
    const latencies: number[] = [];
    const sampled = clients.filter((_, i) => i % 50 === 0);
    for (const c of sampled) {
      c.ws.on('message', (data) => {
        const msg = JSON.parse(data.toString());
        if (msg.type === 'event' && committedAt.has(msg.event.seq)) latencies.push(performance.now() - committedAt.get(msg.event.seq)!);
      });
    }
    const total = eventsPerSec * seconds;
    for (let i = 0; i < total; i++) {
      const [e] = await store.events.append(id, [{ key: `busy${i}`, type: 'tool.started', data: { turn: 1, toolUseId: `t${i}`, name: 'workspace_read', input: { i }, risk: 'read' } }]);
      committedAt.set(e!.seq, performance.now());
      await sleep(1000 / eventsPerSec);
    }
    await waitFor(() => clients.every((c) => c.seq(id) === total), { timeoutMs: 60_000, what: 'every socket to have every event' });
    return {
      sockets,
      connectAndSubscribeMs: Math.round(connectMs),
      eventsDeliveredPerSocket: total,
      deliveriesTotal: total * sockets,
      latencyMs: summarize(latencies),
      apiRssBytes: { baseline, withSockets: loaded, perSocket: Math.round((loaded - baseline) / sockets) },
      slowConsumerCloses: clients.filter((c) => c.ws.readyState !== c.ws.OPEN).length,
    };
  } finally {
    for (const c of clients) c.terminate();
    await api.kill('SIGKILL');
    await store.close();
    await db.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
