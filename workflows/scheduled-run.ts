/**
 * scheduledRunWorkflow: what a schedule's firing starts. It records a normal run for the schedule's
 * owner (an activity, idempotent on the firing), then runs it as a child — the run id is the child's
 * workflow id, as for any run — and waits for it, so the schedule's overlap policy (skip,
 * buffer_one, allow_all) governs whole runs. The run outlives this workflow if it is ever closed.
 */
import { ParentClosePolicy, patched, proxyActivities, startChild, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { FiringSkipReason } from '../contract/activity-io';
import { OwnerAttribute, StatusAttribute } from '../contract/search-attributes';
import { agentRunWorkflow } from './agent-run';

export interface ScheduledRunArgs {
  scheduleId: string;
}

/** Shared-workspace series: the run's workspace is restored onto a worker before the run starts (2026-11-22). */
const SHARED_WORKSPACE_PATCH = 'shared-workspace';
/** What a firing did: the run it started, or why it started none. */
export type ScheduledRunResult = { runId: string } | { runId: null; skipped: FiringSkipReason; queued: number };

export async function scheduledRunWorkflow({ scheduleId }: ScheduledRunArgs): Promise<ScheduledRunResult> {
  const { createScheduledRun } = proxyActivities<Activities>({ startToCloseTimeout: '30s', retry: { initialInterval: '1s', maximumAttempts: 10 } });
  const created = await createScheduledRun({ scheduleId, firingId: workflowInfo().workflowId });
  // Over its owner's queue cap the firing starts nothing. No patch: histories recorded before the cap
  // never hold a `skipped` answer, so they replay down the path they took.
  if (created.skipped) return { runId: null, skipped: created.skipped, queued: created.queued };
  let input = created.input;
  if (created.prewarm && patched(SHARED_WORKSPACE_PATCH)) {
    // Pre-warm: the predecessor's workspace is put on a worker now, so the run's first tool finds it ready.
    const { prewarmWorkspace } = proxyActivities<Activities>({ startToCloseTimeout: '10m', retry: { initialInterval: '1s', maximumAttempts: 5 } });
    const warmed = await prewarmWorkspace({ runId: input.runId }).catch(() => undefined); // a cold workspace still works
    if (warmed) input = { ...input, workspaceQueue: warmed.workspaceQueue };
  }
  const run = await startChild(agentRunWorkflow, {
    workflowId: input.runId,
    args: [input],
    parentClosePolicy: ParentClosePolicy.ABANDON,
    typedSearchAttributes: [
      { key: StatusAttribute, value: 'queued' },
      { key: OwnerAttribute, value: input.owner },
    ],
  });
  try {
    await run.result();
  } catch {
    // The run records its own ending (failed, cancelled); the firing is over either way.
  }
  return { runId: input.runId };
}
