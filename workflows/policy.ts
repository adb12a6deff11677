/** Which tool calls wait for a human, by the run's approval policy. Pure. */
import type { ApprovalPolicy, Risk } from '../contract/run';

/**
 * A tool call the worker about to run it refuses for want of an approval (by that worker's own definition
 * of the tool, or the server's minimum policy) is put to a human (2026-12-05); before, the run failed.
 */
export const EXECUTOR_APPROVAL_PATCH = 'executor-approval';

export function needsApproval(policy: ApprovalPolicy, risk: Risk): boolean {
  switch (policy) {
    case 'none':
      return false;
    case 'write':
      return risk !== 'read';
    case 'all':
      return true;
  }
}

/** How many multiples of `step` dollars `costUsd` has crossed (0 when checkpoints are off). */
export function costCheckpointsDue(costUsd: number, step: number): number {
  return step > 0 ? Math.floor(costUsd / step + 1e-9) : 0;
}

const POLICY_STRICTNESS: readonly ApprovalPolicy[] = ['none', 'write', 'all'];

/** The stricter of two policies: a run's own and a server's floor (`MIN_APPROVALS`). */
export function stricterPolicy(a: ApprovalPolicy, b: ApprovalPolicy): ApprovalPolicy {
  return POLICY_STRICTNESS.indexOf(a) >= POLICY_STRICTNESS.indexOf(b) ? a : b;
}
