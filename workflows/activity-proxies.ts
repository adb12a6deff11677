/**
 * Activity stubs with explicit timeouts and retry policies. Model calls and tools heartbeat, so
 * a dead worker is detected within `heartbeatTimeoutSec`; a call that keeps failing stops after
 * `maxAttempts` instead of retrying forever.
 */
import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { RunSettings } from '../contract/run';

export function activitiesFor(settings: RunSettings) {
  const retry = {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    maximumAttempts: settings.maxAttempts,
    // Failures that retrying cannot fix are raised with nonRetryable: true where they are
    // classified (activities/model/classify-error.ts), rather than listed here: this policy is
    // copied into every scheduled activity's history event.
  };
  const working: ActivityOptions = {
    heartbeatTimeout: `${settings.heartbeatTimeoutSec}s`,
    retry,
  };
  const model = proxyActivities<Activities>({ ...working, startToCloseTimeout: `${settings.modelCallTimeoutSec}s` });
  const tools = proxyActivities<Activities>({ ...working, startToCloseTimeout: `${settings.toolCallTimeoutSec}s` });
  // Database bookkeeping: short, and patient with a database that is briefly away.
  const bookkeeping = proxyActivities<Activities>({
    startToCloseTimeout: '30s',
    retry: { ...retry, maximumAttempts: Math.max(settings.maxAttempts, 10), maximumInterval: '30s' },
  });
  // Notifying approvers (Slack): a few tries, then the run carries on without it.
  const notify = proxyActivities<Activities>({ startToCloseTimeout: '30s', retry: { ...retry, maximumAttempts: 5 } });
  /**
   * Tool calls on the worker that holds the run's workspace. If that worker is gone the call is not
   * picked up within WORKSPACE_AFFINITY_WAIT and fails with a schedule-to-start timeout; the run then
   * sends it to the shared queue, where any worker restores the workspace.
   */
  const toolsOn = (taskQueue: string) =>
    proxyActivities<Activities>({ ...working, startToCloseTimeout: `${settings.toolCallTimeoutSec}s`, taskQueue, scheduleToStartTimeout: WORKSPACE_AFFINITY_WAIT });
  return { model, tools, toolsOn, bookkeeping, notify };
}

/** How long a tool call waits for the worker holding the workspace before any worker may take it. */
export const WORKSPACE_AFFINITY_WAIT = '10s';

export type RunActivities = ReturnType<typeof activitiesFor>;
