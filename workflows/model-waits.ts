/**
 * Model calls, and the waits before them that are nobody's decision: the model's shared rate
 * limits have no room yet (sleep until the time the books gave, on a durable timer, then ask
 * again), or the owner has spent today's budget (pause until the next UTC day, or until resumed). A call
 * refused for good (it would not fit a cap of the run tree) is no wait: the run ends on that limit.
 * No worker slot is held and nothing polls while a run waits.
 */
import { setCurrentDetails, sleep } from '@temporalio/workflow';
import { waitWhilePaused } from './human-waits';
import { callModelLocally, modelCallIsRecordedLocal, noteModelCall } from './legacy-local-steps';
import type { RunContext } from './run-context';
import type { SummaryResult } from '../contract/activity-io';
import { isDeferral, SELF_PAUSED_BY, type ModelCallDeferral, type ModelTurnResult } from '../contract/run';
import { eventKeys } from '../contract/keys';

/** Dollars as people read them: cents, or four places for amounts under a cent. */
const usd = (n: number): string => `$${n > 0 && n < 0.01 ? n.toFixed(4) : n.toFixed(2)}`;

/**
 * The turn's model call, an ordinary activity that heartbeats while the answer streams (so the run hears a
 * cancel or a pause meanwhile); null when the run's time cap passed while it waited for budget, or the call was
 * refused by a cap of the run tree (either way the call was not made). `taken`, replay-only: the answer a recorded quick step brought; a deferral is waited out as here.
 */
export function callModelWhenAllowed(ctx: RunContext, taken?: ModelTurnResult | ModelCallDeferral): Promise<ModelTurnResult | null> {
  const { input, run, acts } = ctx;
  let inHand = taken;
  // Not an async function: each promise made in the sandbox records a stack trace, and this runs every step.
  return whenAllowed(ctx, (wait) => eventKeys.modelThrottled(run.turn, wait), () => {
    if (inHand) {
      const answer = inHand;
      inHand = undefined;
      return Promise.resolve(answer);
    }
    setCurrentDetails(`turn ${run.turn}: waiting for ${input.model}`);
    const args = { runId: input.runId, turn: run.turn, model: input.model };
    const local = modelCallIsRecordedLocal(ctx);
    const answer = local ? callModelLocally(ctx, args) : acts.model.callModel.executeWithOptions({ summary: `turn ${run.turn}: ${input.model}` }, [args]);
    if (!input.settings.localStepsMaxMs) return answer;
    return answer.then((a) => {
      if (!isDeferral(a)) noteModelCall(ctx, a, local);
      return a;
    });
  });
}

/** The relay's summary, admitted like any model call; null when the time cap passed while it waited for budget. */
export function summarizeWhenAllowed(ctx: RunContext, next: number): Promise<SummaryResult | null> {
  const { input, run, acts } = ctx;
  return whenAllowed(ctx, (wait) => eventKeys.summaryThrottled(run.segment, wait), () =>
    acts.model.summarize.executeWithOptions({ summary: `hand off to segment ${next}` }, [
      { runId: input.runId, segment: run.segment, throughTurn: run.turn - 1, model: input.model },
    ]),
  );
}

function whenAllowed<T extends object>(ctx: RunContext, throttleKey: (wait: number) => string, call: () => Promise<T | ModelCallDeferral>): Promise<T | null> {
  // An answer at once, the common case, awaits nothing but the call: each promise made in the sandbox records a
  // stack trace, and this runs every step.
  return call().then((answer) => (isDeferral(answer) || ctx.run.waitingFor === 'capacity' ? untilAllowed(ctx, throttleKey, call, answer) : answer));
}

/** Waits out each deferral (calling again after it), and says the run no longer waits for capacity once answered. */
async function untilAllowed<T extends object>(ctx: RunContext, throttleKey: (wait: number) => string, call: () => Promise<T | ModelCallDeferral>, first: T | ModelCallDeferral): Promise<T | null> {
  const { run } = ctx;
  let answer = first;
  for (let waits = 0; ; waits++) {
    if (!isDeferral(answer)) {
      if (run.waitingFor === 'capacity') await ctx.transition('running', null);
      return answer;
    }
    if (answer.deferred === 'limit') {
      // Refused for good (a cap of the run tree): no call was made, and the turn's cap check ends the run.
      run.refuseCall(answer);
      return null;
    }
    if (answer.deferred === 'capacity') await waitForCapacity(ctx, answer, throttleKey(waits));
    else {
      await waitForBudget(ctx, answer);
      if (run.paused) return null;
    }
    answer = await call();
  }
}

async function waitForCapacity(ctx: RunContext, wait: Extract<ModelCallDeferral, { deferred: 'capacity' }>, key: string): Promise<void> {
  const { run } = ctx;
  const detail = 'waiting for model capacity';
  await ctx.transition('running', { waitingFor: 'capacity', detail }, [{ key, type: 'model.throttled', data: { turn: run.turn, waitMs: wait.waitMs, limit: wait.limit } }]);
  setCurrentDetails(`turn ${run.turn}: ${detail} (${wait.limit}, ${Math.ceil(wait.waitMs / 1000)}s)`);
  await sleep(wait.waitMs);
}

async function waitForBudget(ctx: RunContext, spent: Extract<ModelCallDeferral, { deferred: 'budget' }>): Promise<void> {
  const { input, run } = ctx;
  run.requestPause(SELF_PAUSED_BY, 'budget');
  // Whose budget: the team's when the deferral names one (no history recorded before team budgets holds such a
  // deferral, so they replay down the owner's words as before).
  const whose = spent.team === undefined ? `${input.owner} has spent ${usd(spent.spentUsd)} of their` : `team ${spent.team} has spent ${usd(spent.spentUsd)} of its`;
  const detail = `${whose} ${usd(spent.budgetUsd)} daily model budget; the run continues when the next UTC day starts, or when resumed after the budget is raised`;
  const limit = spent.team === undefined ? 'userDailyBudget' : 'teamDailyBudget';
  await waitWhilePaused(
    ctx,
    { waitingFor: 'budget', detail },
    [{ key: eventKeys.budgetExceeded(run.segment, run.turn, run.pauseCount), type: 'limit.exceeded', data: { limit, value: spent.budgetUsd } }],
    spent.resumeInMs,
  );
}
