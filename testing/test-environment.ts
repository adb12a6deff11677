/**
 * `createTestEnvironment`: an agent's runs, offline, on the real thing. The real run workflow (Longhaul's own
 * bundle) and the real activities run on Temporal's time-skipping test server (or a dev server), over a
 * temporary SQLite store and an in-memory bus, with the worker started the way every Longhaul worker is
 * (worker/start-worker.ts). Only the model is replaced: every model name is answered by the scripted model.
 * Runs are started, decided, answered and messaged through the API's own services, so a run's input is
 * resolved and validated, and its approvals recorded and signalled, exactly as `POST /api/runs` and the
 * approval routes do.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DefaultLogger, Runtime, makeTelemetryFilterString, type LogLevel } from '@temporalio/worker';
import { createRunBody } from '../contract/api';
import type { ApprovalPolicy, RunLimits } from '../contract/run';
import type { WorkerDefinition } from '../activities/agents/agent-definition';
import { Access } from '../api/access';
import { FollowUpService } from '../api/follow-up-service';
import { HumanService } from '../api/human-service';
import { RunService } from '../api/run-service';
import { parseOr400 } from '../api/schemas';
import { InMemoryBus } from '../shared/bus/in-memory-bus';
import { loadConfig, type Config } from '../shared/config';
import type { OptionName } from '../shared/config-options';
import type { Foundation } from '../shared/foundation';
import { createLogger, type Logger } from '../shared/logger';
import type { LogFormat } from '../shared/logger';
import { createStore } from '../shared/store';
import { closeClient, connectClient } from '../shared/temporal/connection';
import { startWorker, type RunningWorker } from '../worker/start-worker';
import { bundleWorkflows } from '../worker/workflow-bundle';
import { packagedWorkflowBundle } from '../worker/packaged-bundle';
import type { ModelRequestRecord, ScriptedModel } from './scripted-model';
import { startTestTemporal, type TestServerKind, type TestTemporal } from './test-temporal';
import { TestRun, actingAs } from './test-run';

/** Configuration options (the README's table), as environment variables would give them. */
export type TestConfig = Partial<Record<OptionName, string>>;

export interface TestEnvironmentOptions {
  /** The worker entry's `defineWorker(...)`: the agents, tools and deps the worker serves. */
  worker: WorkerDefinition;
  /** Answers every model call of every run, whatever model the run names. */
  model: ScriptedModel;
  /** `time-skipping` (default): timers fire as soon as the run waits on nothing else. `dev`: a dev server, real time. */
  server?: TestServerKind;
  /**
   * Options over the environment's own (which are Longhaul's defaults, plus: a temporary DATA_DIR, the test
   * server's address, a task queue of its own, LOG_LEVEL `error`, and an approver, `tester`). Nothing is read
   * from the process's environment: a developer's ANTHROPIC_API_KEY or DATABASE_URL never reaches a test.
   */
  config?: TestConfig;
}

/** A run to start: what `POST /api/runs` takes, plus who starts it. */
export interface StartRunOptions {
  /** The agent (absent: the default agent, as a run that names none). */
  agent?: string;
  /** The run's structured input, for an agent with an input schema. */
  input?: unknown;
  /** The goal, for an agent that takes one. */
  goal?: string;
  model?: string;
  approvals?: ApprovalPolicy;
  limits?: Partial<RunLimits>;
  approvalTimeoutSec?: number;
  metadata?: Record<string, unknown>;
  /** The user the run belongs to (default `tester`). */
  owner?: string;
}

export interface TestEnvironment {
  /** Starts a run as `POST /api/runs` would: refused with the API's error (an ApiError: `status`, `code`, `details`) when the request is bad. */
  startRun(opts: StartRunOptions): Promise<TestRun>;
  /** Every request the model received, oldest first. */
  modelRequests(): ModelRequestRecord[];
  /** The configuration the worker and the services run with. */
  readonly config: Config;
  /** The database (a temporary SQLite file unless DATABASE_URL was given). */
  readonly store: Foundation['store'];
  /** Stops the worker and the server, and removes the temporary data. */
  close(): Promise<void>;
}

/** The user tests act as: runs' owner and an approver. */
export const TEST_USER = 'tester';
/**
 * Stands in for an API key so that runs may name Claude models as in production (the API refuses them
 * without a key); nothing ever sends it anywhere, since the scripted model answers every call.
 */
const OFFLINE_API_KEY = 'longhaul-testing-offline';

/** Quiet: runs that fail on purpose are a test's business, not its log's. */
const DEFAULT_LOG_LEVEL = 'error';
const quiet = { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: (m: string) => process.stderr.write(`${m}\n`) };
/** The workflow bundle, made once per process: every environment runs the same workflow code. */
let bundle: Promise<string> | undefined;

/** The SDK's warnings that a test expects: runs and calls that fail on purpose, and the workspace worker polling no workflows. */
const ROUTINE = [/^Activity failed/, /^Workflow failed/, /^No (workflows|activities|Nexus services) registered/];

/** The SDK's runtime, once per process, its logs through the environment's logger (unless the process installed one). */
function installRuntime(logger: Logger): void {
  try {
    Runtime.install({
      logger: new DefaultLogger('WARN' as LogLevel, (entry) => {
        const routine = ROUTINE.some((r) => r.test(entry.message));
        const method = routine ? 'debug' : entry.level === 'ERROR' ? 'error' : 'warn';
        logger[method]({ ...entry.meta, sdk: 'temporal' }, entry.message);
      }),
      // Core warns that the test server lacks capabilities the run does not use.
      telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } },
    });
  } catch {
    // Installed already (by an earlier environment, or by the test itself): keep it.
  }
}

function testConfig(dataDir: string, temporal: TestTemporal, given: TestConfig, bundlePath: string | undefined): Config {
  return loadConfig({
    LOG_LEVEL: DEFAULT_LOG_LEVEL,
    ANTHROPIC_API_KEY: OFFLINE_API_KEY,
    APPROVERS: TEST_USER,
    // A run left mid-step at close is not waited for.
    WORKER_SHUTDOWN_GRACE_SEC: '1',
    ...(bundlePath && { WORKFLOW_BUNDLE_PATH: bundlePath }),
    ...given,
    DATA_DIR: given.DATA_DIR ?? dataDir,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_NAMESPACE: temporal.namespace,
    TEMPORAL_TASK_QUEUE: given.TEMPORAL_TASK_QUEUE ?? `longhaul-test-${crypto.randomBytes(4).toString('hex')}`,
  });
}

/**
 * A test environment: Temporal (time-skipping, or a dev server), a temporary SQLite store, and a worker serving the
 * definition — its agents each on their own task queue, its tools and its deps — with every model call answered by
 * `opts.model`.
 */
export async function createTestEnvironment(opts: TestEnvironmentOptions): Promise<TestEnvironment> {
  const given = opts.config ?? {};
  const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-test-'));
  const cleanups: (() => Promise<void>)[] = [async () => fs.rmSync(tempDir, { recursive: true, force: true })];
  // Every step runs, whatever an earlier one threw (a worker that fails to stop must not leave the test server, the
  // store or the temporary folder behind); the first failure is thrown once all have run.
  const closeAll = async () => {
    let first: unknown;
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (err) {
        first ??= err;
      }
    }
    if (first !== undefined) throw first;
  };
  try {
    // A prebuilt bundle (WORKFLOW_BUNDLE_PATH) is used as given, then the one the package ships; otherwise the one
    // made for this process (from the sources: bundling takes seconds, once per process).
    let bundlePath = given.WORKFLOW_BUNDLE_PATH ? undefined : packagedWorkflowBundle();
    if (!given.WORKFLOW_BUNDLE_PATH && !bundlePath) {
      bundle ??= bundleWorkflows(quiet);
      bundlePath = path.join(tempDir, 'workflow-bundle.js');
      fs.writeFileSync(bundlePath, await bundle);
    }
    // Before anything touches Temporal: the first use of the SDK's runtime fixes its logger.
    const logger = createLogger({ level: given.LOG_LEVEL ?? DEFAULT_LOG_LEVEL, format: (given.LOG_FORMAT as LogFormat | undefined) ?? 'auto', name: 'longhaul-test' });
    installRuntime(logger);
    const temporal = await startTestTemporal(opts.server ?? 'time-skipping');
    cleanups.push(() => temporal.stop());
    const config = testConfig(path.join(tempDir, 'data'), temporal, given, bundlePath);

    const store = await createStore(config);
    cleanups.push(() => store.close());
    const client = await connectClient(config);
    cleanups.push(() => closeClient(client));
    const bus = new InMemoryBus();
    cleanups.push(() => bus.close());
    const foundation: Foundation = { store, client, bus, close: async () => undefined };

    const worker: RunningWorker = await startWorker({
      config,
      foundation,
      logger,
      definition: opts.worker,
      modelFor: () => opts.model,
      interceptors: temporal.time.interceptors,
      // The test server has no schedules; a test's runs need no sweeper.
      sweeperSchedule: false,
    });
    cleanups.push(() => worker.stop());

    const access = new Access(config);
    const runs = new RunService({ store, client, config, logger, access, bus });
    const humans = new HumanService({ store, client, access, logger });
    const followUps = new FollowUpService({ store, client, config, logger, runs });
    const runDeps = { store, client, time: temporal.time, runs, humans, followUps, approver: TEST_USER };

    return {
      config,
      store,
      async startRun(run) {
        const { owner = TEST_USER, ...request } = run;
        const body = parseOr400(createRunBody, Object.fromEntries(Object.entries(request).filter(([, v]) => v !== undefined)), 'invalid_request');
        const { run: created } = await runs.create(actingAs(owner), body, undefined);
        return new TestRun(created.id, owner, runDeps);
      },
      modelRequests: () => opts.model.requests(),
      close: closeAll,
    };
  } catch (err) {
    await closeAll().catch(() => undefined);
    throw err;
  }
}
