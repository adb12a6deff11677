/**
 * Step duration, measured where steps happen: the time between two consecutive model answers of a
 * run — one step's tool calls and the next model call (waits for people or capacity in between
 * count too). Times come from the activities' own timestamps (no clock in the workflow); the SDK
 * emits workflow metrics only when not replaying, so history never sees them.
 */
import { metricMeter } from '@temporalio/workflow';
import { isoToMs } from './time';

/** Made once per run (this module is evaluated afresh for each workflow the sandbox creates). */
let stepDuration: ReturnType<typeof metricMeter.createHistogram> | undefined;

export function recordStep(previousAnswerAt: string, answerAt: string, model: string): void {
  const ms = isoToMs(answerAt) - isoToMs(previousAnswerAt);
  if (!(ms >= 0)) return;
  stepDuration ??= metricMeter.createHistogram('longhaul_step_duration_ms', 'int', 'ms', 'Time between consecutive model answers of a run, by model');
  stepDuration.record(ms, { model });
}
