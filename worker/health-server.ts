/**
 * A worker's health for orchestrators (a Kubernetes probe, a load balancer): `GET /healthz` answers
 * 200 while the worker runs and both of its pollers are polling, 503 otherwise (starting, draining,
 * failed), with what it knows: state, task queue, pollers, when it last had a poll outstanding, and
 * work in flight. Only with WORKER_HEALTH_ADDRESS set.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Worker } from '@temporalio/worker';

/** How often the worker's status is sampled (for "last poll"). */
const SAMPLE_MS = 1000;

export async function startWorkerHealth(opts: { address: string; worker: Worker; taskQueue: string }): Promise<{ url: string; stop(): Promise<void> }> {
  const { worker, taskQueue } = opts;
  let lastPollAt: string | null = null;
  const sample = () => {
    const s = worker.getStatus();
    if (s.hasOutstandingWorkflowPoll || s.hasOutstandingActivityPoll) lastPollAt = new Date().toISOString();
    return s;
  };
  const sampler = setInterval(sample, SAMPLE_MS);
  sampler.unref();

  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url !== '/healthz' && req.url !== '/')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'not_found', message: 'GET /healthz' } }));
      return;
    }
    const s = sample();
    const healthy = s.runState === 'RUNNING' && s.workflowPollerState === 'POLLING' && s.activityPollerState === 'POLLING';
    res.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        status: healthy ? 'ok' : 'unavailable',
        state: s.runState,
        taskQueue,
        pollers: { workflow: s.workflowPollerState, activity: s.activityPollerState },
        lastPollAt,
        inFlight: { workflowActivations: s.numInFlightWorkflowActivations, activities: s.numInFlightActivities },
        cachedWorkflows: s.numCachedWorkflows,
      }),
    );
  });
  const [host, port] = splitAddress(opts.address);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  return {
    url: `http://${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        clearInterval(sampler);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function splitAddress(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i).replace(/^\[|\]$/g, '') || '0.0.0.0', Number(address.slice(i + 1))];
}
