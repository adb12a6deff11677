/**
 * Issue 26's "Scale out" and "Faults under load": the streaming workload of the `load` bench (test/support/agent-load.ts,
 * LOAD_SHAPE=short unless told) on the cluster's shape — Temporal's real server on Postgres (test/support/temporal-cluster.ts,
 * as the cluster test starts it), Longhaul's store on Postgres, worker processes apart from the API (the API, the fake
 * Messages API and the sockets in this process; live text by NOTIFY) — with a TCP proxy in front of Postgres through
 * which every one of them reaches it: the workers, the API, and the Temporal server too (SCALE_OUT_TEMPORAL_DIRECT=1
 * keeps the Temporal server off the proxy). Cutting the proxy is a Postgres restart as all of them see it. The proxy is a
 * process of its own (test/support/tcp-proxy-process.ts): the Temporal cluster's setup blocks this one.
 *
 * Phases, in the order of SCALE_OUT_PHASES (default `one,two,kill,outage`; `restart` too on request; repeat `one` and `two` to interleave more),
 * each with the same LOAD_STREAMING runs (default 40; the same seeds, so the same turns and tokens) started at once and
 * LOAD_WATCHERS sockets (default 10) each following one, on worker processes started for the phase and stopped after:
 *   one:    one worker;
 *   two:    two workers;
 *   kill:   two workers, one SIGKILLed when half the phase's tokens have streamed (not restarted: the other carries
 *           the rest);
 *   restart: as kill, and the killed worker started again at once on its own DATA_DIR, as systemd would (the time
 *           from the kill to its polling again, and the CPU it then spent, show it took work back);
 *   outage: two workers; when half the tokens have streamed the proxy is cut (every connection dropped, the port
 *           closed) for SCALE_OUT_OUTAGE_SECONDS (30), the API probed throughout (each answer counted; anything but a
 *           503 `store_unavailable` with Retry-After is a failure), then reopened on the same port.
 * Each phase reports throughput (tokens/s, model calls/s, runs completed/min), the load bench's latency figures
 * (schedule-to-start, model call time per run, beyond the fake's plan, delta latency to the sockets), the workers' CPU
 * per token, and the check of test/support/load-faults.ts: every run completed once, each model and tool call once
 * (the ledger; the tool's effect counted by idempotency key at a counting server; the fake's requests per call), every
 * socket gap-free; after a fault, how long each run still going took to store its next event.
 *
 * The worker is test/support/effect-step-worker.ts: the test tools, with `slow_step` recording its effect by key.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { QUICK_LOAD, REALISTIC_LOAD, loadGoal, loadMarkerOf, loadReply, loadTurns, scriptLoad, type LoadShape } from '../test/support/agent-load';
import { CountingServer } from '../test/support/counting-server';
import { FakeAnthropic, type FakeRequest } from '../test/support/fake-anthropic';
import { startHarness, type Harness } from '../test/support/harness';
import { LiveClient, wsUrl, type ServerMessage } from '../test/support/live-client';
import { checkRunsOnce, checkWatcher, outageRequests, probeDuringOutage, resumeAfter, type LoadRun } from '../test/support/load-faults';
import { createPostgresDatabase } from '../test/support/postgres';
import { startWorkerProcess, type ChildHandle } from '../test/support/processes';
import { seededRandom } from '../test/support/random';
import { TcpProxyProcess } from '../test/support/tcp-proxy-process';
import { TemporalCluster } from '../test/support/temporal-cluster';
import { testEnv } from '../test/support/test-env';
import { waitFor } from '../test/support/wait';
import { SHORT_LOAD, cpuMsOf, modelCalls, round, summary } from './load';

type PhaseName = 'one' | 'two' | 'kill' | 'restart' | 'outage';
const WORKERS: Record<PhaseName, number> = { one: 1, two: 2, kill: 2, restart: 2, outage: 2 };
const WORKER_ENTRY = 'test/support/effect-step-worker.ts';

/** A URL's host and port moved to the proxy's. */
function viaProxy(url: string, proxy: { port: number }): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(proxy.port);
  return u.toString();
}

/** A run's workflow result, asked again while Temporal cannot answer (its database away); a run that failed is reported, not waited on. */
async function settled(h: Harness, id: string, deadline: number, failed: string[]): Promise<void> {
  for (;;) {
    try {
      await h.client.workflow.getHandle(id).result();
      return;
    } catch (err) {
      if (err instanceof WorkflowFailedError) {
        failed.push(`${id}: ${err.cause?.message ?? err.message}`);
        return;
      }
      if (Date.now() > deadline) throw new Error(`run ${id} not finished in time`, { cause: err });
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

export async function scaleOutBench() {
  const streaming = Number(process.env.LOAD_STREAMING ?? 40);
  const watcherCount = Math.min(Number(process.env.LOAD_WATCHERS ?? 10), streaming);
  const outageSeconds = Number(process.env.SCALE_OUT_OUTAGE_SECONDS ?? 30);
  const phases = (process.env.SCALE_OUT_PHASES ?? 'one,two,kill,outage').split(',').map((p) => p.trim()) as PhaseName[];
  for (const p of phases) if (!(p in WORKERS)) throw new Error(`unknown phase ${p}: one, two, kill, restart, outage`);
  const temporalViaProxy = process.env.SCALE_OUT_TEMPORAL_DIRECT !== '1';
  const shape: LoadShape = process.env.LOAD_SHAPE === 'quick' ? QUICK_LOAD : process.env.LOAD_SHAPE === 'realistic' ? REALISTIC_LOAD : SHORT_LOAD;
  const t = testEnv();
  // Postgres is shared (100 connections here): Temporal's four services each keep a pool of 20 + 5 by default, which
  // with Longhaul's three processes (10 each) leaves others none. The figures name the sizes used.
  process.env.TEMPORAL_SQL_MAX_CONNS ??= '5';
  process.env.TEMPORAL_VISIBILITY_SQL_MAX_CONNS ??= '2';

  /** What the fake and the sockets saw in the phase under way. */
  let seen = { requests: [] as FakeRequest[], chars: 0, watched: new Set<string>(), sent: new Map<string, { chars: number[]; at: number[] }>() };
  const lastChars = new WeakMap<object, number>();
  const fake = new FakeAnthropic();
  fake.keepRequests = false;
  scriptLoad(fake, shape);
  fake.onRequest = (req) => {
    if (loadMarkerOf(req.goal)) seen.requests.push(req);
  };
  fake.onTextSent = (req, chars, at) => {
    seen.chars += chars - (lastChars.get(req) ?? 0);
    lastChars.set(req, chars);
    const marker = loadMarkerOf(req.goal);
    if (!marker || !seen.watched.has(marker)) return;
    const key = `${marker}:${req.assistantTurns}`;
    const s = seen.sent.get(key) ?? { chars: [], at: [] };
    s.chars.push(chars);
    s.at.push(at);
    seen.sent.set(key, s);
  };
  const effects = new CountingServer();
  await fake.start();
  await effects.start();

  const direct = new URL(t.postgresUrl);
  const proxy = await TcpProxyProcess.start({ host: direct.hostname, port: Number(direct.port || 5432) });
  let proxyOpen = true;
  const dirs: string[] = [];
  let cluster: TemporalCluster | undefined;
  let db: { url: string; drop: () => Promise<void> } | undefined;
  let h: Harness | undefined;
  const workers: ChildHandle[] = [];
  const watchers: LiveClient[] = [];
  const loadAverage = [os.loadavg()[0]!];
  try {
    const clusterStarted = Date.now();
    cluster = await TemporalCluster.start({ adminUrl: temporalViaProxy ? viaProxy(t.postgresUrl, proxy) : t.postgresUrl, temporalCli: t.temporalCli });
    const clusterStartSeconds = (Date.now() - clusterStarted) / 1000;
    db = await createPostgresDatabase(t.postgresUrl);
    const everything = streaming + 10;
    h = await startHarness({
      noWorker: true,
      bus: 'database',
      temporalAddress: cluster.address,
      env: {
        DATABASE_URL: viaProxy(db.url, proxy),
        ANTHROPIC_API_KEY: fake.apiKey,
        ANTHROPIC_BASE_URL: fake.url,
        LLM_MODEL: 'claude-sonnet-5-5',
        LOG_LEVEL: 'silent',
        ACTIVITY_HEARTBEAT_TIMEOUT_SEC: '10', // the default, as in the load bench
        MAX_CONCURRENT_RUNS_PER_USER: String(everything),
        MAX_QUEUED_RUNS_PER_USER: String(everything),
        SEGMENT_MAX_TURNS: '1000',
      },
    });
    const harness = h;

    const dirOf = new Map<ChildHandle, string>();
    /** A worker process on a DATA_DIR of its own; `dir`: a killed worker's, to start it again where it was. */
    const startWorker = async (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-scale-out-'))): Promise<ChildHandle> => {
      if (!dirs.includes(dir)) dirs.push(dir);
      const w = await startWorkerProcess({ ...harness.env, DATA_DIR: dir, LOAD_EFFECTS_URL: effects.url }, { entry: WORKER_ENTRY });
      workers.push(w);
      dirOf.set(w, dir);
      return w;
    };

    const goals = Array.from({ length: streaming }, (_, i) => loadGoal('streaming', i));
    const plannedChars = goals.reduce((sum, goal, i) => {
      let chars = 0;
      for (let turn = 0; turn < loadTurns(shape, i); turn++) chars += (loadReply(shape, goal, turn).text ?? '').length;
      return sum + chars;
    }, 0);
    const plannedMs = (goal: string, turn: number) => {
      const r = loadReply(shape, goal, turn);
      return (r.firstTokenMs ?? 0) + ((r.text ?? '').length / 4 / (r.tokensPerSecond ?? Infinity)) * 1000;
    };

    const runPhase = async (name: PhaseName) => {
      const phaseWorkers: ChildHandle[] = [];
      for (let n = 0; n < WORKERS[name]; n++) phaseWorkers.push(await startWorker());
      seen = { requests: [], chars: 0, watched: new Set(), sent: new Map() };
      const cpu0 = phaseWorkers.map((w) => cpuMsOf(w.pid));
      const cpuAtKill: number[] = [];
      const started = Date.now();
      const runs: LoadRun[] = await Promise.all(
        goals.map(async (goal, index) => ({ id: await harness.createRun({ goal, approvals: 'none', limits: { maxSteps: shape.turns[1] + 5 } }), index })),
      );
      const markerOf = new Map(runs.map((r) => [r.id, `load-s${r.index}`]));
      const random = seededRandom(shape.seed);
      const deltas: { marker: string; turn: number; end: number; at: number }[] = [];
      const phaseWatchers: LiveClient[] = [];
      for (let w = 0; w < watcherCount; w++) {
        const run = runs[Math.floor(random() * streaming)]!;
        seen.watched.add(markerOf.get(run.id)!);
        const client = await LiveClient.connect(wsUrl(harness.api.url));
        client.ws.on('message', (data) => {
          const at = performance.now();
          const m = JSON.parse(data.toString()) as ServerMessage;
          if (m.type === 'delta') deltas.push({ marker: markerOf.get(m.runId)!, turn: m.turn, end: m.offset + m.text.length, at });
        });
        client.subscribe(run.id, 0);
        phaseWatchers.push(client);
        watchers.push(client);
      }

      // The fault, once half the phase's tokens have streamed.
      const fault: {
        at?: number;
        end?: number;
        apiBackMs?: number;
        probe?: Awaited<ReturnType<typeof probeDuringOutage>>;
        killedPid?: number;
        restarted?: { pid: number; pollingAfterMs: number; cpu0: number; worker: ChildHandle };
      } = {};
      const faultDone =
        name === 'kill' || name === 'restart' || name === 'outage'
          ? waitFor(() => seen.chars >= plannedChars / 2, { timeoutMs: 30 * 60_000, intervalMs: 100, what: 'half the tokens streamed' }).then(async () => {
              fault.at = Date.now();
              if (name === 'kill' || name === 'restart') {
                const victim = phaseWorkers[0]!;
                cpuAtKill[0] = cpuMsOf(victim.pid);
                fault.killedPid = victim.pid;
                await victim.kill('SIGKILL');
                fault.end = Date.now();
                if (name === 'restart') {
                  const again = await startWorker(dirOf.get(victim));
                  fault.restarted = { pid: again.pid, pollingAfterMs: Date.now() - fault.end, cpu0: cpuMsOf(again.pid), worker: again };
                }
                return;
              }
              await proxy.cut();
              proxyOpen = false;
              const back = new Promise((r) => setTimeout(r, outageSeconds * 1000));
              const probing = probeDuringOutage(harness.request.bind(harness), outageRequests(runs[0]!.id), back);
              await back;
              await proxy.open();
              proxyOpen = true;
              fault.end = Date.now();
              fault.probe = await probing;
              await waitFor(async () => (await harness.request('GET', '/api/runs')).status === 200, { timeoutMs: 120_000, intervalMs: 100, what: 'the API to answer again' });
              fault.apiBackMs = Date.now() - fault.end;
            })
          : Promise.resolve();
      const deadline = Date.now() + 30 * 60_000;
      const failedRuns: string[] = [];
      await Promise.all(runs.map((r) => settled(harness, r.id, deadline, failedRuns)));
      await faultDone;
      const seconds = (Date.now() - started) / 1000;
      const restartedCpuMs = fault.restarted ? cpuMsOf(fault.restarted.pid) - fault.restarted.cpu0 : 0;
      const cpuMs = phaseWorkers.reduce((sum, w, n) => sum + (cpuAtKill[n] ?? cpuMsOf(w.pid)) - cpu0[n]!, 0) + restartedCpuMs;
      const tokens = seen.chars / 4;

      // Watchers see the end, then are checked against the store.
      await Promise.all(phaseWatchers.map((c) => waitFor(() => c.messages.some((m) => m.type === 'event' && m.event.type === 'run.completed'), { timeoutMs: 60_000, what: 'run.completed on a watcher' }).catch(() => undefined)));
      const watcherProblems = (await Promise.all(phaseWatchers.map((c) => checkWatcher(harness.store, c)))).flat();
      const deltaMs: number[] = [];
      let unmatchedDeltas = 0;
      for (const d of deltas) {
        const s = seen.sent.get(`${d.marker}:${d.turn - 1}`);
        const i = s ? s.chars.findIndex((c) => c >= d.end) : -1;
        if (!s || i < 0) unmatchedDeltas++;
        else deltaMs.push(d.at - s.at[i]!);
      }
      for (const c of phaseWatchers) c.terminate();

      const once = await checkRunsOnce({ store: harness.store, shape, runs, requests: seen.requests, effects, markerOf: loadMarkerOf });
      const completedAt = await Promise.all(runs.map(async (r) => Date.parse((await harness.store.events.list(r.id, { after: 0, limit: 100_000 })).find((e) => e.type === 'run.completed')?.at ?? 'x')));
      const lastCompleted = Math.max(...completedAt.filter((x) => !Number.isNaN(x)));
      const calls = await Promise.all(runs.map((r) => modelCalls(harness, r.id)));
      const perRunMeanCallMs = calls.map((c) => c.callMs.reduce((a, b) => a + b, 0) / (c.callMs.length || 1)).sort((a, b) => a - b);
      const medianRun = perRunMeanCallMs[Math.floor(perRunMeanCallMs.length / 2)] ?? NaN;
      const perRunExcessMs = calls
        .map((c, i) => c.callMs.reduce((sum, took, turn) => sum + took - plannedMs(goals[runs[i]!.index]!, turn), 0) / (c.callMs.length || 1))
        .sort((a, b) => a - b);
      const resumeMs = fault.end !== undefined ? await resumeAfter(harness.store, runs, fault.end) : [];
      for (const w of phaseWorkers) await w.kill('SIGTERM');
      await fault.restarted?.worker.kill('SIGTERM');

      return {
        phase: name,
        workers: WORKERS[name],
        seconds: round(seconds),
        throughput: {
          tokensPerSecond: round(tokens / seconds),
          modelCallsPerSecond: round(once.modelCalls / seconds, 2),
          runsCompletedPerMinute: round(runs.length / ((lastCompleted - started) / 60_000)),
        },
        latency: {
          scheduleToStartMs: summary(calls.flatMap((c) => c.scheduleToStartMs)),
          modelCallMsPerRun: { median: round(medianRun), slowest: round(perRunMeanCallMs.at(-1) ?? NaN), slowestToMedian: round((perRunMeanCallMs.at(-1) ?? NaN) / medianRun, 2) },
          modelCallMsBeyondPlanPerRun: { median: round(perRunExcessMs[Math.floor(perRunExcessMs.length / 2)] ?? NaN), slowest: round(perRunExcessMs.at(-1) ?? NaN) },
          watcherDeltaMs: { ...summary(deltaMs, 2), unmatched: unmatchedDeltas },
        },
        tokensStreamed: Math.round(tokens),
        workersCpuUsPerToken: round((cpuMs * 1000) / tokens),
        failedRuns,
        once: { ...once, problems: once.problems.slice(0, 20), problemCount: once.problems.length },
        watchers: { count: phaseWatchers.length, problems: watcherProblems },
        ...(fault.at !== undefined && {
          fault: {
            atSecond: round((fault.at - started) / 1000),
            lastedMs: fault.end! - fault.at,
            ...(fault.killedPid !== undefined && {
              killedWorkerPid: fault.killedPid,
              restarted: fault.restarted ? { pid: fault.restarted.pid, pollingAfterMs: fault.restarted.pollingAfterMs, cpuMsAfter: round(restartedCpuMs) } : false,
            }),
            ...(fault.probe && { apiAnswersDuringOutage: fault.probe.answers, apiFailuresDuringOutage: fault.probe.failures.slice(0, 20), apiFailureCount: fault.probe.failures.length, apiBackAfterMs: fault.apiBackMs }),
            // Each run still going when the fault ended: its first stored event after then.
            resumeMs: summary(resumeMs),
          },
        }),
      };
    };

    const results = [];
    for (const name of phases) {
      results.push(await runPhase(name));
      loadAverage.push(os.loadavg()[0]!);
    }
    return {
      scale: { streaming, watchers: watcherCount, phases, outageSeconds, temporalViaProxy, heartbeatTimeoutSec: 10, temporalSqlMaxConns: { store: process.env.TEMPORAL_SQL_MAX_CONNS, visibility: process.env.TEMPORAL_VISIBILITY_SQL_MAX_CONNS } },
      shape,
      machine: { cores: os.cpus().length, loadAverage1mAfterEachPhase: loadAverage.map((x) => round(x, 1)) },
      clusterStartSeconds: round(clusterStartSeconds),
      phases: results,
    };
  } finally {
    for (const w of watchers) w.terminate();
    for (const w of workers) await w.kill('SIGKILL');
    if (!proxyOpen) await proxy.open();
    await h?.close();
    await cluster?.stop().catch((err) => console.error('stopping the Temporal server:', err));
    await db?.drop();
    await proxy.close();
    await effects.stop();
    await fake.stop();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  }
}
