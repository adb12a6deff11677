/**
 * Scheduled runs: each schedule is a Temporal Schedule owned by the caller, whose every firing
 * starts `scheduledRunWorkflow`, which records and runs a normal run with `scheduleId` on it. What a
 * firing starts is validated and resolved (defaults, admin maxima, webhook hosts) when the schedule
 * is created, so a firing never fails on input. Owner-only: another user's schedule is a 404.
 */
import crypto from 'node:crypto';
import { ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleDescription, type ScheduleSpec } from '@temporalio/client';
import type { CreateScheduleBody, ScheduleView } from '../contract/api';
import { agentTaskQueue } from '../contract/agents';
import { SCHEDULED_RUN_WORKFLOW } from '../contract/workflow-messages';
import type { Config } from '../shared/config';
import type { Logger } from '../shared/logger';
import type { Store } from '../shared/store';
import type { ScheduleRecord } from '../shared/store/schedules';
import type { scheduledRunWorkflow } from '../workflows';
import { cronSpacing } from './cron-spacing';
import { ApiError } from './errors';
import type { RunService } from './run-service';
import { scopeAllows, type Principal } from '../contract/identity';
import type { Access } from './access';

const OVERLAP = { skip: ScheduleOverlapPolicy.SKIP, buffer_one: ScheduleOverlapPolicy.BUFFER_ONE, allow_all: ScheduleOverlapPolicy.ALLOW_ALL } as const;

/** The cron shapes taken: five fields, or a named one; each fires at most once a minute (`@every` and seconds fields would not). */
const FIVE_FIELD_CRON = /^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|[^\s@]+(\s+[^\s@]+){4})$/;

function validTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export class ScheduleService {
  constructor(private readonly deps: { store: Store; client: Client; config: Config; logger: Logger; runs: RunService; access: Access }) {}

  async create(caller: Principal, body: CreateScheduleBody): Promise<ScheduleView> {
    const { store, client, config } = this.deps;
    const owner = caller.user;
    // The schedule's firings start runs on its team, as the caller could themselves.
    const team = this.deps.access.teamForNewRun(caller, body.team);
    const timezone = body.timezone ?? 'UTC';
    if (!validTimezone(timezone)) throw new ApiError(400, 'invalid_request', `timezone: ${timezone} is not an IANA time zone`);
    this.checkTiming(body);
    const { agent, ...resolved } = this.deps.runs.resolveRequest(body, await this.deps.runs.agentFor(body));
    const id = `sch_${crypto.randomBytes(10).toString('hex')}`;
    const spec: ScheduleSpec = body.cron ? { cronExpressions: [body.cron.trim()], timezone } : { intervals: [{ every: `${body.everySec}s` }], timezone };
    const schedule = await store.schedules.insert({
      id,
      owner,
      name: body.name,
      goal: resolved.goal,
      request: {
        model: resolved.model,
        approvals: resolved.approvals,
        limits: resolved.limits,
        approvalTimeoutSec: resolved.approvalTimeoutSec,
        webhooks: resolved.webhooks,
        ...(agent && { agent: agent.name, input: resolved.input }),
        ...(body.sharedWorkspace && { sharedWorkspace: true }),
      },
      cron: body.cron ?? null,
      everySec: body.everySec ?? null,
      timezone,
      overlap: body.overlap ?? 'skip',
      team,
      // Made with a key: its firings end with the key (a leaked key must not leave a schedule running behind).
      keyId: caller.method === 'key' ? (caller.keyId ?? null) : null,
    });
    // Counted after the insert, so two creates at once cannot both slip under the limit.
    const owned = (await store.schedules.listForOwner(owner)).length;
    if (owned > config.runs.maxSchedulesPerUser) {
      await store.schedules.markDeleted(id);
      throw new ApiError(429, 'too_many_schedules', `you already have ${owned - 1} schedules (the limit is ${config.runs.maxSchedulesPerUser}); delete one first`);
    }
    try {
      await client.schedule.create({
        scheduleId: id,
        spec,
        action: {
          type: 'startWorkflow',
          workflowType: SCHEDULED_RUN_WORKFLOW,
          workflowId: `${id}-firing`,
          // A firing of an agent's schedule runs where the agent is served: its run (a child) inherits the queue.
          taskQueue: agentTaskQueue(config.temporal.taskQueue, agent?.name),
          args: [{ scheduleId: id }] as Parameters<typeof scheduledRunWorkflow>,
          staticSummary: `Schedule "${body.name.slice(0, 80)}" of ${owner}: one firing, starting a run`,
        },
        policies: { overlap: OVERLAP[schedule.overlap], catchupWindow: '1 minute' },
        memo: { owner },
        state: { note: `Longhaul schedule "${body.name}" of ${owner}` },
      });
    } catch (err) {
      await store.schedules.markDeleted(id);
      // Temporal checks the cron expression: a bad one is the caller's mistake.
      if (/invalid|cron|parse/i.test(String((err as Error).message))) throw new ApiError(400, 'invalid_request', `cron: ${(err as Error).message}`);
      this.deps.logger.error({ err }, 'could not create the Temporal schedule');
      throw new ApiError(503, 'temporal_unavailable', 'could not create the schedule: Temporal is unreachable; try again');
    }
    return this.view(schedule);
  }

  /**
   * everySec at least SCHEDULE_MIN_INTERVAL_SEC; a cron of five fields whose closest firings, over a
   * whole day, are at least that far apart. Over a minute, a cron whose spacing cannot be read is refused.
   */
  private checkTiming(body: CreateScheduleBody): void {
    const min = this.deps.config.runs.scheduleMinIntervalSec;
    if (body.everySec !== undefined && body.everySec < min) {
      throw new ApiError(400, 'schedule_too_frequent', `everySec is ${body.everySec}; this server fires a schedule at most every ${min} seconds`);
    }
    if (body.cron !== undefined && !FIVE_FIELD_CRON.test(body.cron.trim())) {
      throw new ApiError(400, 'invalid_request', `cron: ${JSON.stringify(body.cron)} is not a five-field cron (minute hour day-of-month month day-of-week) or @hourly, @daily, @weekly, @monthly, @yearly`);
    }
    const spacing = body.cron === undefined ? { ok: true as const } : cronSpacing(body.cron, min);
    if (!spacing.ok && spacing.gapSec === null) {
      throw new ApiError(400, 'invalid_request', `cron: cannot tell how often ${JSON.stringify(body.cron)} fires; write its minute and hour as numbers, ranges, lists or steps (this server fires a schedule at most every ${min} seconds)`);
    }
    if (!spacing.ok) throw new ApiError(400, 'schedule_too_frequent', `cron ${JSON.stringify(body.cron)} fires ${spacing.gapSec} seconds apart; this server fires a schedule at most every ${min} seconds`);
  }

  /** The caller's schedules and those of the teams they may read. */
  async list(caller: Principal): Promise<ScheduleView[]> {
    const schedules = await this.deps.store.schedules.listVisible(caller.user, this.deps.access.readableTeams(caller));
    return Promise.all(schedules.map((s) => this.view(s)));
  }

  async get(caller: Principal, id: string): Promise<ScheduleView> {
    return this.view(await this.visible(caller, id));
  }

  async delete(caller: Principal, id: string): Promise<void> {
    const schedule = await this.steerable(caller, id);
    await this.temporal(() => this.deps.client.schedule.getHandle(schedule.id).delete());
    await this.deps.store.schedules.markDeleted(schedule.id);
  }

  async control(caller: Principal, id: string, action: 'pause' | 'resume' | 'trigger'): Promise<ScheduleView> {
    const schedule = await this.steerable(caller, id);
    const owner = caller.user;
    const handle = this.deps.client.schedule.getHandle(schedule.id);
    await this.temporal(() => (action === 'pause' ? handle.pause(`paused by ${owner}`) : action === 'resume' ? handle.unpause(`resumed by ${owner}`) : handle.trigger()));
    return this.view(schedule);
  }

  /** A schedule the caller may see (its owner, or `read` on its team); 404 otherwise, as for one that does not exist. */
  private async visible(caller: Principal, id: string): Promise<ScheduleRecord> {
    const schedule = await this.deps.store.schedules.get(id);
    if (!schedule || !this.deps.access.canSee(caller, schedule)) throw new ApiError(404, 'schedule_not_found', 'schedule not found');
    return schedule;
  }

  /** Deleting, pausing, resuming, firing: the owner, or `steer` on its team (403 for one the caller only sees). */
  private async steerable(caller: Principal, id: string): Promise<ScheduleRecord> {
    const schedule = await this.visible(caller, id);
    if (!this.deps.access.canSteer(caller, schedule)) {
      throw new ApiError(403, scopeAllows(caller.scopes, 'steer') ? 'forbidden' : 'scope_missing', 'you may not change this schedule: only its owner or a member of its team may');
    }
    return schedule;
  }

  private async temporal<T>(call: () => Promise<T>): Promise<T | undefined> {
    try {
      return await call();
    } catch (err) {
      if (err instanceof ScheduleNotFoundError) return undefined; // already gone from Temporal
      this.deps.logger.error({ err }, 'a schedule call to Temporal failed');
      throw new ApiError(503, 'temporal_unavailable', 'Temporal is unreachable; try again');
    }
  }

  private async view(s: ScheduleRecord): Promise<ScheduleView> {
    let described: ScheduleDescription | undefined;
    try {
      described = await this.deps.client.schedule.getHandle(s.id).describe();
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) this.deps.logger.debug({ err, scheduleId: s.id }, 'could not describe a schedule');
    }
    const last = described?.info.recentActions.at(-1);
    return {
      id: s.id,
      name: s.name,
      goal: s.goal,
      agent: s.request.agent ?? null,
      input: s.request.input ?? null,
      owner: s.owner,
      team: s.team,
      createdWithKey: s.keyId,
      cron: s.cron,
      everySec: s.everySec,
      timezone: s.timezone,
      overlap: s.overlap,
      sharedWorkspace: s.request.sharedWorkspace === true,
      paused: described?.state.paused ?? false,
      nextFiringsAt: (described?.info.nextActionTimes ?? []).slice(0, 5).map((d) => d.toISOString()),
      lastFiredAt: last ? last.takenAt.toISOString() : null,
      createdAt: s.createdAt,
    };
  }
}
