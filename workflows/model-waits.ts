/**
 * The turn's model call, and the waits before it that are nobody's decision: the model's shared
 * rate limits have no room yet (sleep until the time the books gave, on a durable timer, then ask
 * again), or the owner has spent today's budget (pause until the next UTC day, or until resumed).
 * No worker slot is held and nothing polls while a run waits.
 */
import { setCurrentDetails, sleep } from '@temporalio/workflow';
import { waitWhilePaused } from './human-waits';
import type { RunContext } from './run-context';
import { CAPACITY_WAIT_DETAIL, isDeferral, type ModelCallDeferral, type ModelTurnResult } from '../contract/run';
import { eventKeys } from '../contract/keys';

/** Dollars as people read them: cents, or four places for amounts under a cent. */
const usd = (n: number): string => `$${n > 0 && n < 0.01 ? n.toFixed(4) : n.toFixed(2)}`;

/** The call's result; null when the run's time cap passed while it waited for budget (the call was not made). */
export async function callModelWhenAllowed(ctx: RunContext): Promise<ModelTurnResult | null> {
  const { input, run, acts } = ctx;
  for (let waits = 0; ; waits++) {
    setCurrentDetails(`turn ${run.turn}: waiting for ${input.model}`);
    const answer = await acts.model.callModel.executeWithOptions({ summary: `turn ${run.turn}: ${input.model}` }, [
      { runId: input.runId, turn: run.turn, model: input.model },
    ]);
    if (!isDeferral(answer)) {
      if (run.statusDetail === CAPACITY_WAIT_DETAIL) await ctx.transition('running', null);
      return answer;
    }
    if (answer.deferred === 'capacity') await waitForCapacity(ctx, answer, waits);
    else {
      await waitForBudget(ctx, answer);
      if (run.paused) return null;
    }
  }
}

async function waitForCapacity(ctx: RunContext, wait: Extract<ModelCallDeferral, { deferred: 'capacity' }>, waits: number): Promise<void> {
  const { run } = ctx;
  await ctx.transition('running', CAPACITY_WAIT_DETAIL, [
    { key: eventKeys.modelThrottled(run.turn, waits), type: 'model.throttled', data: { turn: run.turn, waitMs: wait.waitMs, limit: wait.limit } },
  ]);
  setCurrentDetails(`turn ${run.turn}: ${CAPACITY_WAIT_DETAIL} (${wait.limit}, ${Math.ceil(wait.waitMs / 1000)}s)`);
  await sleep(wait.waitMs);
}

async function waitForBudget(ctx: RunContext, spent: Extract<ModelCallDeferral, { deferred: 'budget' }>): Promise<void> {
  const { input, run } = ctx;
  run.requestPause('system');
  const detail =
    `${input.owner} has spent ${usd(spent.spentUsd)} of their ${usd(spent.budgetUsd)} daily model budget; ` +
    'the run continues when the next UTC day starts, or when resumed after the budget is raised';
  await waitWhilePaused(
    ctx,
    detail,
    [{ key: eventKeys.budgetExceeded(run.segment, run.turn, run.pauseCount), type: 'limit.exceeded', data: { limit: 'userDailyBudget', value: spent.budgetUsd } }],
    spent.resumeInMs,
  );
}
