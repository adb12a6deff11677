/**
 * Each worker process's identity and own task queue. The identity (host, pid and a random suffix)
 * is unique across machines and containers — where every worker is PID 1 — and names both the
 * worker's queue and its workspace folder. Tool calls of a run whose workspace a worker holds are
 * sent to its queue, so the folder is restored once, not at every step; when that worker is gone
 * the call falls back to the shared queue and any worker restores the workspace from its durable copy.
 */
import crypto from 'node:crypto';
import os from 'node:os';

/** `host-pid-random`, in letters, digits, `.`, `_` and `-` (a folder name and a queue name alike). */
export function workerIdentity(): string {
  const host = os.hostname().replace(/[^A-Za-z0-9._-]/g, '_') || 'host';
  return `${host}-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
}

export function workerQueueName(taskQueue: string, identity: string = workerIdentity()): string {
  return `${taskQueue}@${identity}`;
}
