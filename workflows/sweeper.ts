/**
 * sweeperWorkflow: started every minute by a Temporal Schedule. Flags runs that say they are
 * running but have shown no progress for longer than expected, so status never silently lies;
 * then reaps abandoned starts — runs queued whose workflow never started (their starter died
 * between committing the run and starting it), which would otherwise wait for ever and count
 * toward their owner's queue cap (activities/reap-abandoned-starts.ts).
 */
import { patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { SweepArgs } from '../contract/activity-io';

/** Sweeps recorded before the reaper end after the stall sweep. */
export const REAP_ABANDONED_STARTS_PATCH = 'reap-abandoned-starts';

export async function sweeperWorkflow(args: SweepArgs): Promise<{ flagged: number; reaped: number }> {
  const { sweepStalledRuns } = proxyActivities<Activities>({
    startToCloseTimeout: '1m',
    retry: { initialInterval: '5s', maximumAttempts: 3 },
  });
  const { flagged } = await sweepStalledRuns(args);
  if (!patched(REAP_ABANDONED_STARTS_PATCH)) return { flagged, reaped: 0 };
  // A question to Temporal and a guarded delete per run, up to a thousand runs: minutes at most, heartbeating per
  // run. A failed sweep is not retried for long: the next one starts within a minute.
  const { reapAbandonedStarts } = proxyActivities<Activities>({
    startToCloseTimeout: '5m',
    heartbeatTimeout: '30s',
    retry: { initialInterval: '5s', maximumAttempts: 3 },
  });
  const { reaped } = await reapAbandonedStarts({});
  return { flagged, reaped };
}
