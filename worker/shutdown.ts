import type { Worker } from '@temporalio/worker';

/**
 * Asks a worker to drain. The SDK already starts draining on SIGINT/SIGTERM by itself, so this
 * only acts when the worker is still running.
 */
export function requestShutdown(worker: Worker): void {
  if (worker.getState() === 'RUNNING') worker.shutdown();
}
