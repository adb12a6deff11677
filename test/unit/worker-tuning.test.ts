/** The concurrency options each worker is created with, from config (worker/worker-tuning.ts). */
import type { ResourceBasedController } from '@temporalio/worker';
import { loadConfig } from '../../shared/config';
import { tuningOptions } from '../../worker/worker-tuning';

describe('worker tuning', () => {
  it('gives the shared queue worker the configured slots, cache and pollers', () => {
    const { worker } = loadConfig({
      WORKER_ACTIVITY_SLOTS: '3000',
      WORKER_LOCAL_ACTIVITY_SLOTS: '50',
      WORKER_WORKFLOW_TASK_SLOTS: '60',
      WORKER_CACHED_WORKFLOWS: '5000',
      WORKER_WORKFLOW_POLLERS: '8',
      WORKER_ACTIVITY_POLLERS: '3',
    });
    expect(tuningOptions(worker, 'workflows')).toEqual({
      maxConcurrentActivityTaskExecutions: 3000,
      maxConcurrentLocalActivityExecutions: 50,
      maxConcurrentWorkflowTaskExecutions: 60,
      maxCachedWorkflows: 5000,
      workflowTaskPollerBehavior: { type: 'autoscaling', minimum: 1, initial: 5, maximum: 8 },
      activityTaskPollerBehavior: { type: 'autoscaling', minimum: 1, initial: 3, maximum: 3 },
    });
  });

  it('gives the workspace queue worker its own activity slots, and no cache or workflow pollers', () => {
    const { worker } = loadConfig({ WORKER_ACTIVITY_SLOTS: '3000', WORKER_WORKSPACE_ACTIVITY_SLOTS: '40', WORKER_POLLERS: 'fixed' });
    const options = tuningOptions(worker, 'workspace');
    expect(options.maxConcurrentActivityTaskExecutions).toBe(40);
    expect(options.activityTaskPollerBehavior).toEqual({ type: 'simple-maximum', maximum: 10 });
    expect(options).not.toHaveProperty('maxCachedWorkflows');
    expect(options).not.toHaveProperty('workflowTaskPollerBehavior');
  });

  it('with the defaults, lets 1,000 runs stream at once instead of the old 200', () => {
    const options = tuningOptions(loadConfig({}).worker, 'workflows');
    expect(options.maxConcurrentActivityTaskExecutions).toBe(2000);
    expect(options.maxConcurrentWorkflowTaskExecutions).toBe(100);
    // Not 2,000 any more: a cached parked run costs ~0.35 MB, so 10,000 parked runs must mostly be evicted to fit
    // a worker in 1 GB (issue 26; docs/benchmarks.md, the parked runs' memory).
    expect(options.maxCachedWorkflows).toBe(1000);
    expect(options.workflowTaskPollerBehavior).toEqual({ type: 'autoscaling', minimum: 1, initial: 5, maximum: 100 });
    expect(options.tuner).toBeUndefined();
  });

  it('hands the slot counts to the resource-based tuner as its maxima, never beside the maxConcurrent options the SDK refuses with it', () => {
    const { worker } = loadConfig({ WORKER_TUNER: 'resource', WORKER_TUNER_TARGET_MEMORY: '0.7', WORKER_TUNER_TARGET_CPU: '0.6', WORKER_ACTIVITY_SLOTS: '1500' });
    const options = tuningOptions(worker, 'workflows');
    expect(options).not.toHaveProperty('maxConcurrentActivityTaskExecutions');
    expect(options).not.toHaveProperty('maxConcurrentLocalActivityExecutions');
    expect(options).not.toHaveProperty('maxConcurrentWorkflowTaskExecutions');
    expect(options.tuner).toEqual({
      tunerOptions: { targetMemoryUsage: 0.7, targetCpuUsage: 0.6 },
      activityTaskSlotOptions: { maximumSlots: 1500 },
      localActivityTaskSlotOptions: { maximumSlots: 200 },
      workflowTaskSlotOptions: { maximumSlots: 100 },
    });
    // Not 2,000 any more: a cached parked run costs ~0.35 MB, so 10,000 parked runs must mostly be evicted to fit
    // a worker in 1 GB (issue 26; docs/benchmarks.md, the parked runs' memory).
    expect(options.maxCachedWorkflows).toBe(1000);
  });

  it('shares one resource controller between the process\'s two workers when given one', () => {
    const { worker } = loadConfig({ WORKER_TUNER: 'resource', WORKER_WORKSPACE_ACTIVITY_SLOTS: '30' });
    const controller = {} as ResourceBasedController;
    const shared = tuningOptions(worker, 'workflows', controller).tuner;
    const own = tuningOptions(worker, 'workspace', controller).tuner;
    expect(shared).toMatchObject({ controller });
    expect(own).toMatchObject({ controller, activityTaskSlotOptions: { maximumSlots: 30 } });
    expect(own).not.toHaveProperty('tunerOptions');
  });
});
