/**
 * Each worker process's own task queue. Tool calls of a run whose workspace a worker holds are sent
 * there, so the folder is restored once, not at every step; when that worker is gone the call
 * falls back to the shared queue and any worker restores the workspace from its durable copy.
 */
import crypto from 'node:crypto';
import os from 'node:os';

export function workerQueueName(taskQueue: string): string {
  return `${taskQueue}@${os.hostname()}-${process.pid}-${crypto.randomBytes(3).toString('hex')}`;
}
