/**
 * When the time-skipping test server may skip time. It skips to the next timer whenever nothing is in
 * flight (no workflow task, no activity) and skipping is unlocked; it starts locked, and the SDK's own
 * client unlocks it only while awaiting a workflow's result. Here, likewise, time skips only while the test
 * waits for something: a run's end (`result()`), or a run to ask a human (`waitForApproval()`). A run that
 * asks a human while the test waits for exactly that locks time again before the request is even reported
 * to the server, so the request's expiry timer can never be skipped past before the test has seen it.
 *
 * The server counts locks and unlocks (an unbalanced unlock is an error), so this object owns the one lock
 * the test holds, and changes it one call at a time.
 */
import type { Connection } from '@temporalio/client';
import type { ActivityInboundCallsInterceptor, ActivityExecuteInput, Next, WorkerInterceptors } from '@temporalio/worker';
import type { Activities } from '../activities';

/** What a run may ask a human for. */
export type HumanRequestKind = 'approval' | 'question';

/** The activities that record a request to a human: after them, the run waits on the request's expiry timer. */
const HUMAN_REQUESTS: Record<string, HumanRequestKind> = { requestApproval: 'approval', requestInput: 'question' } satisfies Partial<Record<keyof Activities, HumanRequestKind>>;

export interface TimeControl {
  /** A test is about to wait for `runId` to ask a human for `kind`: when it does, time is held (call before looking). */
  expect(runId: string, kind: HumanRequestKind): void;
  /**
   * Lets the server skip time until `hold()`. With `runId`: unless that run has asked a human since `expect`
   * (then time stays held), and until it does.
   */
  skip(runId?: string): Promise<void>;
  /** Time flows at its normal pace again (and the run waited for is no longer waited for). */
  hold(runId?: string): Promise<void>;
  /** Activity interceptors that hold time when a waited-for run asks a human. */
  interceptors: WorkerInterceptors;
}

/** Time as it comes: a dev server cannot skip it. */
export const realTime: TimeControl = { expect: () => undefined, skip: async () => undefined, hold: async () => undefined, interceptors: {} };

export function timeSkipping(connection: Connection): TimeControl {
  const testService = connection.testService;
  if (!testService) throw new Error('the Temporal connection has no test service: not a time-skipping test server');
  let skipping = false;
  let queue: Promise<void> = Promise.resolve();
  /** Runs whose request to a human a test is waiting for, and what it waits for. */
  const waitedFor = new Map<string, HumanRequestKind>();
  const serially = (change: () => Promise<void>): Promise<void> => (queue = queue.then(change, change));

  const hold = (runId?: string) => {
    if (runId) waitedFor.delete(runId);
    return serially(async () => {
      if (!skipping) return;
      skipping = false;
      await testService.lockTimeSkipping({});
    });
  };
  const skip = (runId?: string) =>
    serially(async () => {
      // The run asked between `expect` and now: its request's timer must not be skipped past.
      if (skipping || (runId && !waitedFor.has(runId))) return;
      skipping = true;
      await testService.unlockTimeSkipping({});
    });

  class HoldTimeAtHumanRequests implements ActivityInboundCallsInterceptor {
    constructor(private readonly activityType: string) {}

    async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
      const result = await next(input);
      const runId = (input.args[0] as { runId?: unknown } | undefined)?.runId;
      // Only what the test waits for: an approval a run asks for while the test waits for a question expires.
      if (typeof runId === 'string' && HUMAN_REQUESTS[this.activityType] !== undefined && waitedFor.get(runId) === HUMAN_REQUESTS[this.activityType]) await hold(runId);
      return result;
    }
  }

  return {
    expect: (runId, kind) => void waitedFor.set(runId, kind),
    skip,
    hold,
    interceptors: { activity: [(ctx) => ({ inbound: new HoldTimeAtHumanRequests(ctx.info.activityType) })] },
  };
}
