/**
 * What the parts of the run loop share: the input, the in-memory state, the activity stubs, and
 * `transition`, the one way the run's status changes.
 */
import { patched, setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import { activitiesFor, type RunActivities } from './activity-proxies';
import { RunState } from './run-state';
import { LastProgressAttribute, StatusAttribute } from '../contract/search-attributes';
import { isoToDate, isoToMs } from './time';
import type { Progress, RunInput, RunStatus, WaitingFor } from '../contract/run';
import type { EventDraft } from '../contract/events';
import type { SyncRunStateResult } from '../contract/activity-io';

export interface RunContext {
  input: RunInput;
  run: RunState;
  acts: RunActivities;
  /**
   * How this execution steps (recorded histories keep how theirs did): `fast`, fixed at its start, bookkeeping
   * as local activities; `quick()`, replay-only (workflows/legacy-local-steps.ts), the quick-steps patch of
   * histories recorded before every call became an ordinary activity.
   */
  steps: { fast: boolean; quick: () => boolean };
  /** Set once the run is admitted; true when the wall-clock cap has passed. */
  deadlinePassed: () => boolean;
  /**
   * `detail`: words for people, or what the run now waits for with them. `reopenable`: an ending that waiting
   * follow-ups undo; then nothing changes and the result says `reopened` (with the new lap).
   */
  transition(status: RunStatus, detail: string | null | Waiting, events?: EventDraft[], ended?: boolean, reopenable?: boolean): Promise<SyncRunStateResult>;
  /**
   * The same change when an activity has already recorded it in the database (at `at`), in the transaction of
   * what it settled: only the workflow's own state follows. `progressFor` gives what such an activity records.
   */
  recorded(status: RunStatus, detail: string | null | Waiting, at: string): void;
  /** The progress `transition` would record for `status`, for an activity that records it itself (`recorded`). */
  progressFor(status: RunStatus, detail: string | null | Waiting): Progress;
  /**
   * Stamps the LonghaulLastProgressAt search attribute (the sweeper's measure of liveness), at
   * most every `progressStampSec`: each stamp is a history event.
   */
  markProgress(at: string): void;
}

/** What the run waits for, and the same in words. */
export interface Waiting {
  waitingFor: WaitingFor;
  detail: string;
}

const waitingOf = (said: string | null | Waiting): { detail: string | null; waitingFor: WaitingFor | null } =>
  typeof said === 'object' && said !== null ? said : { detail: said, waitingFor: null };

/** Bookkeeping as local activities (2026-11-22; until 2026-12-05 quick tools and fast model calls too); older histories ran it remote. */
const FAST_STEPS_PATCH = 'fast-steps';
/** Replay-only: quick steps (2026-11-22 … 2026-12-05), see workflows/legacy-local-steps.ts. */
const QUICK_STEPS_PATCH = 'quick-steps';

export function createRunContext(input: RunInput): RunContext {
  const run = new RunState(input);
  const fast = patched(FAST_STEPS_PATCH);
  let quick: boolean | undefined;
  const steps = { fast, quick: () => (quick ??= fast && patched(QUICK_STEPS_PATCH)) };
  const acts = activitiesFor(input.settings, fast);
  const ctx: RunContext = {
    input,
    run,
    acts,
    steps,
    deadlinePassed: () => false,
    /**
     * Moves the run to `status`, recording it (and any events) in the database first and only then
     * in the workflow's own state: whoever sees the new status through the progress query finds the
     * database already saying the same (and holding the result, once the run has ended).
     */
    async transition(status, said, events = [], ended = false, reopenable = false) {
      const progress = ctx.progressFor(status, said);
      const result = await acts.bookkeeping.syncRunState.executeWithOptions(
        { summary: `${status}${events.length ? `: ${events.map((e) => e.type).join(', ')}` : ''}` },
        [{ runId: input.runId, progress, events, ended, ...(reopenable && { reopenable }) }],
      );
      if (result.reopened) return result;
      ctx.recorded(status, said, result.at);
      return result;
    },
    progressFor(status, said) {
      const { detail, waitingFor } = waitingOf(said);
      return run.progress(status, detail, waitingFor);
    },
    recorded(status, said, at) {
      const { detail, waitingFor } = waitingOf(said);
      run.setStatus(status, detail, waitingFor);
      // What the Temporal Web UI shows as the run's current details (a query; no history event).
      setCurrentDetails(`${status.replace('_', ' ')}${detail ? `: ${detail}` : ''} · turn ${run.turn}`);
      run.lastEventAt = at;
      run.lastStampMs = isoToMs(at);
      upsertSearchAttributes([
        { key: StatusAttribute, value: status },
        { key: LastProgressAttribute, value: isoToDate(at) },
      ]);
    },
    markProgress(at) {
      if (isoToMs(at) - run.lastStampMs < input.settings.progressStampSec * 1000) return;
      run.lastStampMs = isoToMs(at);
      upsertSearchAttributes([{ key: LastProgressAttribute, value: isoToDate(at) }]);
    },
  };
  return ctx;
}
