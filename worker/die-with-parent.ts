/**
 * Makes a sandbox process (sandboxed-tool-call.ts) die with the worker that forked it, even while the tool it runs
 * blocks its event loop: the IPC channel's `disconnect` is an event on that loop, and never runs then, so a worker
 * SIGKILLed meanwhile would leave the child behind for good. Node has no PR_SET_PDEATHSIG; a worker thread — its own
 * event loop, untouched by the main one's — asks for the parent's pid a few times a second and, once the process
 * has been handed to another parent (the worker is gone), kills it.
 */
import { Worker } from 'node:worker_threads';

/** How often the thread looks: the longest a child outlives its worker, about. */
const LOOK_EVERY_MS = 250;

// Plain JavaScript, run as is (no loader: the thread is started without the entry's Node flags).
const WATCH = `
const { workerData } = require('node:worker_threads');
setInterval(() => {
  if (process.ppid !== workerData.parent) process.kill(workerData.self, 'SIGKILL');
}, workerData.everyMs);
`;

export function dieWithParent(): void {
  const watcher = new Worker(WATCH, { eval: true, execArgv: [], workerData: { parent: process.ppid, self: process.pid, everyMs: LOOK_EVERY_MS } });
  // It never keeps the process alive: the process exits once its one call is answered.
  watcher.unref();
}
