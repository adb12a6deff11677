/**
 * Every ordinary activity heartbeats for as long as its attempt lives, so a worker that dies is noticed within the
 * heartbeat timeout (seconds) rather than at start-to-close (minutes), and so cancellation — which reaches
 * activities through heartbeat responses — arrives promptly.
 *
 * For the whole attempt, not only around the model's stream or the tool's own work: the timeout runs from the
 * attempt's start, so anything before the first beat — waiting for a pooled database connection, the context read,
 * the admission's lock, a workspace restore — that takes longer than the timeout on a busy worker lost the attempt
 * though the worker was alive, and its retries met the same wait. The heartbeat says "this process still works on
 * it"; how long the work may take is start-to-close's to bound.
 */
import { Context } from '@temporalio/activity';

type ActivityFunction = (arg: any) => Promise<unknown>;

/** How often an attempt beats: a third of its timeout (the SDK sends at most one a throttle interval anyway). */
export function beatEveryMs(heartbeatTimeoutMs: number): number {
  return Math.max(100, Math.min(5_000, Math.floor(heartbeatTimeoutMs / 3)));
}

export function heartbeatingThroughout<A extends Record<string, ActivityFunction>>(activities: A): A {
  const wrapped = {} as Record<string, ActivityFunction>;
  for (const [name, fn] of Object.entries(activities)) {
    wrapped[name] = async (arg: unknown) => {
      const ctx = Context.current();
      // A local activity has no heartbeat (the server does not know it runs): its worker's workflow task stands for
      // it, and cancellation reaches it through the workflow. An activity scheduled with no heartbeat timeout
      // (announcements, webhook deliveries) is bounded by its start-to-close alone.
      if (ctx.info.isLocal || !ctx.info.heartbeatTimeoutMs) return fn(arg);
      // No beat at the start: most attempts end long before the first is due, and a beat at once would be a
      // server call per step that tells the server nothing.
      const timer = setInterval(() => ctx.heartbeat(), beatEveryMs(ctx.info.heartbeatTimeoutMs));
      try {
        return await fn(arg);
      } finally {
        clearInterval(timer);
      }
    };
  }
  return wrapped as A;
}

/** The activity's cancellation, as the error to rethrow when a cancelled call stops early. */
export function rethrowIfCancelled(err: unknown): void {
  const signal = Context.current().cancellationSignal;
  if (signal.aborted) throw signal.reason ?? err;
}
