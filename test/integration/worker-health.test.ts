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
});
