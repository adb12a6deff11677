/**
 * A whole Longhaul inside one test suite: store (SQLite in a temp dir, or a fresh Postgres
 * database), worker polling a suite-private task queue on the shared dev server, and the HTTP
 * API on a free port. Everything it starts, it stops.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { Worker, WorkerInterceptors } from '@temporalio/worker';
import type { ModelAdapter } from '../../activities/model/model-adapter';
import type { ToolDefinition } from '../../activities/tools/tool';
import { startApiServer, type ApiServer } from '../../api/server';
import type { Bus } from '../../shared/bus/bus';
import { loadConfig, type Config } from '../../shared/config';
import { openFoundation, type Foundation } from '../../shared/foundation';
import { createLogger, type Logger } from '../../shared/logger';
import type { Store } from '../../shared/store';
import { startWorker, type RunningWorker } from '../../worker/start-worker';
import type { RunStatus } from '../../contract/run';
import type { EventType, RunEvent, RunEventOf } from '../../contract/events';
import { createPostgresDatabase } from './postgres';
import { testEnv } from './test-env';
import { waitFor } from './wait';

export interface HarnessOptions {
  env?: Record<string, string>;
  extraTools?: ToolDefinition<any>[];
  modelFor?: (model: string) => ModelAdapter;
  database?: 'sqlite' | 'postgres';
  /** Start without a worker (tests that start and stop workers themselves). */
  noWorker?: boolean;
  /** Another Temporal server than the suite-wide dev server (tests that restart Temporal). */
  temporalAddress?: string;
  /** 'database': the API reads live updates through the database, as when the worker is elsewhere. */
  bus?: 'memory' | 'database';
  interceptors?: WorkerInterceptors;
}

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export class Harness {
  /** Runs this harness created, for recording their histories as replay fixtures. */
  private readonly created: { id: string; goal: string }[] = [];
  /** Bearer token sent when a call names none (suites that set API_TOKENS). */
  defaultToken?: string;
  /** Where request() sends its calls when not to this harness's own API: an API process of the bench's (bench/load.ts, LOAD_API=process). */
  apiUrl?: string;
  private running?: RunningWorker;

  constructor(
    readonly config: Config,
    readonly env: Record<string, string>,
    private readonly foundation: Foundation,
    public api: ApiServer,
    readonly logger: Logger,
    private readonly opts: HarnessOptions,
    private readonly cleanup: (() => Promise<void>)[],
  ) {}

  get taskQueue(): string {
    return this.config.temporal.taskQueue;
  }

  get store(): Store {
    return this.foundation.store;
  }

  get bus(): Bus {
    return this.foundation.bus;
  }

  get client(): Client {
    return this.foundation.client;
  }

  get worker(): Worker | undefined {
    return this.running?.worker;
  }

  /** Stops the API server and starts a new one on the same port: every socket drops. */
  async restartApi(): Promise<void> {
    const port = Number(new URL(this.api.url).port);
    await this.api.close();
    const config = { ...this.config, api: { ...this.config.api, port } };
    this.api = await startApiServer({ config, store: this.store, client: this.client, bus: this.bus, logger: this.logger });
  }

  async startWorker(): Promise<Worker> {
    if (this.running) throw new Error('worker already running');
    const running = await startWorker({
      config: this.config,
      foundation: this.foundation,
      logger: this.logger,
      extraTools: this.opts.extraTools,
      modelFor: this.opts.modelFor,
      interceptors: this.opts.interceptors,
      sweeperSchedule: false, // suites that test the sweeper run it themselves
    });
    this.running = running;
    await waitFor(() => running.worker.getState() === 'RUNNING', { what: 'worker running' });
    return running.worker;
  }

  async stopWorker(): Promise<void> {
    if (!this.running) return;
    await this.running.stop();
    this.running = undefined;
  }

  async request<T = any>(method: string, urlPath: string, opts: { body?: unknown; rawBody?: string; headers?: Record<string, string>; token?: string } = {}): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    let body: string | undefined;
    if (opts.rawBody !== undefined) body = opts.rawBody;
    else if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] ??= 'application/json';
    }
    const token = opts.token ?? this.defaultToken;
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(`${this.apiUrl ?? this.api.url}${urlPath}`, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON; keep the text
    }
    return { status: res.status, headers: res.headers, body: parsed as T };
  }

  /** A run started elsewhere (another API process) whose history should be recorded like the harness's own. */
  track(id: string, goal: string): void {
    this.created.push({ id, goal });
  }

  async createRun(body: Record<string, unknown>, opts: { token?: string; headers?: Record<string, string> } = {}): Promise<string> {
    const res = await this.request('POST', '/api/runs', { body, ...opts });
    if (res.status !== 202) throw new Error(`create run: ${res.status} ${JSON.stringify(res.body)}`);
    this.created.push({ id: res.body.id as string, goal: String(body.goal) });
    return res.body.id as string;
  }

  async getRun(id: string, token?: string): Promise<any> {
    const res = await this.request('GET', `/api/runs/${id}`, { token });
    if (res.status !== 200) throw new Error(`get run: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  /** Waits (polling the API) until the run's status is one of `statuses`. */
  async waitForStatus(id: string, statuses: RunStatus | RunStatus[], opts: { timeoutMs?: number; token?: string } = {}): Promise<any> {
    const wanted = Array.isArray(statuses) ? statuses : [statuses];
    let last: any;
    await waitFor(
      async () => {
        last = await this.getRun(id, opts.token);
        return wanted.includes(last.status);
      },
      { timeoutMs: opts.timeoutMs ?? 60_000, what: () => `run ${id} to be ${wanted.join('|')} (last: ${last?.status} ${last?.statusDetail ?? ''})` },
    );
    return last;
  }

  /** Waits until the run's transcript holds an event of `type` (matching `where`), and returns it. */
  async waitForEvent<T extends EventType>(id: string, type: T, where: (e: RunEventOf<T>) => boolean = () => true, timeoutMs = 30_000): Promise<RunEventOf<T>> {
    let found: RunEventOf<T> | undefined;
    await waitFor(
      async () => {
        found = (await this.events(id)).find((e): e is RunEventOf<T> => e.type === type && where(e as RunEventOf<T>));
        return found !== undefined;
      },
      { timeoutMs, what: `event ${type} on run ${id}` },
    );
    return found!;
  }

  async events(id: string): Promise<RunEvent[]> {
    return this.store.events.list(id, { after: 0, limit: 100_000 });
  }

  /** The Temporal history of the run's latest execution, as raw events. */
  async history(id: string) {
    return this.client.workflow.getHandle(id).fetchHistory();
  }

  /**
   * With RECORD_HISTORIES_DIR set (npm run record-histories), saves the history of every closed
   * execution of every run this harness created: the replay fixtures of test/replay.
   */
  private async recordHistories(dir: string): Promise<void> {
    fs.mkdirSync(dir, { recursive: true });
    const suite = path.basename(expect.getState().testPath ?? 'suite').replace(/\.test\.ts$/, '');
    for (const [i, run] of this.created.entries()) {
      const marker = (/\[([^\]]+)\]/.exec(run.goal)?.[1] ?? 'run').replace(/[^a-z0-9-]+/gi, '-');
      // Visibility lags a little behind: wait until it lists every execution of the run as closed.
      let executions: WorkflowExecutionInfo[] = [];
      // A run the test left unfinished has nothing to record; one that is finishing gets a moment.
      const closed = await waitFor(async () => (await this.client.workflow.getHandle(run.id).describe()).status.name !== 'RUNNING', { timeoutMs: 3000 }).then(
        () => true,
        () => false,
      );
      if (!closed) continue;
      await waitFor(
        async () => {
          executions = [];
          for await (const wf of this.client.workflow.list({ query: `WorkflowId = "${run.id}"` })) executions.push(wf);
          return executions.length > 0 && executions.every((wf) => wf.status.name !== 'RUNNING');
        },
        { timeoutMs: 15_000, what: `visibility to close run ${run.id}` },
      );
      executions.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
      for (const [n, wf] of executions.entries()) {
        const history = await this.client.workflow.getHandle(run.id, wf.runId).fetchHistory();
        fs.writeFileSync(path.join(dir, `${suite}--${String(i).padStart(2, '0')}-${marker}--${n}.json`), JSON.stringify(JSON.parse(historyToJSON(history))));
      }
    }
  }

  /** Records this workflow's history too when recording (one the harness did not start: a schedule's firing). */
  recordAlso(workflowId: string, label: string): void {
    this.created.push({ id: workflowId, goal: `[${label}]` });
  }

  async close(): Promise<void> {
    if (process.env.RECORD_HISTORIES_DIR) await this.recordHistories(process.env.RECORD_HISTORIES_DIR);
    await this.stopWorker();
    await this.api.close();
    await this.foundation.close();
    for (const fn of this.cleanup.reverse()) await fn();
  }
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const t = testEnv();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-test-'));
  const cleanup: (() => Promise<void>)[] = [async () => fs.rmSync(dataDir, { recursive: true, force: true })];
  const env: Record<string, string> = {
    DATA_DIR: dataDir,
    TEMPORAL_ADDRESS: opts.temporalAddress ?? t.temporalAddress,
    TEMPORAL_TASK_QUEUE: `test-${path.basename(dataDir)}`,
    WORKFLOW_BUNDLE_PATH: t.workflowBundlePath,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DEMO_STREAM_DELAY_MS: '0',
    ACTIVITY_HEARTBEAT_TIMEOUT_SEC: '3',
    ACTIVITY_MAX_ATTEMPTS: '4',
    WORKER_SHUTDOWN_GRACE_SEC: '2',
    WORKER_STICKY_TIMEOUT_SEC: '2',
    // The answer to POST /api/runs follows the workflow's start, as it does on a server that is not flooded (the
    // default waits 100 ms): tests look at a run's workflow in Temporal right after. `owed-starts.test.ts` and the
    // crash-recovery test answer before the start.
    START_RUN_WAIT_MS: '10000',
    ...opts.env,
  };
  if (opts.database === 'postgres') {
    const db = await createPostgresDatabase(t.postgresUrl);
    env.DATABASE_URL = db.url;
    cleanup.push(db.drop);
  }
  const config = loadConfig(env);
  const logger = createLogger({ level: config.logLevel, name: 'test' });
  const foundation = await openFoundation({ config, logger, role: opts.bus === 'database' ? 'api' : 'shared' });
  const api = await startApiServer({ config, ...foundation, logger });
  const harness = new Harness(config, env, foundation, api, logger, opts, cleanup);
  if (!opts.noWorker) await harness.startWorker();
  return harness;
}
