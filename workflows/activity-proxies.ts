/**
 * Activity stubs with explicit timeouts and retry policies. Every model call and every tool call is an
 * ordinary activity: it heartbeats, so a dead worker is detected within `heartbeatTimeoutSec` and the call
 * is retried elsewhere; a call that keeps failing stops after `maxAttempts` instead of retrying forever.
 *
 * Fast steps (`fast`): database bookkeeping runs as local activities — in the worker running the workflow
 * task, recorded as a marker when the task completes, with no server round trip of its own. Each is keyed
 * in the effects ledger or idempotent by its event keys, so one that runs again after a worker dies (local
 * activities are re-run from the last completed workflow task) returns what was recorded.
 */
import { proxyActivities, proxyLocalActivities, type ActivityOptions, type LocalActivityOptions, type RetryPolicy } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { RunSettings } from '../contract/run';

export function retryPolicy(settings: RunSettings): RetryPolicy {
  return {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    maximumAttempts: settings.maxAttempts,
    // Failures that retrying cannot fix are raised with nonRetryable: true where they are
    // classified (activities/model/classify-error.ts), rather than listed here: this policy is
    // copied into every scheduled activity's history event.
  };
}

export function activitiesFor(settings: RunSettings, fast: boolean) {
  const retry = retryPolicy(settings);
  const working: ActivityOptions = {
    heartbeatTimeout: `${settings.heartbeatTimeoutSec}s`,
    retry,
  };
  const model = proxyActivities<Activities>({ ...working, startToCloseTimeout: `${settings.modelCallTimeoutSec}s` });
  const tools = proxyActivities<Activities>({ ...working, startToCloseTimeout: `${settings.toolCallTimeoutSec}s` });
  // Database bookkeeping: short, and patient with a database that is briefly away.
  const bookkeepingOptions: LocalActivityOptions = {
    startToCloseTimeout: '30s',
    retry: { ...retry, maximumAttempts: Math.max(settings.maxAttempts, 10), maximumInterval: '30s' },
  };
  const bookkeeping = fast ? proxyLocalActivities<Activities>(bookkeepingOptions) : proxyActivities<Activities>(bookkeepingOptions);
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
