/**
 * Whether any worker polls a runs' task queue (the deployment's, or an agent's), as Temporal sees it: what
 * the runs list shows as "worker unavailable" without asking every run a query. One describe call per
 * queue per few seconds for the whole process, however many lists are read.
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { Logger } from '../shared/logger';

/**
 * A poll is a long poll (up to ~60 s), and Temporal stamps the poller when each starts: a poller
 * not seen for longer than this has stopped.
 */
const POLLER_SILENT_MS = 75_000;
const CACHE_MS = 3_000;

export class TaskQueuePollers {
  private readonly cached = new Map<string, { at: number; answer: Promise<boolean> }>();

  constructor(private readonly deps: { client: Client; namespace: string; taskQueue: string; logger: Logger }) {}

  /**
   * True when a worker polled the workflow task queue (default: the deployment's) recently; false when none
   * did or Temporal did not answer.
   */
  anyPolling(taskQueue = this.deps.taskQueue, now = Date.now()): Promise<boolean> {
    const cached = this.cached.get(taskQueue);
    if (cached && now - cached.at < CACHE_MS) return cached.answer;
    const answer = this.ask(taskQueue, now);
    this.cached.set(taskQueue, { at: now, answer });
    return answer;
  }

  private async ask(taskQueue: string, now: number): Promise<boolean> {
    const { client, namespace, logger } = this.deps;
    try {
      const res = await client.workflowService.describeTaskQueue({
        namespace,
        taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
        taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
      });
      return (res.pollers ?? []).some((p) => {
        const seconds = Number(p.lastAccessTime?.seconds ?? 0);
        return now - seconds * 1000 < POLLER_SILENT_MS;
      });
    } catch (err) {
      logger.debug({ err }, 'could not describe the task queue');
      return false;
    }
  }
}
