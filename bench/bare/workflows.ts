/**
 * The `steps` bench's baseline: a bare Temporal workflow doing what an agent step needs at the
 * least — one model activity, one tool activity — with nothing else (no store, no events, no
 * ledger). Bundled and run by bench/steps.ts only.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { BareActivities } from './activities';

const { model, tool } = proxyActivities<BareActivities>({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 3 } });

export async function bareAgent(steps: number): Promise<number> {
  for (let turn = 1; ; turn++) {
    const answer = await model({ turn, steps });
    if (answer.done) return turn;
    await tool({ turn });
  }
}
