/**
 * The `steps` bench's baselines: a bare Temporal workflow doing what an agent step needs at the
 * least — one model activity, one tool activity — with nothing else (no store, no events, no
 * ledger); once with ordinary activities (the naive floor) and once with local activities (the
 * floor of the shape fast steps use). Bundled and run by bench/steps.ts only.
 */
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { BareActivities } from './activities';

const options = { startToCloseTimeout: '1 minute', retry: { maximumAttempts: 3 } };
const remote = proxyActivities<BareActivities>(options);
const local = proxyLocalActivities<BareActivities>(options);

async function agent({ model, tool }: BareActivities, steps: number): Promise<number> {
  for (let turn = 1; ; turn++) {
    const answer = await model({ turn, steps });
    if (answer.done) return turn;
    await tool({ turn });
  }
}

export async function bareAgent(steps: number): Promise<number> {
  return agent(remote, steps);
}

export async function bareLocalAgent(steps: number): Promise<number> {
  return agent(local, steps);
}
