/** Which tool calls wait for a human, by the run's approval policy. Pure. */
import type { ApprovalPolicy, Risk } from '../contract/run';

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
