/** Which tool calls wait for a human, by the run's approval policy. Pure. */
export { needsApproval } from '../contract/run';

/**
 * A tool call the worker about to run it refuses for want of an approval (by that worker's own definition
 * of the tool, or the server's minimum policy) is put to a human (2026-12-05); before, the run failed.
 */
export const EXECUTOR_APPROVAL_PATCH = 'executor-approval';

/** How many multiples of `step` dollars `costUsd` has crossed (0 when checkpoints are off). */
export function costCheckpointsDue(costUsd: number, step: number): number {
  return step > 0 ? Math.floor(costUsd / step + 1e-9) : 0;
}
