/**
 * Keeps an activity heartbeating while it works, so a worker that dies is noticed within the
 * heartbeat timeout (seconds) rather than at start-to-close (minutes), and so cancellation —
 * which reaches activities through heartbeat responses — arrives promptly.
 */
import { Context } from '@temporalio/activity';

export async function withHeartbeat<T>(fn: () => Promise<T>): Promise<T> {
  const ctx = Context.current();
  // A local activity has no heartbeat (the server does not know it runs): its worker's workflow task stands
  // for it, and cancellation reaches it through the workflow.
  if (ctx.info.isLocal) return fn();
  const timeoutMs = ctx.info.heartbeatTimeoutMs ?? 30_000;
  const every = Math.max(100, Math.min(5_000, Math.floor(timeoutMs / 3)));
  // No heartbeat at the start: the heartbeat timeout already runs from the activity's start, and most
  // calls here end long before the first beat is due — a beat at once would be a server call per step
  // that tells the server nothing.
  const timer = setInterval(() => ctx.heartbeat(), every);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}

/** The activity's cancellation, as the error to rethrow when a cancelled call stops early. */
export function rethrowIfCancelled(err: unknown): void {
  const signal = Context.current().cancellationSignal;
  if (signal.aborted) throw signal.reason ?? err;
}
