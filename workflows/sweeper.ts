/**
 * sweeperWorkflow: started every minute by a Temporal Schedule. Flags runs that say they are
 * running but have shown no progress for longer than expected, so status never silently lies.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { SweepArgs } from '../contract/activity-io';

export async function sweeperWorkflow(args: SweepArgs): Promise<{ flagged: number }> {
  const { sweepStalledRuns } = proxyActivities<Activities>({
    startToCloseTimeout: '1m',
    retry: { initialInterval: '5s', maximumAttempts: 3 },
  });
  return sweepStalledRuns(args);
}
