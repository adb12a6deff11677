/**
 * How much a worker runs at once, from config (`WORKER_*`; README: Sizing a worker): slots per
 * kind of task, or Temporal's resource-based tuner; the sticky cache; the pollers. Pure, so the
 * options a worker gets can be checked without a server (test/unit/worker-tuning.test.ts).
 */
import type { ResourceBasedController, WorkerOptions } from '@temporalio/worker';
import type { Config } from '../shared/config';

export type WorkerTuningConfig = Config['worker'];

/** The SDK's poller behaviour (not exported by its index). */
type PollerBehavior = NonNullable<WorkerOptions['activityTaskPollerBehavior']>;

/** The options this module sets; the SDK refuses a tuner beside the `maxConcurrent*` options, so only one of them is ever set. */
export type TuningOptions = Pick<
  WorkerOptions,
  | 'tuner'
  | 'maxConcurrentActivityTaskExecutions'
  | 'maxConcurrentLocalActivityExecutions'
  | 'maxConcurrentWorkflowTaskExecutions'
  | 'maxCachedWorkflows'
  | 'workflowTaskPollerBehavior'
  | 'activityTaskPollerBehavior'
>;

/**
 * `workflows`: the shared queue's worker (runs, model calls, tool calls without a workspace
 * holder). `workspace`: the worker of this process's own queue, only tool calls of the runs whose
 * workspaces it holds, with a slot count of its own so that tool calls and model streams never
 * take each other's slots.
 */
export type WorkerRole = 'workflows' | 'workspace';

/**
 * The SDK's poller maxima when none is configured: 100 when autoscaling, and for fixed pollers
 * min(10, slots) (SDK 1.24's `maxConcurrent*TaskPolls` options are no longer read; these behaviours are).
 */
const SDK_AUTOSCALING_MAX = 100;
const SDK_FIXED_MAX = 10;
/** The SDK's first number of polls when autoscaling, kept within the configured maximum. */
const SDK_AUTOSCALING_INITIAL = 5;

function pollers(t: WorkerTuningConfig, configured: number | undefined): PollerBehavior {
  if (t.pollers === 'fixed') return { type: 'simple-maximum', maximum: configured ?? SDK_FIXED_MAX };
  const maximum = configured ?? SDK_AUTOSCALING_MAX;
  return { type: 'autoscaling', minimum: 1, initial: Math.min(SDK_AUTOSCALING_INITIAL, maximum), maximum };
}

/**
 * The concurrency options of one worker. In resource mode the configured slot counts are the
 * tuner's maxima, and `controller` (one per process, shared by both of its workers) keeps the
 * whole process under one memory and CPU target; without one, the tuner gets its own.
 */
export function tuningOptions(t: WorkerTuningConfig, role: WorkerRole, controller?: ResourceBasedController): TuningOptions {
  const activitySlots = role === 'workspace' ? t.workspaceActivitySlots : t.activitySlots;
  const activityTaskPollerBehavior = pollers(t, t.activityPollers);
  // The workspace worker runs no workflows: no cache, no workflow pollers, no local activities.
  const workflowOptions = role === 'workflows' ? { maxCachedWorkflows: t.cachedWorkflows, workflowTaskPollerBehavior: pollers(t, t.workflowPollers) } : {};
  if (t.tuner === 'fixed') {
    return {
      maxConcurrentActivityTaskExecutions: activitySlots,
      maxConcurrentLocalActivityExecutions: t.localActivitySlots,
      maxConcurrentWorkflowTaskExecutions: t.workflowTaskSlots,
      activityTaskPollerBehavior,
      ...workflowOptions,
    };
  }
  const target = controller ? { controller } : { tunerOptions: { targetMemoryUsage: t.targetMemoryUsage, targetCpuUsage: t.targetCpuUsage } };
  return {
    tuner: {
      ...target,
      // Only the maxima are ours; minimum slots and ramp throttles stay the SDK's.
      activityTaskSlotOptions: { maximumSlots: activitySlots },
      localActivityTaskSlotOptions: { maximumSlots: t.localActivitySlots },
      workflowTaskSlotOptions: { maximumSlots: t.workflowTaskSlots },
    },
    activityTaskPollerBehavior,
    ...workflowOptions,
  };
}
