/**
 * Makes sure the Temporal Schedule that runs the sweeper every minute exists for this task queue,
 * with the current threshold. Safe to call from every worker at every start.
 */
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleOptionsStartWorkflowAction } from '@temporalio/client';
import type { Config } from '../shared/config';
import type { sweeperWorkflow } from '../workflows';
import { SWEEPER_WORKFLOW } from '../contract/workflow-messages';

export const sweeperScheduleId = (taskQueue: string): string => `longhaul-sweeper-${taskQueue}`;

export async function ensureSweeperSchedule(client: Client, config: Config): Promise<string> {
  const scheduleId = sweeperScheduleId(config.temporal.taskQueue);
  const action: ScheduleOptionsStartWorkflowAction<typeof sweeperWorkflow> = {
    type: 'startWorkflow',
    workflowType: SWEEPER_WORKFLOW,
    workflowId: scheduleId,
    taskQueue: config.temporal.taskQueue,
    args: [{ stallThresholdSec: config.runs.stallThresholdSec, taskQueue: config.temporal.taskQueue }],
    staticSummary: `Sweeper: flags runs on task queue ${config.temporal.taskQueue} with no progress for ${config.runs.stallThresholdSec}s as stalled`,
  };
  try {
    await client.schedule.create({
      scheduleId,
      spec: { intervals: [{ every: '1 minute' }] },
      action,
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' },
    });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule.getHandle(scheduleId).update((previous) => ({ ...previous, action }));
  }
  return scheduleId;
}
