/** A Temporal worker polling Longhaul's task queue with the run workflow and its activities. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { type NativeConnection, type ResourceBasedController, Worker, type WorkerDeploymentOptions, type WorkerInterceptors } from '@temporalio/worker';
import { makeWorkflowExporter, OpenTelemetryActivityInboundInterceptor, OpenTelemetryActivityOutboundInterceptor } from '@temporalio/interceptors-opentelemetry';
import { currentTracing } from '../shared/tracing';
import { WORKFLOW_INTERCEPTOR_MODULES, WORKFLOWS_PATH } from './workflow-bundle';
import { createActivities, type ActivityDeps } from '../activities';
import type { Config } from '../shared/config';
import { packageVersion } from '../shared/package-info';
import { tuningOptions } from './worker-tuning';

/**
 * A short build id. The SDK's default (package name + a 64-hex bundle checksum) is copied into
 * every task-started event of every run, so it alone adds ~0.4 KB of history per step.
 */
export function shortBuildId(bundlePath?: string): string {
  const version = packageVersion();
  if (!bundlePath) return `longhaul@${version}`;
  const digest = crypto.createHash('sha256').update(fs.readFileSync(bundlePath)).digest('hex').slice(0, 10);
  return `longhaul@${version}+${digest}`;
}

/**
 * This worker's Worker Deployment version (replacing the deprecated `buildId`), and whether it
 * opts into versioning: then the deployment's current version gets the tasks, and runs move to a
 * new current version at their next workflow task (AUTO_UPGRADE: runs last days, so pinning them
 * would keep old workers alive for days — `patched()` keeps the upgrade safe instead).
 */
export function deploymentOptions(config: Config): WorkerDeploymentOptions {
  const { name, buildId, versioning } = config.activities.deployment;
  const version = { deploymentName: name, buildId: buildId ?? shortBuildId(config.temporal.workflowBundlePath) };
  return versioning ? { version, useWorkerVersioning: true, defaultVersioningBehavior: 'AUTO_UPGRADE' } : { version, useWorkerVersioning: false };
}

/**
 * The worker's interceptors: the caller's, plus OpenTelemetry's for activities while tracing is on
 * (a span per activity, a child of the workflow's), and the workflow interceptor modules for a
 * worker that bundles at start.
 */
function withTracing(given: WorkerInterceptors | undefined, opts: { bundlesAtStart: boolean }): WorkerInterceptors {
  const activity = [...(given?.activity ?? [])];
  if (currentTracing().enabled) {
    activity.push((ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) }));
  }
  // A prebuilt bundle has the workflow interceptors in it already (workflow-bundle.ts).
  return opts.bundlesAtStart ? { ...given, activity, workflowModules: [...(given?.workflowModules ?? []), ...WORKFLOW_INTERCEPTOR_MODULES] } : { ...given, activity };
}

export async function createWorker(opts: {
  connection: NativeConnection;
  config: Config;
  deps: ActivityDeps;
  /** Overrides the task queue from config (tests give each suite its own). */
  taskQueue?: string;
  interceptors?: WorkerInterceptors;
  /** `WORKER_TUNER=resource`: the process's one resource controller, shared with its workspace worker. */
  resourceController?: ResourceBasedController;
  /** Workflow code bundled once for the process's several workflow Workers (bundleWorkflows), when there is no prebuilt bundle. */
  workflowCode?: string;
}): Promise<Worker> {
  const { config } = opts;
  const bundlePath = config.temporal.workflowBundlePath;
  // Bundled already (a prebuilt bundle, or the process's own): it has the workflow interceptors in it.
  const prebuilt = Boolean(bundlePath) || opts.workflowCode !== undefined;
  return Worker.create({
    connection: opts.connection,
    namespace: config.temporal.namespace,
    taskQueue: opts.taskQueue ?? config.temporal.taskQueue,
    // A prebuilt bundle skips bundling at start-up; otherwise the workflow sources are bundled here.
    ...(bundlePath ? { workflowBundle: { codePath: bundlePath } } : opts.workflowCode ? { workflowBundle: { code: opts.workflowCode } } : { workflowsPath: WORKFLOWS_PATH }),
    // Workflow spans leave the sandbox through this sink (a no-op processor while tracing is off).
    sinks: { exporter: makeWorkflowExporter(currentTracing().spanProcessor, currentTracing().resource) },
    activities: createActivities(opts.deps),
    workerDeploymentOptions: deploymentOptions(config),
    // On SIGTERM: stop polling, give in-flight activities this long to finish, then exit.
    shutdownGraceTime: `${config.activities.workerShutdownGraceSec}s`,
    // Slots (or the resource-based tuner), sticky cache and pollers: WORKER_* (worker-tuning.ts).
    ...tuningOptions(config.worker, 'workflows', opts.resourceController),
    // When a worker dies, the next workflow task waits this long on its sticky queue before any
    // worker may take it. Histories here are small, so losing stickiness early is cheap and a dead
    // worker stalls its runs for seconds, not the SDK's default ten.
    stickyQueueScheduleToStartTimeout: `${config.activities.workerStickyTimeoutSec}s`,
    interceptors: withTracing(opts.interceptors, { bundlesAtStart: !prebuilt }),
  });
}

/** A worker that runs only activities, on a queue of its own (this process's workspace affinity queue). */
export async function createActivityWorker(opts: {
  connection: NativeConnection;
  config: Config;
  deps: ActivityDeps;
  taskQueue: string;
  interceptors?: WorkerInterceptors;
  resourceController?: ResourceBasedController;
}): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.config.temporal.namespace,
    taskQueue: opts.taskQueue,
    activities: createActivities(opts.deps),
    workerDeploymentOptions: deploymentOptions(opts.config),
    shutdownGraceTime: `${opts.config.activities.workerShutdownGraceSec}s`,
    // Slots of its own (WORKER_WORKSPACE_ACTIVITY_SLOTS): tool calls never take a model call's slot.
    ...tuningOptions(opts.config.worker, 'workspace', opts.resourceController),
    // Only activity interceptors: this worker runs no workflows.
    interceptors: { activity: withTracing(opts.interceptors, { bundlesAtStart: false }).activity },
  });
}
