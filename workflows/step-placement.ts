/**
 * Where a run's next model call runs: on the server's task queue as an ordinary activity, or in the
 * worker that runs the workflow task as a local activity (fast steps). Pure, so the rule is tested on
 * its own; every input comes from recorded activity results, so replay decides the same way.
 *
 * Local is cheaper by a server round trip and two history events per call, but while a local activity
 * runs the workflow task stays open: the run hears a cancel, a pause or a follow-up only when the task
 * completes. So a call runs locally only when it is expected to be short — the run's previous call took
 * less than `maxMs` — and while the run has gone less than `maxMs` since its last round trip through the
 * server (a remote model call), which bounds how long a signal can wait to about `maxMs` plus a step.
 */
export interface ModelCallHistory {
  /** The previous model call in this execution: how long it took, when it ended, and whether it ran locally. */
  previous: { tookMs: number | undefined; atMs: number; local: boolean } | null;
  /** When the last model call that went through the server ended (epoch ms): the local stretch started there. */
  lastRoundTripAtMs: number | null;
}

export function modelCallRunsLocally(history: ModelCallHistory, maxMs: number): boolean {
  const { previous, lastRoundTripAtMs } = history;
  if (maxMs <= 0 || !previous || previous.tookMs === undefined || lastRoundTripAtMs === null) return false;
  return previous.tookMs < maxMs && previous.atMs - lastRoundTripAtMs < maxMs;
}

/** The history after a call that ran `local` (or not) and ended at `atMs` having taken `tookMs`. */
export function afterModelCall(history: ModelCallHistory, call: { tookMs: number | undefined; atMs: number; local: boolean }): ModelCallHistory {
  return { previous: call, lastRoundTripAtMs: call.local ? history.lastRoundTripAtMs : call.atMs };
}
