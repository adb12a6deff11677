/** A worker process's health endpoint, as an orchestrator's probe sees it. */
import { startHarness, type Harness } from '../support/harness';
import { freePort } from '../support/ports';
import { startWorkerProcess } from '../support/processes';
import { waitFor } from '../support/wait';

describe('worker health endpoint', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ noWorker: true });
  });
  afterAll(async () => {
    await h.close();
  });

  it('answers 200 with the state, task queue and pollers while the worker polls, and goes away with it', async () => {
    const port = await freePort();
    const worker = await startWorkerProcess({ ...h.env, WORKER_HEALTH_ADDRESS: `127.0.0.1:${port}` });
    try {
      const url = `http://127.0.0.1:${port}/healthz`;
      let body: any;
      await waitFor(
        async () => {
          const res = await fetch(url);
          body = await res.json();
          return res.status === 200 && body.lastPollAt !== null;
        },
        { what: 'the worker to report itself healthy and polling' },
      );
      expect(body).toMatchObject({ status: 'ok', state: 'RUNNING', taskQueue: h.taskQueue, pollers: { workflow: 'POLLING', activity: 'POLLING' } });
      expect((await fetch(`http://127.0.0.1:${port}/nothing`)).status).toBe(404);
      expect(worker.output()).toContain('worker health endpoint');
    } finally {
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
    }
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });

  it('lets the runs list say "worker unavailable" while no worker polls the task queue, and "available" once one does', async () => {
    const id = await h.createRun({ goal: 'nobody home', model: 'demo', approvals: 'none' });
    const listed = async () => ((await h.request('GET', '/api/runs?limit=100')).body.runs as { id: string; worker: string | null }[]).find((r) => r.id === id)!;
    // This suite's queue had a worker in the test above, but it stopped: Temporal still lists it
    // as a poller until its last poll is old. A queue no worker ever polled says unavailable at once.
    const quiet = await startHarness({ noWorker: true });
    try {
      const lonely = await quiet.createRun({ goal: 'nobody ever', model: 'demo', approvals: 'none' });
      const row = ((await quiet.request('GET', '/api/runs')).body.runs as { id: string; worker: string | null }[]).find((r) => r.id === lonely)!;
      expect(row.worker).toBe('unavailable');
    } finally {
      await quiet.close();
    }
    const worker = await startWorkerProcess(h.env);
    try {
      await h.waitForStatus(id, 'completed');
      expect((await listed()).worker).toBeNull(); // ended: no worker needed
      const busy = await h.createRun({ goal: 'somebody home', model: 'demo', approvals: 'write' });
      await h.waitForStatus(busy, 'waiting_approval');
      const row = ((await h.request('GET', '/api/runs?limit=100')).body.runs as { id: string; worker: string | null }[]).find((r) => r.id === busy)!;
      expect(row.worker).toBe('available');
    } finally {
      worker.child.kill('SIGTERM');
      await worker.exited;
    }
  });
});
