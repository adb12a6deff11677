/**
 * A schedule's firing, from the worker's side: record the run it starts — a normal run of the
 * schedule's owner with `scheduleId` on it, its `run.queued` event — once per firing (the firing's
 * workflow id is the idempotency key), and hand back the workflow input to start it with. A firing
 * meets the same per-user queue cap as `POST /api/runs`, the API key that created the schedule (when a key did)
 * must still work, and its owner must still be allowed to start runs on the schedule's team: otherwise the firing is
 * skipped (logged, counted, and the firing's result says so), never queued.
 */
import crypto from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import { FailureType } from '../contract/failures';
import { rolesAllow } from '../contract/identity';
import { eventKeys } from '../contract/keys';
import { stricterPolicy } from '../contract/run';
import type { ScheduledRunCreation } from '../contract/activity-io';
import { keptInputProblems, AgentInputValidator } from '../shared/agents/agent-input';
import { runInputFor } from '../shared/runs/run-input';
import { keyEnded } from '../shared/store/api-keys';
import type { ActivityDeps } from './deps';
import { publishEvents } from './publish';
import { recordRestore } from './workspace-events';

export function createScheduleActivities(deps: ActivityDeps) {
  const { store, bus } = deps;
  const inputs = new AgentInputValidator();

  async function createScheduledRun({ scheduleId, firingId }: { scheduleId: string; firingId: string }): Promise<ScheduledRunCreation> {
    const schedule = await store.schedules.get(scheduleId);
    if (!schedule) throw ApplicationFailure.nonRetryable(`schedule ${scheduleId} no longer exists`, FailureType.ScheduleGone);
    const { request } = schedule;
    // A schedule a key made fires only while the key would still be accepted: a leaked key, once revoked (or expired),
    // leaves nothing running behind it. A retried firing's run goes on.
    const keyRefusal = schedule.keyId === null ? undefined : keyEnded(await store.apiKeys.get(schedule.keyId), Date.now());
    if (keyRefusal && !(await store.runs.findByIdempotencyKey(schedule.owner, firingId))) {
      deps.logger.warn({ scheduleId, owner: schedule.owner, keyId: schedule.keyId, reason: keyRefusal }, 'a schedule firing was skipped: the API key that created it no longer works');
      deps.metrics.scheduleFiringSkipped(keyRefusal);
      return { skipped: keyRefusal, queued: 0 };
    }
    // A firing starts a run as its owner would now: on a team only while they may still start runs there (member or
    // admin). A role taken away since the schedule was made stops its firings; a retried firing's run goes on.
    if (schedule.team !== null && !rolesAllow(await store.teamMembers.rolesOf(schedule.owner), schedule.team, 'steer') && !(await store.runs.findByIdempotencyKey(schedule.owner, firingId))) {
      deps.logger.warn({ scheduleId, owner: schedule.owner, team: schedule.team }, 'a schedule firing was skipped: its owner may no longer start runs on its team');
      deps.metrics.scheduleFiringSkipped('forbidden');
      return { skipped: 'forbidden', queued: 0 };
    }
    // The schedule was made under an earlier MIN_APPROVALS, perhaps: each firing meets today's floor, as a POST would.
    const approvals = stricterPolicy(request.approvals, deps.settings.config.approvals.minPolicy);
    // The deployment's webhooks as they are now (a removed or rotated one gets nothing more), then the owner's own.
    const webhooks = { ...request.webhooks, to: [...deps.settings.config.webhooks.urls.map((url) => ({ url })), ...request.webhooks.to.filter((hook) => hook.own)] };
    // A retried firing whose run exists goes on with it; a new one waits its turn like a direct POST.
    const cap = deps.settings.config.runs.maxQueuedPerUser;
    // An agent's firing pins its run to the version new runs of the agent get now.
    const agent = request.agent ? (await store.agents.current(request.agent))?.version : undefined;
    if (request.agent && !agent) throw ApplicationFailure.nonRetryable(`schedule ${scheduleId}: agent ${request.agent} has no published version`, FailureType.AgentUnavailable);
    // The input was checked against the version current when the schedule was made; the agent may have changed it since.
    const problems = agent ? keptInputProblems(inputs, agent, request.input) : [];
    if (problems.length && !(await store.runs.findByIdempotencyKey(schedule.owner, firingId))) {
      deps.logger.warn({ scheduleId, agent: agent!.name, version: agent!.version, problems }, "a schedule firing was skipped: its input does not match the agent's current input schema");
      deps.metrics.scheduleFiringSkipped('invalid_input');
      return { skipped: 'invalid_input', queued: 0 };
    }
    const queued = await store.queueRun(
      {
        id: `run_${Date.now().toString(36)}${crypto.randomBytes(10).toString('hex')}`,
        owner: schedule.owner,
        goal: schedule.goal,
        model: request.model,
        approvals,
        limits: request.limits,
        metadata: { scheduleId, scheduleName: schedule.name },
        idempotencyKey: firingId,
        webhooks,
        scheduleId,
        team: schedule.team,
        // Kept for the run's follow-ups; its start is not owed: this firing starts it, as its child.
        approvalTimeoutSec: request.approvalTimeoutSec,
        ...(agent && { agent: agent.name, agentVersion: agent.version, input: request.input ?? null }),
      },
      cap,
      [{ key: eventKeys.queued(), type: 'run.queued', data: { goal: schedule.goal, model: request.model, approvals, limits: request.limits, ...(agent && { agent: agent.name, agentVersion: agent.version }) } }],
    );
    if ('queueFull' in queued) {
      deps.logger.warn({ scheduleId, owner: schedule.owner, queued: queued.queueFull, cap }, 'a schedule firing was skipped: its owner has too many runs waiting to start');
      deps.metrics.scheduleFiringSkipped('queue_full');
      return { skipped: 'queue_full', queued: queued.queueFull };
    }
    const { run, created, events } = queued;
    if (created) publishEvents(bus, run.id, events);
    const shared = request.sharedWorkspace === true && (await startFromPredecessor(scheduleId, schedule.owner, run.id));
    // A retried firing's run keeps the version it was pinned to.
    const pinned = run.agent && run.agentVersion ? (await store.agents.version(run.agent, run.agentVersion))?.data : undefined;
    return { input: runInputFor(deps.settings.config, run, request.approvalTimeoutSec, pinned), prewarm: shared };
  }

  /**
   * A shared-workspace series: the new run's workspace starts as its predecessor's current version
   * (blobs copied inside the store, then the manifest). Says whether there was one to start from.
   */
  async function startFromPredecessor(scheduleId: string, owner: string, runId: string): Promise<boolean> {
    if (await store.workspaces.stateOf(runId)) return true; // a retried firing already did it
    const earlier = (await store.runs.list({ owner, scheduleId, limit: 20 })).filter((r) => r.id !== runId);
    for (const previous of earlier) {
      const workspace = await store.workspaces.get(previous.id);
      if (!workspace || workspace.state === 'released') continue;
      await deps.workspaces.blobs.copyRun(previous.id, runId);
      return store.workspaces.startFrom(runId, workspace);
    }
    return false;
  }

  /** Restores a run's workspace onto this worker before the run needs it; its tool calls then come here. */
  async function prewarmWorkspace({ runId }: { runId: string }): Promise<{ workspaceQueue: string }> {
    const sync = deps.workspaces;
    await sync.using(runId, async () => recordRestore(deps, runId, await sync.prepare(runId)));
    return { workspaceQueue: sync.holder };
  }

  return { createScheduledRun, prewarmWorkspace };
}
