/**
 * The sweeper's work: ask Temporal visibility for runs whose LonghaulLastProgressAt is older than
 * the threshold while they claim to be running, and flag each stall once — an event, a status
 * detail the API shows, and a metric.
 */
import { Context } from '@temporalio/activity';
import type { SweepArgs } from '../contract/activity-io';
import { LastProgressAttribute } from '../contract/search-attributes';
import type { ActivityDeps } from './deps';
import { publishEvents } from './publish';
import { eventKeys } from '../contract/keys';

export function createSweeperActivities(deps: ActivityDeps) {
  const { store, bus, logger } = deps;

  async function sweepStalledRuns({ stallThresholdSec, taskQueue }: SweepArgs): Promise<{ flagged: number }> {
    const ctx = Context.current();
    const cutoff = new Date(Date.now() - stallThresholdSec * 1000).toISOString();
    const query = [
      'ExecutionStatus = "Running"',
      `TaskQueue = "${taskQueue.replace(/"/g, '')}"`,
      'LonghaulStatus = "running"',
      `${LastProgressAttribute.name} < "${cutoff}"`,
    ].join(' AND ');
    let flagged = 0;
    for await (const wf of ctx.client.workflow.list({ query })) {
      ctx.heartbeat();
      const lastProgress = wf.typedSearchAttributes.get(LastProgressAttribute);
      if (!lastProgress) continue;
      const run = await store.runs.get(wf.workflowId);
      if (!run) continue; // another deployment's workflow in the same namespace
      const since = lastProgress.toISOString();
      const minutes = Math.floor((Date.now() - lastProgress.getTime()) / 60_000);
      const events = await store.transaction(async (tx) => {
        const appended = await tx.events.append(run.id, [{ key: eventKeys.stalled(since), type: 'run.stalled', data: { lastProgressAt: since, minutes } }]);
        if (appended.length) await tx.runs.markStalled(run.id, since);
        return appended;
      });
      if (events.length === 0) continue; // this stall was flagged by an earlier sweep
      publishEvents(bus, run.id, events);
      deps.metrics.runStalled();
      flagged += 1;
      logger.warn({ runId: run.id, lastProgressAt: since }, 'run shows no progress');
    }
    return { flagged };
  }

  return { sweepStalledRuns };
}
