/**
 * The sweeper's care of runs whose workflow never started. A run is started in two steps: its row and `run.queued`
 * event are committed (`store.queueRun`), then its workflow is started (workflow id = run id).
 *
 * A run the API commits since migration 024 says its start is owed until Temporal has the workflow
 * (api/owed-starts.ts): the API tries for two minutes, and then, or when it died between the two steps, this sweep
 * makes the start — every start owed for over `OWED_START_AFTER_MS`, from what the row holds. So does a follow-up's
 * continuation of an ended run, its new execution's start owed from the reopen (its run's commit is older: the sweep
 * may try it while the API does, and the start is made once all the same). Such a run is never
 * deleted: its client was answered `202`. One whose start Temporal refuses for good (over one of its limits: the
 * owner's name too long, say) ends failed, `start_refused`.
 *
 * Older runs, and runs a schedule's firing records, owe nothing on the row. A starter of those that died between the
 * two steps (a deploy, a SIGKILL, an OOM), or whose commit landed but whose answer was lost (the API answered 503 and
 * the client retried with a new run), leaves a ghost: a run `queued` for ever that no workflow will ever move,
 * shown in its owner's list and counted toward their queue cap. Those are reaped:
 *
 * For each run that has never started and is older than the cutoff (`RunsRepo.unstartedBefore`), Temporal is asked
 * whether a workflow with its id exists — by id, so a run waiting on its agent's task queue with no live worker has
 * one and is kept. Only when Temporal answers that there is none is the run deleted with its events, and only if it
 * is still unstarted (`RunsRepo.deleteUnstarted`). Any other answer leaves the run — a run we are unsure about is
 * never deleted — and ends the sweep.
 */
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { ReapAbandonedStartsArgs, ReapAbandonedStartsResult } from '../contract/activity-io';
import type { RunRecord } from '../shared/store/runs';
import type { ActivityDeps } from './deps';
import { refusedForGood, startRunWorkflow } from '../shared/runs/start-run-workflow';
import { publishEvents } from './publish';

/**
 * How old an unstarted run must be before the reaper asks about it. The race to close is a late `workflow.start`:
 * a run deleted a moment before its start lands would have a workflow and no row (the workflow then fails
 * `RunRecordMissing` at its first slot claim, but the caller was told the run started). An API from before
 * migration 024 (still running in a rolling deploy) gives its start `START_RUN_TIMEOUT_MS` (10 s by default) after
 * the commit and then gives up (and deletes the row itself), so no start of a live API lands later than created_at + the commit's own time + that deadline. Fifteen minutes is that
 * many times over, with room for a slow commit under load and for clocks that differ between the API's host (which
 * wrote created_at) and the worker's. A deployment with a larger START_RUN_TIMEOUT_MS gets its value plus
 * START_MARGIN_MS instead (`cutoffMs`; the worker's value: API and worker read one configuration). What no cutoff covers: an API process frozen (not dead) for longer than this
 * between its commit and its start; and a client replaying the same Idempotency-Key more than this long after its
 * first attempt, in the milliseconds between the reaper's question and its delete.
 *
 * Runs a schedule's firing records are started by that firing's workflow (as its child), which may take longer
 * (retries, a workspace pre-warm): the firing is asked about too, and while it runs its run is kept.
 */
export const ABANDONED_START_AFTER_MS = 15 * 60_000;
/**
 * How old an owed start must be before the sweep makes it: the API that owes it has had its first minute of tries.
 * Its tries and the sweep's may overlap; Temporal takes one (shared/runs/start-run-workflow.ts).
 */
export const OWED_START_AFTER_MS = 60_000;
/** Owed starts that fail one after another before a sweep stops trying them (Temporal is in trouble, not one run). */
const FAILURES_ENDING_A_SWEEP = 3;
/** Added to a START_RUN_TIMEOUT_MS large enough that ABANDONED_START_AFTER_MS would not cover it. */
export const START_MARGIN_MS = 5 * 60_000;
/** Runs read from the database at a time. */
const PAGE = 100;
/**
 * Runs asked about in one sweep, at most. Runs legitimately queued (their agent has no live worker) are asked about
 * again every sweep; this many of them before a ghost would hide it until fewer wait.
 */
const MAX_EXAMINED = 1000;

/** The cutoff's age for a deployment whose API waits `startRunTimeoutMs` for a start. */
export function cutoffMs(startRunTimeoutMs: number): number {
  return Math.max(ABANDONED_START_AFTER_MS, startRunTimeoutMs + START_MARGIN_MS);
}

/** A page of runs after `after` (the last of the previous page), oldest first. */
type PageOfRuns = (page: { limit: number; after?: { createdAt: string; id: string } }) => Promise<RunRecord[]>;

/** The runs `read` lists, a page at a time, at most MAX_EXAMINED of them in one sweep. */
async function* examined(read: PageOfRuns): AsyncGenerator<RunRecord> {
  let after: { createdAt: string; id: string } | undefined;
  for (let count = 0; count < MAX_EXAMINED; ) {
    const limit = Math.min(PAGE, MAX_EXAMINED - count);
    const page = await read({ limit, after });
    for (const run of page) {
      count += 1;
      yield run;
    }
    if (page.length < limit) return;
    const last = page[page.length - 1]!;
    after = { createdAt: last.createdAt, id: last.id };
  }
}

/** What Temporal says of a workflow id: none with it (not even a closed one), one, or no clear answer. */
type Known = 'none' | { running: boolean } | 'unsure';

export function createReapActivities(deps: ActivityDeps) {
  const { store, logger } = deps;

  async function workflowOf(client: Client, workflowId: string): Promise<Known> {
    try {
      const description = await client.workflow.getHandle(workflowId).describe();
      return { running: description.status.name === 'RUNNING' };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return 'none';
      logger.warn({ err, workflowId }, 'the reaper could not ask Temporal about a workflow: its run is left, the rest wait for the next sweep');
      return 'unsure';
    }
  }

  /** Whether the run was abandoned: nothing started it, and nothing that still runs will ('unsure': Temporal did not say). */
  async function abandoned(client: Client, run: RunRecord): Promise<boolean | 'unsure'> {
    // A firing's run: its firing workflow (id = the run's idempotency key) starts it; while that runs, it may yet.
    if (run.scheduleId !== null) {
      if (run.idempotencyKey === null) return false; // not a firing's run as this code writes them: leave it
      const firing = await workflowOf(client, run.idempotencyKey);
      if (firing === 'unsure') return 'unsure';
      if (firing !== 'none' && firing.running) return false;
    }
    const own = await workflowOf(client, run.id);
    return own === 'unsure' ? 'unsure' : own === 'none';
  }

  /** Makes the owed starts older than OWED_START_AFTER_MS, oldest first; false when several failed in a row (the sweep ends). */
  async function startOwed(client: Client, counted: { started: number }): Promise<boolean> {
    const ctx = Context.current();
    const { config } = deps.settings;
    const createdBefore = new Date(Date.now() - OWED_START_AFTER_MS).toISOString();
    let failedInARow = 0;
    for await (const run of examined((page) => store.runs.owedStartsBefore({ createdBefore, ...page }))) {
      ctx.heartbeat();
      try {
        const outcome = await startRunWorkflow({ client, config, store }, run, Date.now() + config.api.startRunTimeoutMs);
        // A continuation's, the execution of the lap before still closing: one run's, not Temporal's trouble; the
        // next sweep starts it.
        if (outcome === 'closing') continue;
        if (outcome === 'started') {
          deps.metrics.owedStartMade();
          logger.warn({ runId: run.id, owner: run.owner, createdAt: run.createdAt }, 'started a run whose start its API still owed');
        }
        await store.runs.startsMade([{ id: run.id, lap: run.owedStartLap ?? 0 }]);
        counted.started += 1;
        failedInARow = 0;
      } catch (err) {
        // Refused for good (over one of Temporal's limits, as no later try changes): the run fails, the sweep goes on.
        const refusal = await refusedForGood(client, run, err);
        if (refusal !== undefined) {
          logger.warn({ err, runId: run.id }, 'Temporal refused the start of a run whose start is owed, for good: the run fails');
          const failed = await store.refuseStart(run.id, refusal).catch((writeErr: unknown) => void logger.warn({ err: writeErr, runId: run.id }, 'could not record a refused start: the next sweep tries again'));
          if (failed) {
            publishEvents(deps.bus, run.id, failed);
            continue;
          }
        }
        // One run's start that fails keeps none of the others from theirs; several in a row are Temporal's trouble,
        // and the rest wait for the next sweep.
        failedInARow += 1;
        logger.warn({ err, runId: run.id }, 'the sweep could not start a run whose start is owed: it tries again at the next sweep');
        if (failedInARow >= FAILURES_ENDING_A_SWEEP) return false;
      }
    }
    return true;
  }

  async function reapAbandonedStarts(_args: ReapAbandonedStartsArgs): Promise<ReapAbandonedStartsResult> {
    const ctx = Context.current();
    const counted = { started: 0 };
    // Temporal's trouble is seldom one workflow's: a sweep that could not start one asks it nothing more.
    if (!(await startOwed(ctx.client, counted))) return { reaped: 0, kept: 0, started: counted.started };
    const { started } = counted;
    const createdBefore = new Date(Date.now() - cutoffMs(deps.settings.config.api.startRunTimeoutMs)).toISOString();
    let reaped = 0;
    let kept = 0;
    for await (const run of examined((page) => store.runs.unstartedBefore({ createdBefore, ...page }))) {
      ctx.heartbeat();
      const verdict = await abandoned(ctx.client, run);
      // Temporal's trouble is seldom one workflow's: the rest wait for the next sweep rather than ask it again.
      if (verdict === 'unsure') return { reaped, kept: kept + 1, started };
      if (!verdict || !(await store.runs.deleteUnstarted(run.id))) {
        kept += 1;
        continue;
      }
      reaped += 1;
      deps.metrics.abandonedStartReaped();
      logger.warn({ runId: run.id, owner: run.owner, createdAt: run.createdAt, scheduleId: run.scheduleId }, 'reaped an abandoned start: a run queued with no workflow');
    }
    return { reaped, kept, started };
  }

  return { reapAbandonedStarts };
}
