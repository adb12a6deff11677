/**
 * Issue 26's realistic load: runs streaming at once from a model that takes its time, runs parked on
 * people, sockets watching, and a storm of starts, on one worker process (test/support/test-worker.ts,
 * so `slow_step` is there) beside the API in this process, on Postgres (the worker's live text and
 * events reach the API by NOTIFY). The model is the fake Messages API over HTTP, through the official
 * SDK, scripted by test/support/agent-load.ts (REALISTIC_LOAD: first token 0.5–2 s, 50 tokens/s,
 * 200–1,000 tokens a turn, 5–20 turns, tools of 10 ms–2 s; seeded).
 *
 * Sizes from the environment: LOAD_STREAMING (runs streaming at once, 50), LOAD_PARKED (runs waiting for
 * an approval or a question, half each, 200), LOAD_WATCHERS (sockets each following a random streaming
 * run, 20), LOAD_STORM (POST /api/runs in LOAD_STORM_SECONDS, 100 in 10 s); LOAD_SHAPE=quick for the
 * shortened workload of the integration test (to check the bench itself in a minute), LOAD_SHAPE=short for the
 * issue's turns (same first token, rate, length, tools) but 3–6 of them a run (a profile in minutes rather than a
 * quarter of an hour). LOAD_WORKER_PROFILE=<dir>: the worker process writes a V8 CPU profile there on exit
 * (`--cpu-prof`; one per thread, the workflow threads included). LOAD_WORKER_NODE_ARGS: Node flags for the worker process
 * alone (space-separated), to measure a flag such as `--max-semi-space-size` on the worker. The worker's log is kept in
 * bench/results/load-worker.log.
 * LOAD_API=process: the API runs as a process of its own (api/main.ts, as deployed: the fake model and the HTTP clients
 * are elsewhere), every request of the bench going to it; LOAD_API=inprocess (the default) keeps it in this process,
 * beside the fake and the clients, whose CPU then counts in its answers. LOAD_API_PROFILE=<dir> (with LOAD_API=process):
 * the API process writes a V8 CPU profile there on exit; `profileWindowsUs.storm` cuts the storm out of it
 * (`npx tsx bench/profile-summary.ts <dir> bench/results/load.json storm`). LOAD_STORM_OWNERS=N: the storm's starts
 * spread over N users (each with its bearer token, API_TOKENS), round robin; 1 (the default) is one user, as before,
 * with no token — one owner's starts share the owner's queue lock, N owners' do not. Phases, in order:
 *   1. parked: the parked runs wait; worker memory before and after, the inbox and runs list timed,
 *      pending activities of the parked runs counted (a wait must hold none);
 *   2. streaming: the streaming runs start at once and run to the end while the parked wait and the
 *      watchers follow; schedule-to-start of every model call (ActivityTaskScheduled → Started in each
 *      run's history), per-run model call time (slowest run ÷ median run), delta latency to the
 *      sockets (the fake's send → the socket's arrival, one clock), the worker process's CPU per
 *      streamed token (/proc);
 *   3. decisions: every parked run decided through the API, 100 at a time; decision → next model call
 *      (the fake's arrival);
 *   4. start storm: paced POST /api/runs; each answer's latency, every run started and completed once.
 * Goals (issue 26, at 1,000 streaming / 10,000 parked / 1,000 starts) are printed beside the figures;
 * at other sizes they are a reference only.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { summarize } from './env';
import { QUICK_LOAD, REALISTIC_LOAD, loadGoal, loadMarkerOf, loadReply, scriptLoad, type LoadRunKind } from '../test/support/agent-load';
import { FakeAnthropic } from '../test/support/fake-anthropic';
import { startHarness, type Harness } from '../test/support/harness';
import { wholeInbox } from './inbox';
import { LiveClient, wsUrl, type ServerMessage } from '../test/support/live-client';
import { startApiProcess, startWorkerProcess, type ChildHandle } from '../test/support/processes';
import { freePort } from '../test/support/ports';
import { seededRandom } from '../test/support/random';
import { waitFor } from '../test/support/wait';
import { isTerminalStatus } from '../contract/run';

const EventType = temporal.api.enums.v1.EventType;
const MODEL_ACTIVITY = 'callModel';
/** The turns, fewer of them: the per-turn and per-token costs are the same, a run takes a minute or two. */
export const SHORT_LOAD = { ...REALISTIC_LOAD, turns: [3, 6] as [number, number] };
const CLOCK_TICKS_PER_SECOND = 100;
/** Now on the system's monotonic clock, µs: the clock of V8's CPU profiles, so a phase can be cut out of the worker's. */
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n); // Linux's USER_HZ, in which /proc/<pid>/stat counts CPU time

/** A process's CPU time so far (user + system, ms) from /proc. */
export function cpuMsOf(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // after the command name, which may hold spaces
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND; // utime, stime (fields 14 and 15)
}

/** A process's CPU time so far (ms) by thread name (`/proc/<pid>/task`): the main thread, the workflow threads, Temporal's core (tokio), V8's and libuv's. */
function cpuMsByThreadOf(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replace(/[0-9]+$/, '#');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(name, (out.get(name) ?? 0) + ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND);
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/** What each thread name spent between two readings, ms, biggest first. */
function cpuMsByThreadSince(pid: number, before: Map<string, number>): Record<string, number> {
  const now = cpuMsByThreadOf(pid);
  return Object.fromEntries([...now].map(([k, v]) => [k, round(v - (before.get(k) ?? 0))] as const).filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]));
}

/** A process's resident memory, MB, from /proc. */
function rssMbOf(pid: number): number {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  return kb / 1024;
}

/** One thread's figures from bench/worker-memory.js, MB (rss is the process's). */
type ThreadMemory = { threadId: number; heapUsedMb: number; heapTotalMb: number; externalMb: number; nativeContexts: number; detachedContexts: number; rssMb: number; arrayBuffersMb: number };

/**
 * The worker's memory by thread after a full GC in each (bench/worker-memory.js): asks every thread for its figures
 * under `label`, waits for as many answers as threads have reported before. Thread 0 is the main thread (activities,
 * bus, Longhaul's state); the others are the SDK's workflow thread(s), where the sticky cache's workflows live.
 */
async function workerMemoryOf(dir: string, label: string, heap = false): Promise<ThreadMemory[]> {
  const threads = fs.readdirSync(dir).filter((f) => /^thread-\d+\.json$/.test(f)).length;
  fs.writeFileSync(path.join(dir, `snapshot-${label}`), heap ? 'heap' : '');
  const answered = () => fs.readdirSync(dir).filter((f) => f.startsWith(`${label}-thread-`) && f.endsWith('.json'));
  await waitFor(() => threads > 0 && answered().length >= threads, { timeoutMs: 10 * 60_000, intervalMs: 500, what: `the worker's ${threads} threads' memory (${label})` });
  const round2 = (x: number) => Number(x.toFixed(1));
  return answered()
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as ThreadMemory)
    .sort((a, b) => a.threadId - b.threadId)
    .map((t) => ({ ...t, heapUsedMb: round2(t.heapUsedMb), heapTotalMb: round2(t.heapTotalMb), externalMb: round2(t.externalMb), rssMb: round2(t.rssMb), arrayBuffersMb: round2(t.arrayBuffersMb) }));
}

const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) => (t ? Number(t.seconds) * 1000 + (t.nanos ?? 0) / 1e6 : NaN);
export const round = (x: number, digits = 1) => Number(x.toFixed(digits));
export const summary = (xs: number[], digits = 1) => Object.fromEntries(Object.entries(summarize(xs)).map(([k, v]) => [k, k === 'n' ? v : round(v, digits)]));

/** Runs `tasks` with at most `limit` in flight. */
async function inBatches<T>(items: T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await task(items[next++]!);
  }));
}

/** A run's history, asked again after a failed fetch (a deadline exceeded while the server is busy loses the whole bench otherwise). */
async function historyOf(h: Harness, id: string): Promise<temporal.api.history.v1.IHistory> {
  for (let tries = 1; ; tries++) {
    try {
      return await h.client.workflow.getHandle(id).fetchHistory();
    } catch (err) {
      if (tries >= 5) throw err;
      await new Promise((r) => setTimeout(r, 1000 * tries));
    }
  }
}

/**
 * Each model call of a run, from its history: scheduled → started (waiting for a slot) and scheduled → completed;
 * and when each started and completed (epoch ms, in the order the calls completed: a run's calls follow each other).
 */
export async function modelCalls(h: Harness, id: string): Promise<{ scheduleToStartMs: number[]; callMs: number[]; startedAt: number[]; completedAt: number[]; historyBytes: number }> {
  const history = await historyOf(h, id);
  const { events } = history;
  const scheduled = new Map<string, number>();
  const started = new Map<string, number>();
  const out = { scheduleToStartMs: [] as number[], callMs: [] as number[], startedAt: [] as number[], completedAt: [] as number[], historyBytes: temporal.api.history.v1.History.encode(history).finish().length };
  for (const e of events ?? []) {
    if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED && e.activityTaskScheduledEventAttributes?.activityType?.name === MODEL_ACTIVITY) scheduled.set(String(e.eventId), ms(e.eventTime));
    else if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED) {
      const s = scheduled.get(String(e.activityTaskStartedEventAttributes!.scheduledEventId));
      if (s !== undefined) {
        started.set(String(e.activityTaskStartedEventAttributes!.scheduledEventId), ms(e.eventTime));
        out.scheduleToStartMs.push(ms(e.eventTime) - s);
      }
    } else if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
      const sid = String(e.activityTaskCompletedEventAttributes!.scheduledEventId);
      const s = scheduled.get(sid);
      if (s !== undefined) {
        out.callMs.push(ms(e.eventTime) - s);
        out.startedAt.push(started.get(sid) ?? NaN);
        out.completedAt.push(ms(e.eventTime));
      }
    }
  }
  return out;
}

/** The pieces of a decision's way to the run's next model call, ms, from its history (one clock: this machine's). */
type DecisionPath = Record<string, number>;

/**
 * Where a decided run's time went, from the decision's request sent (`decidedAt`) to the fake's arrival of the next
 * model call (`arrivedAt`): the API's request until the signal is in the history; then every workflow task (waiting
 * for a worker, running) and every activity (waiting for a slot, running, by name) until the model call starts; then
 * the model call's own work before its request reaches the fake. The pieces follow each other (one run is one
 * thread of work here), so they add up to the whole, less the gaps between a task's end and the next one's schedule.
 */
async function decisionPathOf(h: Harness, id: string, decidedAt: number, arrivedAt: number): Promise<DecisionPath> {
  const { events } = await h.client.workflow.getHandle(id).fetchHistory();
  const out: DecisionPath = {};
  const add = (k: string, v: number) => (out[k] = (out[k] ?? 0) + v);
  const names = new Map<string, string>();
  const scheduledAt = new Map<string, number>();
  let signalled = NaN;
  let wftScheduled = NaN;
  let wftStarted = NaN;
  for (const e of events ?? []) {
    const t = ms(e.eventTime);
    if (Number.isNaN(signalled)) {
      if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED && t >= decidedAt - 50) {
        signalled = t;
        add('api: request sent → signal in history', t - decidedAt);
      }
      continue;
    }
    switch (e.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
        wftScheduled = t;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
        add('workflow task: scheduled → started', t - wftScheduled);
        wftStarted = t;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
        // The first task after the decision replays the run's history first when the run left the worker's cache.
        if (out['workflow tasks (count)'] === undefined) add('first workflow task after the decision: started → completed', t - wftStarted);
        add('workflow task: started → completed', t - wftStarted);
        add('workflow tasks (count)', 1);
        break;
      case EventType.EVENT_TYPE_MARKER_RECORDED:
        // A local activity's marker, or a patch's (recorded where a run first takes a patched path).
        if (e.markerRecordedEventAttributes?.markerName === 'core_local_activity') add('local activities, run inside those tasks (count)', 1);
        else add('other markers: patches (count)', 1);
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: {
        const name = e.activityTaskScheduledEventAttributes?.activityType?.name ?? '?';
        names.set(String(e.eventId), name);
        scheduledAt.set(String(e.eventId), t);
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
        const sid = String(e.activityTaskStartedEventAttributes!.scheduledEventId);
        add(`activity ${names.get(sid)}: scheduled → started`, t - scheduledAt.get(sid)!);
        if (names.get(sid) === MODEL_ACTIVITY) {
          // The started event is written when the activity completes (it holds the attempt), but its time is the start.
          add(`activity ${MODEL_ACTIVITY}: started → request at the fake`, arrivedAt - t);
          add('total', arrivedAt - decidedAt);
          return out;
        }
        scheduledAt.set(sid, t);
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: {
        const sid = String(e.activityTaskCompletedEventAttributes!.scheduledEventId);
        add(`activity ${names.get(sid)}: started → completed`, t - scheduledAt.get(sid)!);
        break;
      }
      default:
    }
  }
  add('total', arrivedAt - decidedAt);
  return out;
}

/** Transactions committed or rolled back in the bench's database so far (every process on it; Postgres counts them late). */
async function transactionsOf(h: Harness): Promise<number> {
  const pool = h.store.opened.pool;
  if (!pool) return NaN;
  const { rows } = await pool.query<{ n: string }>('select xact_commit + xact_rollback as n from pg_stat_database where datname = current_database()');
  return Number(rows[0]?.n);
}

export async function loadBench() {
  const streaming = Number(process.env.LOAD_STREAMING ?? 50);
  const parked = Number(process.env.LOAD_PARKED ?? 200);
  const watcherCount = Number(process.env.LOAD_WATCHERS ?? 20);
  const storm = Number(process.env.LOAD_STORM ?? 100);
  const stormSeconds = Number(process.env.LOAD_STORM_SECONDS ?? 10);
  const shape = process.env.LOAD_SHAPE === 'quick' ? QUICK_LOAD : process.env.LOAD_SHAPE === 'short' ? SHORT_LOAD : REALISTIC_LOAD;
  const profileDir = process.env.LOAD_WORKER_PROFILE ? path.resolve(process.env.LOAD_WORKER_PROFILE) : undefined;
  /** LOAD_WORKER_NODE_ARGS: Node flags for the worker process alone, space-separated (e.g. `--max-semi-space-size=64`). */
  const workerNodeArgs = (process.env.LOAD_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const everything = streaming + parked + storm + 10;
  /** LOAD_HEAP_SNAPSHOT=1: every worker thread writes a heap snapshot with the runs parked (into bench/results/). */
  const heapSnapshot = process.env.LOAD_HEAP_SNAPSHOT === '1';
  const apiMode = process.env.LOAD_API === 'process' ? 'process' : 'inprocess';
  const apiProfileDir = process.env.LOAD_API_PROFILE ? path.resolve(process.env.LOAD_API_PROFILE) : undefined;
  const stormOwners = Math.max(1, Number(process.env.LOAD_STORM_OWNERS ?? 1));
  /** One bearer token per storm owner (none for one owner: the open server's one user, as the bench always had). */
  const ownerTokens = stormOwners > 1 ? Array.from({ length: stormOwners }, (_, k) => `load-storm-token-${k}`) : [];
  const memoryDir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-load-memory-'));

  const fake = new FakeAnthropic();
  fake.keepRequests = false; // each holds its transcript; the bench keeps only what it measures
  scriptLoad(fake, shape);
  /** When each load run's model call for a turn first arrived (Date.now()), by marker. */
  const arrivals = new Map<string, Map<number, number>>();
  fake.onRequest = (req) => {
    const marker = loadMarkerOf(req.goal);
    if (!marker) return;
    const turns = arrivals.get(marker) ?? new Map<number, number>();
    if (!turns.has(req.assistantTurns)) turns.set(req.assistantTurns, req.receivedAt);
    arrivals.set(marker, turns);
  };
  /** Text characters sent and when (performance.now()), per watched run and model turn: `${marker}:${assistantTurns}`. */
  const watchedMarkers = new Set<string>();
  const sent = new Map<string, { chars: number[]; at: number[] }>();
  let charsStreamed = 0;
  const lastChars = new WeakMap<object, number>();
  /** When each load run's model call for a turn sent its last text (epoch ms), by `${marker}:${assistantTurns}`. */
  const lastTextAt = new Map<string, number>();
  fake.onTextSent = (req, chars, at) => {
    charsStreamed += chars - (lastChars.get(req) ?? 0);
    lastChars.set(req, chars);
    const marker = loadMarkerOf(req.goal);
    if (marker) lastTextAt.set(`${marker}:${req.assistantTurns}`, performance.timeOrigin + at);
    if (!marker || !watchedMarkers.has(marker)) return;
    const key = `${marker}:${req.assistantTurns}`;
    const s = sent.get(key) ?? { chars: [], at: [] };
    s.chars.push(chars);
    s.at.push(at);
    sent.set(key, s);
  };
  await fake.start();

  let h: Harness | undefined;
  let worker: ChildHandle | undefined;
  let apiProcess: ChildHandle | undefined;
  const watchers: LiveClient[] = [];
  try {
    h = await startHarness({
      noWorker: true,
      database: 'postgres',
      bus: 'database',
      env: {
        ANTHROPIC_API_KEY: fake.apiKey,
        ANTHROPIC_BASE_URL: fake.url,
        LLM_MODEL: 'claude-sonnet-5-5',
        LOG_LEVEL: 'silent',
        ACTIVITY_HEARTBEAT_TIMEOUT_SEC: '10', // the default; the test harness's 3 s would triple the heartbeats
        MAX_CONCURRENT_RUNS_PER_USER: String(everything),
        MAX_QUEUED_RUNS_PER_USER: String(everything),
        SEGMENT_MAX_TURNS: '1000',
        // The API's pool as the worker's (which inherits this environment): the decisions go through both.
        DATABASE_POOL_MAX: process.env.DATABASE_POOL_MAX ?? '',
        // The deployment's answer to a start (the test harness's waits for the workflow's start instead).
        START_RUN_WAIT_MS: process.env.START_RUN_WAIT_MS ?? '',
        ...(ownerTokens.length && { API_TOKENS: ownerTokens.map((t, k) => `${t}:load-user-${k}`).join(',') }),
      },
    });
    if (ownerTokens.length) h.defaultToken = ownerTokens[0];
    if (apiMode === 'process') {
      if (apiProfileDir) fs.mkdirSync(apiProfileDir, { recursive: true });
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      // Its requests not logged, as the in-process API's are not (LOG_LEVEL silent there): the same work in both.
      apiProcess = await startApiProcess(
        { ...h.env, PORT: String(port), LOG_LEVEL: 'warn' },
        { nodeArgs: apiProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${apiProfileDir}`] : [], ready: async () => (await fetch(`${url}/healthz`)).ok },
      );
      h.apiUrl = url;
    }
    // The worker reports its memory by thread (bench/worker-memory.js), for the parked phase.
    const memoryArgs = ['--require', path.join(__dirname, 'worker-memory.js')];
    worker = await startWorkerProcess({ ...h.env, LOAD_MEMORY_DIR: memoryDir }, { nodeArgs: [...memoryArgs, ...workerNodeArgs, ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])] });
    const pid = worker.pid;
    const harness = h;
    const idOf = new Map<string, string>(); // marker → run id

    // Warm-up: one short run, so the worker has loaded everything before memory is read.
    const warm = await harness.createRun({ goal: loadGoal('question', parked + 1), approvals: 'write' });
    await harness.waitForStatus(warm, 'waiting_input', { timeoutMs: 120_000 });
    await harness.request('POST', `/api/runs/${warm}/input`, { body: { text: 'go' } });
    await harness.client.workflow.getHandle(warm).result();

    // 1. Parked runs.
    const memoryBefore = await workerMemoryOf(memoryDir, 'before');
    const rssBeforeMb = rssMbOf(pid);
    const parkStarted = performance.now();
    const parkedRuns: { id: string; kind: LoadRunKind }[] = [];
    await inBatches(Array.from({ length: parked }, (_, i) => i), 50, async (i) => {
      const kind: LoadRunKind = i % 2 === 0 ? 'approval' : 'question';
      const id = await harness.createRun({ goal: loadGoal(kind, i), approvals: 'write' });
      idOf.set(`load-${kind[0]}${i}`, id);
      parkedRuns.push({ id, kind });
    });
    let inbox: { kind: 'approval' | 'question'; id: string; runId: string }[] = [];
    // A run that ended without waiting (on a machine loaded enough that a model call's heartbeat timed out, its retry
    // can answer instead of asking) is counted and left out of the decisions, rather than waited for forever.
    let endedEarly: string[] = [];
    await waitFor(
      async () => {
        inbox = await wholeInbox(harness);
        if (inbox.length >= parked) return true;
        endedEarly = (await harness.store.runs.getMany(parkedRuns.map((p) => p.id))).filter((r) => isTerminalStatus(r.status)).map((r) => r.id);
        return inbox.length + endedEarly.length >= parked;
      },
      { timeoutMs: 60 * 60_000, intervalMs: 2000, what: () => `${parked} parked runs in the inbox (have ${inbox.length}, ${endedEarly.length} ended without waiting)` },
    );
    for (const id of endedEarly) parkedRuns.splice(parkedRuns.findIndex((p) => p.id === id), 1);
    const parkSeconds = (performance.now() - parkStarted) / 1000;
    const rssParkedMb = rssMbOf(pid);
    const memoryParked = await workerMemoryOf(memoryDir, 'parked', heapSnapshot);
    if (heapSnapshot) {
      for (const f of fs.readdirSync(memoryDir).filter((n) => n.endsWith('.heapsnapshot'))) fs.copyFileSync(path.join(memoryDir, f), path.join(__dirname, 'results', `load-${f}`));
    }
    let pendingActivities = 0;
    const sampled = parkedRuns.slice(0, 50);
    for (const p of sampled) pendingActivities += ((await harness.client.workflow.getHandle(p.id).describe()).raw.pendingActivities ?? []).length;
    const timeRequests = async (path: string, times: number) => {
      const out: number[] = [];
      for (let i = 0; i < times; i++) {
        const t0 = performance.now();
        const res = await harness.request('GET', path);
        if (res.status !== 200) throw new Error(`GET ${path}: ${res.status}`);
        out.push(performance.now() - t0);
      }
      return out;
    };
    const inboxMs = await timeRequests('/api/inbox', 50);
    const runsListMs = await timeRequests('/api/runs', 50);
    const approvalsListMs = await timeRequests('/api/approvals', 50);
    // The parked phase's figures at once (the other phases take long at large sizes).
    console.error(JSON.stringify({ parkedPhase: { parked, endedEarly: endedEarly.length, parkSeconds: round(parkSeconds), rssBeforeMb: round(rssBeforeMb), rssParkedMb: round(rssParkedMb), memoryBefore, memoryParked, inboxMs: summary(inboxMs), runsListMs: summary(runsListMs), approvalsListMs: summary(approvalsListMs), pendingActivities } }));

    // The worker's CPU with only the parked runs (polls, timers): the floor under the streaming figure.
    const idleCpu0 = cpuMsOf(pid);
    const idleThreads0 = cpuMsByThreadOf(pid);
    const idleStarted = performance.now();
    await new Promise((r) => setTimeout(r, 5000));
    const idleCpuMsPerSecond = (cpuMsOf(pid) - idleCpu0) / ((performance.now() - idleStarted) / 1000);
    const idleCpuMsByThread = cpuMsByThreadSince(pid, idleThreads0);

    // 2. Streaming runs, with watchers, while the parked wait.
    const cpu0 = cpuMsOf(pid);
    const threads0 = cpuMsByThreadOf(pid);
    const transactions0 = await transactionsOf(harness);
    const chars0 = charsStreamed;
    const streamStarted = performance.now();
    const streamWindowUs = [monotonicUs(), NaN];
    const streamIds = await Promise.all(
      Array.from({ length: streaming }, async (_, i) => {
        const id = await harness.createRun({ goal: loadGoal('streaming', i), approvals: 'none', limits: { maxSteps: shape.turns[1] + 5 } });
        idOf.set(`load-s${i}`, id);
        return id;
      }),
    );
    const markerOf = new Map([...idOf].map(([m, id]) => [id, m]));
    const random = seededRandom(shape.seed);
    const deltaMs: number[] = [];
    let unmatchedDeltas = 0;
    const deltas: { marker: string; turn: number; end: number; at: number }[] = [];
    for (let w = 0; w < (streaming > 0 ? watcherCount : 0); w++) {
      const id = streamIds[Math.floor(random() * streaming)]!;
      watchedMarkers.add(markerOf.get(id)!);
      const client = await LiveClient.connect(wsUrl(harness.apiUrl ?? harness.api.url), { token: harness.defaultToken });
      client.ws.on('message', (data) => {
        const at = performance.now();
        const m = JSON.parse(data.toString()) as ServerMessage;
        if (m.type === 'delta') deltas.push({ marker: markerOf.get(m.runId)!, turn: m.turn, end: m.offset + m.text.length, at });
      });
      client.subscribe(id, 0);
      watchers.push(client);
    }
    // At most 500 result polls at once: past 1,000 streaming runs, one each at once exceeded the dev server's limit
    // of concurrent polls (`namespace concurrent poller limit exceeded`). The phase still ends with its last run.
    await inBatches(streamIds, 500, async (id) => void (await harness.client.workflow.getHandle(id).result()));
    const streamSeconds = (performance.now() - streamStarted) / 1000;
    streamWindowUs[1] = monotonicUs();
    const cpuMs = cpuMsOf(pid) - cpu0;
    const cpuMsByThread = cpuMsByThreadSince(pid, threads0);
    const tokens = (charsStreamed - chars0) / 4;
    // Postgres counts a backend's transactions when it reports, at most every second and within ~10 s when idle.
    if (streaming > 0) await new Promise((r) => setTimeout(r, 11_000));
    const transactions = (await transactionsOf(harness)) - transactions0;
    // A delta for a run's turn T (Longhaul counts from 1) carries text up to `end`: it left the fake with the
    // send that first reached `end` characters in that run's model call with T - 1 assistant turns before it.
    for (const d of deltas) {
      const s = sent.get(`${d.marker}:${d.turn - 1}`);
      const i = s ? s.chars.findIndex((c) => c >= d.end) : -1;
      if (!s || i < 0) unmatchedDeltas++;
      else deltaMs.push(d.at - s.at[i]!);
    }
    const calls = await Promise.all(streamIds.map((id) => modelCalls(harness, id)));
    const perRunMeanCallMs = calls.map((c) => c.callMs.reduce((a, b) => a + b, 0) / (c.callMs.length || 1)).sort((a, b) => a - b);
    const medianRun = perRunMeanCallMs[Math.floor(perRunMeanCallMs.length / 2)] ?? NaN;
    // What each call took beyond what the fake was told to take (first token + tokens at the rate): the queueing
    // and Longhaul's own time, without the workload's own spread of turn lengths.
    const plannedMs = (goal: string, turn: number) => {
      const r = loadReply(shape, goal, turn);
      return (r.firstTokenMs ?? 0) + ((r.text ?? '').length / 4 / (r.tokensPerSecond ?? Infinity)) * 1000;
    };
    const perRunExcessMs = calls
      .map((c, i) => c.callMs.reduce((sum, took, turn) => sum + took - plannedMs(loadGoal('streaming', i), turn), 0) / (c.callMs.length || 1))
      .sort((a, b) => a - b);
    // Each call cut in three (one clock: this machine's): its activity's start → its request at the fake (the
    // statements before the stream); the stream beyond its plan (the fake's pacing, the worker reading late); its
    // last text sent → its activity completed in the history (the commit after the stream, and reporting back).
    const callParts = { startToRequestMs: [] as number[], streamBeyondPlanMs: [] as number[], lastTextToCompletedMs: [] as number[] };
    calls.forEach((c, i) => {
      const marker = `load-s${i}`;
      c.startedAt.forEach((startedAt, turn) => {
        const arrivedAt = arrivals.get(marker)?.get(turn);
        const lastAt = lastTextAt.get(`${marker}:${turn}`);
        if (arrivedAt === undefined || lastAt === undefined) return;
        callParts.startToRequestMs.push(arrivedAt - startedAt);
        callParts.streamBeyondPlanMs.push(lastAt - arrivedAt - plannedMs(loadGoal('streaming', i), turn));
        callParts.lastTextToCompletedMs.push(c.completedAt[turn]! - lastAt);
      });
    });

    // 3. Decisions, 100 at a time.
    const decisionWindowUs = [monotonicUs(), NaN];
    const decisionThreads0 = cpuMsByThreadOf(pid);
    const decisionStarted = performance.now();
    const decidedAt = new Map<string, number>();
    const decisionAnswerMs: number[] = [];
    await inBatches(inbox, 100, async (item) => {
      const t0 = Date.now();
      const res =
        item.kind === 'approval'
          ? await harness.request('POST', `/api/runs/${item.runId}/approvals/${item.id}`, { body: { decision: 'approve' } })
          : await harness.request('POST', `/api/runs/${item.runId}/input`, { body: { text: 'the short way' } });
      if (res.status !== 200) throw new Error(`deciding ${item.kind} ${item.id}: ${res.status} ${JSON.stringify(res.body)}`);
      decisionAnswerMs.push(Date.now() - t0);
      decidedAt.set(item.runId, t0);
    });
    // 100 results waited for at a time: thousands of long polls at once exceed the server's concurrent poller limit.
    await inBatches(parkedRuns, 100, async (p) => void (await harness.client.workflow.getHandle(p.id).result()));
    const decisionToNextCallMs = parkedRuns.map((p) => (arrivals.get(markerOf.get(p.id)!)?.get(1) ?? NaN) - decidedAt.get(p.id)!);
    decisionWindowUs[1] = monotonicUs();
    const decisionCpuMsByThread = cpuMsByThreadSince(pid, decisionThreads0);
    const decisionSeconds = (performance.now() - decisionStarted) / 1000;
    const paths = await Promise.all(parkedRuns.map((p) => decisionPathOf(harness, p.id, decidedAt.get(p.id)!, arrivals.get(markerOf.get(p.id)!)?.get(1) ?? NaN)));
    const pathOf = (kind: LoadRunKind) => {
      const of = paths.filter((_, i) => parkedRuns[i]!.kind === kind);
      const keys = [...new Set(of.flatMap((p) => Object.keys(p)))];
      return Object.fromEntries(keys.map((k) => [k, summary(of.map((p) => p[k] ?? 0))]));
    };
    const decisionPath = { approval: pathOf('approval'), question: pathOf('question') };

    // 4. Start storm, paced evenly over the seconds given. Each storm run is of the approval kind with approvals
    // off: its write runs at once, then one streamed answer.
    const stormMs: number[] = [];
    const stormIds: string[] = [];
    const stormRefused: Record<string, number> = {};
    const apiCpu0 = apiProcess ? cpuMsOf(apiProcess.pid) : NaN;
    const stormWindowUs = [monotonicUs(), NaN];
    const stormStarted = performance.now();
    await Promise.all(
      Array.from({ length: storm }, async (_, i) => {
        const due = stormStarted + (i * stormSeconds * 1000) / storm;
        await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
        const t0 = performance.now();
        const res = await harness.request('POST', '/api/runs', { body: { goal: loadGoal('approval', 100_000 + i), approvals: 'none' }, token: ownerTokens[i % stormOwners] });
        // Only a start taken counts toward the latency the goal names; a start refused (a 503 when the API's pool
        // could not give it a connection in time) is counted apart, not fatal, and misses the goal.
        if (res.status === 202) {
          stormMs.push(performance.now() - t0);
          stormIds.push(res.body.id as string);
        }
        else stormRefused[`${res.status} ${res.body?.error?.code ?? ''}`.trim()] = (stormRefused[`${res.status} ${res.body?.error?.code ?? ''}`.trim()] ?? 0) + 1;
      }),
    );
    const stormPostSeconds = (performance.now() - stormStarted) / 1000;
    stormWindowUs[1] = monotonicUs();
    const apiCpuMs = apiProcess ? cpuMsOf(apiProcess.pid) - apiCpu0 : NaN;
    // 100 results waited for at a time, as the decisions' (the server's concurrent poller limit).
    // A run answered before its workflow started has none to wait on yet: first its start (its owed mark cleared).
    // Then how long after its commit its workflow started: the wait an early answer takes out of the client's.
    const stormStartLagMs: number[] = [];
    await inBatches(stormIds, 100, async (id) => {
      await waitFor(async () => (await harness.store.runs.get(id))?.startOwed === false, { timeoutMs: 600_000, what: `run ${id}'s workflow to start` });
      const handle = harness.client.workflow.getHandle(id);
      await handle.result();
      const [run, described] = await Promise.all([harness.store.runs.get(id), handle.describe()]);
      stormStartLagMs.push(described.startTime.getTime() - Date.parse(run!.createdAt));
    });
    let stormCompletedOnce = 0;
    for (const id of stormIds) if ((await harness.events(id)).filter((e) => e.type === 'run.completed').length === 1) stormCompletedOnce++;

    return {
      scale: { streaming, parked, watchers: watcherCount, storm, stormSeconds },
      shape,
      streaming: {
        seconds: round(streamSeconds),
        modelCalls: calls.reduce((n, c) => n + c.callMs.length, 0),
        scheduleToStartMs: summary(calls.flatMap((c) => c.scheduleToStartMs)),
        modelCallMsPerRun: { median: round(medianRun), slowest: round(perRunMeanCallMs.at(-1) ?? NaN), slowestToMedian: round((perRunMeanCallMs.at(-1) ?? NaN) / medianRun, 2) },
        modelCallMsBeyondPlanPerRun: { median: round(perRunExcessMs[Math.floor(perRunExcessMs.length / 2)] ?? NaN), slowest: round(perRunExcessMs.at(-1) ?? NaN) },
        modelCallParts: {
          startToRequestMs: summary(callParts.startToRequestMs),
          streamBeyondPlanMs: summary(callParts.streamBeyondPlanMs),
          lastTextToCompletedMs: summary(callParts.lastTextToCompletedMs),
        },
        watcherDeltaMs: { ...summary(deltaMs, 2), unmatched: unmatchedDeltas },
        watcherViolations: watchers.reduce((n, w) => n + w.violations.length, 0),
        tokensStreamed: Math.round(tokens),
        workerCpuMs: round(cpuMs),
        workerCpuUsPerToken: round((cpuMs * 1000) / tokens, 1),
        workerCpuMsByThread: cpuMsByThread,
        workerIdleCpuMsPerSecond: round(idleCpuMsPerSecond),
        workerIdleCpuMsByThread: idleCpuMsByThread,
        workerCpuUsPerTokenAboveIdle: round(((cpuMs - idleCpuMsPerSecond * streamSeconds) * 1000) / tokens, 1),
        // Every process on the bench's database (the worker, and the API reading for the sockets).
        databaseTransactions: transactions,
        databaseTransactionsPerToken: round(transactions / tokens, 3),
        // Longhaul's own cost of a streaming run beside the model's tokens (means over the streaming runs).
        perRun: {
          tokens: Math.round(tokens / (streaming || 1)),
          modelCalls: round(calls.reduce((n, c) => n + c.callMs.length, 0) / (streaming || 1)),
          workerCpuMs: round(cpuMs / (streaming || 1)),
          databaseTransactions: Math.round(transactions / (streaming || 1)),
          historyBytes: Math.round(calls.reduce((n, c) => n + c.historyBytes, 0) / (streaming || 1)),
        },
      },
      parked: {
        workerRssMb: { before: round(rssBeforeMb), parked: round(rssParkedMb) },
        workerKbPerParkedRun: round(((rssParkedMb - rssBeforeMb) * 1024) / (parked || 1)),
        parkSeconds: round(parkSeconds),
        endedWithoutWaiting: endedEarly.length,
        // By thread after a full GC in each: thread 0 the main thread, the others the workflow thread(s).
        workerMemoryByThread: { before: memoryBefore, parked: memoryParked },
        workerKbPerParkedRunByThread: Object.fromEntries(
          memoryParked.map((t) => [t.threadId, round(((t.heapUsedMb - (memoryBefore.find((b) => b.threadId === t.threadId)?.heapUsedMb ?? 0)) * 1024) / (parked || 1))]),
        ),
        workerKbPerParkedRunAfterGc: round((((memoryParked[0]?.rssMb ?? NaN) - (memoryBefore[0]?.rssMb ?? NaN)) * 1024) / (parked || 1)),
        cachedWorkflows: Number(process.env.WORKER_CACHED_WORKFLOWS ?? 2000),
        pendingActivitiesOfSampledParkedRuns: { sampled: sampled.length, pending: pendingActivities },
        inboxMs: summary(inboxMs),
        inboxItems: inbox.length,
        runsListMs: summary(runsListMs),
        // GET /api/approvals' first page (paged like the inbox since session 19).
        approvalsListMs: summary(approvalsListMs),
      },
      decisions: {
        decided: decidedAt.size,
        answerMs: summary(decisionAnswerMs),
        // The phase's length and the worker's CPU in it by thread: a resume burst is paced by the workflow thread(s).
        seconds: round(decisionSeconds),
        workerCpuMsByThread: decisionCpuMsByThread,
        decisionToNextModelCallMs: summary(decisionToNextCallMs),
        decisionPathMs: decisionPath,
      },
      // The phases on the clock of the worker's CPU profile (LOAD_WORKER_PROFILE): bench/profile-summary.ts cuts them out.
      profileWindowsUs: { streaming: streamWindowUs, decisions: decisionWindowUs, storm: stormWindowUs },
      startStorm: {
        api: apiMode,
        owners: stormOwners,
        started: new Set(stormIds).size,
        refused: stormRefused,
        completedOnce: stormCompletedOnce,
        postMs: summary(stormMs),
        // The run's commit (created_at) → its workflow's start in Temporal (two clocks of this machine).
        commitToWorkflowStartMs: summary(stormStartLagMs),
        // From the first POST sent to the last answer; the API process's CPU over it (its own process only).
        postSeconds: round(stormPostSeconds),
        ...(apiProcess && { apiCpuMs: round(apiCpuMs), apiCpuMsPerStart: round(apiCpuMs / (storm || 1), 2) }),
      },
      goals: {
        atScale: '1,000 streaming, 10,000 parked, 1,000 starts in 10 s (issue 26); at other sizes a reference only',
        scheduleToStartP99Ms: 1000,
        slowestToMedian: 2,
        watcherDeltaP99Ms: 250,
        workerCpuUsPerToken: 20,
        workerRssWithAllParkedMb: 1024,
        inboxAndRunsListP99Ms: 200,
        decisionToNextModelCallP99Ms: 2000,
        startStormPostP99Ms: 500,
      },
    };
  } finally {
    for (const w of watchers) w.terminate();
    await worker?.kill('SIGTERM');
    // After the worker is gone: while it lives it may be writing a memory sample there (a removal beside it failed).
    fs.rmSync(memoryDir, { recursive: true, force: true });
    // SIGTERM: the API closes and exits, writing its CPU profile (LOAD_API_PROFILE).
    await apiProcess?.kill('SIGTERM');
    if (apiProcess) {
      fs.mkdirSync(path.join(__dirname, 'results'), { recursive: true });
      fs.writeFileSync(path.join(__dirname, 'results', 'load-api.log'), apiProcess.output());
    }
    // The worker's log, kept: a run that failed under load is explained by it (which activity, which attempt, why).
    if (worker) {
      fs.mkdirSync(path.join(__dirname, 'results'), { recursive: true });
      fs.writeFileSync(path.join(__dirname, 'results', 'load-worker.log'), worker.output());
    }
    await h?.close();
    await fake.stop();
  }
}
