/**
 * agentRunWorkflow on the time-skipping test server, with mocked activities (fake-run-activities.ts): one server
 * and one worker per test file, one `FakeRun` per test. Timers are skipped whenever the test awaits a run's
 * result; while it waits on anything else (a status, a call) time stands still, so what it sees is not raced by
 * a timer firing.
 */
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, makeTelemetryFilterString, Runtime, Worker } from '@temporalio/worker';
import { SEARCH_ATTRIBUTES } from '../../contract/search-attributes';
import { RUN_WORKFLOW } from '../../contract/workflow-messages';
import type { RunInput, RunLimits, RunSettings } from '../../contract/run';
import type { agentRunWorkflow } from '../../workflows/agent-run';
import { FakeRun, fakeRunActivities, type FakeRunOptions } from './fake-run-activities';
import { createTimeSkippingEnv } from './time-skipping';
import { workflowBundlePath } from './workflow-bundle-cache';

export type RunHandle = WorkflowHandle<typeof agentRunWorkflow>;

/**
 * Settings as a deployment's defaults would freeze them. No `localStepsMaxMs`: every model call is an ordinary
 * activity (bookkeeping may still run as local activities; the mocks answer either way).
 */
export const TEST_SETTINGS: RunSettings = {
  heartbeatTimeoutSec: 30,
  modelCallTimeoutSec: 120,
  toolCallTimeoutSec: 120,
  maxAttempts: 3,
  segmentMaxTurns: 50,
  maxSegments: 10,
  loopDetectionThreshold: 3,
  costCheckpointUsd: 0,
  maxConcurrentPerUser: 5,
  progressStampSec: 30,
};
export const TEST_LIMITS: RunLimits = { maxSteps: 20, maxCostUsd: 5, maxDurationSec: 24 * 3600 };

export interface RunStart {
  limits?: Partial<RunLimits>;
  settings?: Partial<RunSettings>;
  approvals?: RunInput['approvals'];
  approvalTimeoutSec?: number;
}

export interface RunWorkflowEnv {
  env: TestWorkflowEnvironment;
  /** Registers a fake for a new run and starts the run; the fake's run id is the workflow id. */
  start(fake: FakeRunOptions, start?: RunStart): Promise<{ run: FakeRun; handle: RunHandle; input: RunInput }>;
  close(): Promise<void>;
}

let runtimeInstalled = false;

export async function startRunWorkflowEnv(): Promise<RunWorkflowEnv> {
  if (!runtimeInstalled) {
    // The worker's errors only: runs that fail on purpose (a cap) would log a warning each.
    // Core's too: it warns that the test server does not advertise a capability the run loop does not use.
    Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } } });
    runtimeInstalled = true;
  }
  const [env, codePath] = await Promise.all([createTimeSkippingEnv(), workflowBundlePath()]);
  // The run stamps its status and progress as search attributes, which the server must know (as the dev server
  // does). The test server can add them but not list them, so shared/temporal/search-attributes.ts cannot be used.
  const { INDEXED_VALUE_TYPE_KEYWORD, INDEXED_VALUE_TYPE_DATETIME } = temporal.api.enums.v1.IndexedValueType;
  await env.client.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(SEARCH_ATTRIBUTES.map((a) => [a.name, a.type === 'KEYWORD' ? INDEXED_VALUE_TYPE_KEYWORD : INDEXED_VALUE_TYPE_DATETIME])),
  });
  // Once closing, a mock still running (a test that failed half way) must not call the server being torn down.
  let closing = false;
  const taskQueue = `workflow-tests-${randomUUID()}`;
  // A child run (sub-agent) runs on the same worker, with the test settings, under its own approvals.
  const childInput = (runId: string, _parent: FakeRun, options: { approvals?: RunInput['approvals'] }) => ({
    input: { runId, owner: runId, model: 'claude-test', approvals: options.approvals ?? 'none', approvalTimeoutSec: 24 * 3600, limits: TEST_LIMITS, settings: TEST_SETTINGS },
    taskQueue,
  });
  const fakes = fakeRunActivities(() => (closing ? Promise.resolve(Date.now()) : env.currentTimeMs()), childInput);
  const worker = await Worker.create({ connection: env.nativeConnection, namespace: env.namespace, taskQueue, workflowBundle: { codePath }, activities: fakes.activities });
  const running = worker.run();
  const start: RunWorkflowEnv['start'] = async (options, runStart = {}) => {
    const runId = `run_${randomUUID().slice(0, 13)}`;
    const run = fakes.add(new FakeRun(runId, options));
    const input: RunInput = {
      runId,
      owner: runId,
      model: 'claude-test',
      approvals: runStart.approvals ?? 'none',
      approvalTimeoutSec: runStart.approvalTimeoutSec ?? 24 * 3600,
      limits: { ...TEST_LIMITS, ...runStart.limits },
      settings: { ...TEST_SETTINGS, ...runStart.settings },
    };
    const handle = await env.client.workflow.start<typeof agentRunWorkflow>(RUN_WORKFLOW, { taskQueue, workflowId: runId, args: [input] });
    return { run, handle, input };
  };
  // One run before the tests: the worker's first workflow loads the bundle into its sandbox (about a second),
  // which is setup, not any one test's time.
  await (await start({})).handle.result();
  return {
    env,
    start,
    async close() {
      closing = true;
      worker.shutdown();
      await running;
      await env.teardown();
    },
  };
}
