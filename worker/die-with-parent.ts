/**
 * Makes a sandbox process (sandboxed-tool-call.ts) die with the worker that forked it, even while the tool it runs
 * blocks its event loop: the IPC channel's `disconnect` is an event on that loop, and never runs then, so a worker
 * SIGKILLed meanwhile would leave the child behind for good. Node has no PR_SET_PDEATHSIG; a worker thread — its own
 * event loop, untouched by the main one's — asks for the parent's pid a few times a second and, once the process
 * has been handed to another parent (the worker is gone), kills it.
 *
 * The parent's pid is the one the worker wrote into the child's environment when it forked it, not the parent this
 * process finds when it gets here: a worker killed while the child was still loading (a second or so) has already
 * handed it on by then, and its call, written before it died, may still wait to be read from the IPC channel.
 */
import { Worker } from 'node:worker_threads';

/** How often the thread looks: the longest a child outlives its worker, about. */
const LOOK_EVERY_MS = 250;

// Plain JavaScript, run as is (no loader: the thread is started without the entry's Node flags).
const WATCH = `
const { workerData } = require('node:worker_threads');
const look = () => {
  if (process.ppid !== workerData.parent) process.kill(workerData.self, 'SIGKILL');
};
look();
setInterval(look, workerData.everyMs);
`;

/** `forkedBy`: the pid of the worker that forked this process, as it said; without one, the parent found now. */
export function dieWithParent(forkedBy?: number): void {
  const parent = forkedBy !== undefined && Number.isSafeInteger(forkedBy) && forkedBy > 1 ? forkedBy : process.ppid;
  const watcher = new Worker(WATCH, { eval: true, execArgv: [], workerData: { parent, self: process.pid, everyMs: LOOK_EVERY_MS } });
  // It never keeps the process alive: the process exits once its one call is answered.
  watcher.unref();
}
