/**
 * Time inside the workflow without reading a clock: timestamps come from activities (recorded in
 * history, so replay sees the same values) and deadlines are durable timers.
 */
import { sleep } from '@temporalio/workflow';

/** Epoch ms of an ISO timestamp an activity returned. */
export function isoToMs(iso: string): number {
  return Date.parse(iso);
}

/** A Date for a search attribute, from an ISO timestamp an activity returned. */
export function isoToDate(iso: string): Date {
  return new Date(isoToMs(iso));
}

/**
 * A durable timer that flips a flag when it fires. The run checks the flag at step boundaries
 * and while waiting, so the wall-clock cap never interrupts a step halfway.
 */
export function deadlineAfter(ms: number): () => boolean {
  let passed = ms <= 0;
  if (!passed) {
    sleep(ms).then(
      () => (passed = true),
      () => undefined, // cancelled along with the run: nothing to do
    );
  }
  return () => passed;
}
