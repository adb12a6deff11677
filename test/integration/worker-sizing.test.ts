/**
 * A worker process sized by WORKER_* (README: Sizing a worker): the slots it was given are the ones
 * Temporal's own metrics report for each queue, and a worker on the resource-based tuner polls and
 * completes runs like any other.
 */
import { startHarness, type Harness } from '../support/harness';
import { freePort } from '../support/ports';
import { startWorkerProcess, type ChildHandle } from '../support/processes';
import { waitFor } from '../support/wait';

/** The value of `temporal_worker_task_slots_<kind>` for one worker type on one task queue, or undefined. */
function slots(metrics: string, kind: 'available' | 'used', workerType: string, taskQueue: string): number | undefined {
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(`temporal_worker_task_slots_${kind}{`)) continue;
    if (line.includes(`worker_type="${workerType}"`) && line.includes(`task_queue="${taskQueue}"`)) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('worker sizing', () => {
  let h: Harness;
  const children: ChildHandle[] = [];
  beforeAll(async () => {
    h = await startHarness({ noWorker: true });
  });
  afterAll(async () => {
    for (const c of children) await c.kill('SIGKILL');
    await h.close();
  });

  it('gives each queue the configured slots, as the SDK reports them', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/metrics`;
    const worker = await startWorkerProcess(
      {
        ...h.env,
        METRICS_PROMETHEUS_ADDRESS: `127.0.0.1:${port}`,
        WORKER_ACTIVITY_SLOTS: '1234',
        WORKER_WORKSPACE_ACTIVITY_SLOTS: '56',
        WORKER_LOCAL_ACTIVITY_SLOTS: '90',
        WORKER_WORKFLOW_TASK_SLOTS: '78',
        WORKER_POLLERS: 'fixed',
        WORKER_ACTIVITY_POLLERS: '2',
        WORKER_WORKFLOW_POLLERS: '2',
      },
      { plain: true },
    );
    children.push(worker);
    // Slots a poll has reserved count as used; with nothing running, available + used is the total.
    const total = (m: string, type: string, queue: string) => (slots(m, 'available', type, queue) ?? NaN) + (slots(m, 'used', type, queue) ?? 0);
    let metrics = '';
    let ownQueue = '';
    await waitFor(
      async () => {
        metrics = await (await fetch(url)).text();
        ownQueue = /task_queue="([^"]+)"/.exec(metrics.split('\n').find((l) => l.startsWith('temporal_worker_task_slots_available{') && l.includes('ActivityWorker') && !l.includes(`task_queue="${h.taskQueue}"`)) ?? '')?.[1] ?? '';
        return total(metrics, 'ActivityWorker', h.taskQueue) === 1234 && total(metrics, 'WorkflowWorker', h.taskQueue) === 78 && ownQueue !== '';
      },
      { what: () => `the configured slots in the worker's metrics:\n${metrics.split('\n').filter((l) => l.startsWith('temporal_worker_task_slots')).join('\n')}` },
    );
    expect(total(metrics, 'ActivityWorker', ownQueue)).toBe(56);
    expect(total(metrics, 'LocalActivityWorker', h.taskQueue)).toBe(90);
    const id = await h.createRun({ goal: 'Say hello', approvals: 'none' });
    await h.waitForStatus(id, 'completed');
  });

  it('runs on the resource-based tuner', async () => {
    children.push(await startWorkerProcess({ ...h.env, WORKER_TUNER: 'resource', WORKER_TUNER_TARGET_MEMORY: '0.95', WORKER_TUNER_TARGET_CPU: '0.95' }, { plain: true }));
    // Two workers poll the queue now; stop the first so the run is the tuner's.
    await children[0]!.kill('SIGTERM');
    const id = await h.createRun({ goal: 'Say hello again', approvals: 'none' });
    await h.waitForStatus(id, 'completed');
  });
});
