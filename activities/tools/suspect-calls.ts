/**
 * Which tool calls are suspect: a call in doubt (begun, never completed) whose earlier attempt *vanished* — its
 * process died, or the attempt was lost with no word — may have been what killed it, and runs apart (a sandbox, or
 * after a pause). One whose every earlier attempt ended in a live worker that knew it failed (it threw, the tool
 * said it was unavailable, the database went away) is not: it runs as any call. The effect's doubt is untouched
 * (whether it may be re-run is decided as ever); this decides only where it runs.
 *
 * Each attempt says how it ended in the ledger (`effects.attemptFailed`). Fail closed: an attempt that was
 * cancelled (the server may have given up on it), that saw this process's event loop stuck long enough to miss its
 * heartbeats, or that ended with the run stopped for a tool that killed its sandbox, says nothing, and one that
 * cannot write (the database away) is remembered by this process alone — for the re-run it makes once the database
 * is back — until a later attempt overtakes it.
 */
import type { LedgerEntry } from '../../shared/store/effects';
import type { Logger } from '../../shared/logger';

/** The ledger's side of it (the store's `effects`). */
interface AttemptLedger {
  attemptFailed(key: string, attempt: number, attemptsFailed: number): Promise<void>;
}

/** One attempt at a call, from its ledger `begin` to its end. */
export interface CallAttempt {
  /** An earlier attempt vanished: this one runs apart. */
  readonly suspect: boolean;
  /** The attempt ended with `err` (rethrown by the caller): says so in the ledger when it was a known failure. */
  failed(err: unknown, how: { cancelled: boolean; runStopped: boolean }): Promise<void>;
  /** The attempt ended with its result recorded. */
  done(): void;
}

/** The SDK's heartbeat throttle: it sends a heartbeat at most every this share of the heartbeat timeout. */
const SDK_HEARTBEAT_THROTTLE_SHARE = 0.8;

/** Ends this process could not write, by ledger key: the last one of each (the latest overtakes). */
const REMEMBERED_ENDS = 1000;

export function createSuspectCalls(ledger: AttemptLedger, logger: Logger) {
  const unwritten = new Map<string, { attempt: number; attemptsFailed: number }>();

  /** For an entry `begin` found `new` or `in_doubt`; `heartbeatTimeoutMs`: the attempt's (none: no such bound). */
  function begun(key: string, entry: Exclude<LedgerEntry, { state: 'completed' }>, heartbeatTimeoutMs: number | undefined): CallAttempt {
    const attempt = entry.state === 'new' ? 1 : entry.attempts + 1;
    let failedBefore = entry.state === 'new' ? 0 : entry.attemptsFailed;
    const mine = unwritten.get(key);
    unwritten.delete(key);
    // This process's own word on the latest attempt, when it could not write it and nothing overtook it since.
    if (mine && mine.attempt === attempt - 1) failedBefore = Math.max(failedBefore, mine.attemptsFailed);
    const suspect = failedBefore < attempt - 1;
    const loop = watchLoop(heartbeatTimeoutMs);
    return {
      suspect,
      done: () => loop.stop(),
      async failed(err, how) {
        const stuck = loop.stop();
        if (how.cancelled || how.runStopped || stuck) return;
        const attemptsFailed = failedBefore + 1;
        try {
          await ledger.attemptFailed(key, attempt, attemptsFailed);
        } catch (writeErr) {
          if (unwritten.size >= REMEMBERED_ENDS) unwritten.delete(unwritten.keys().next().value!);
          unwritten.set(key, { attempt, attemptsFailed });
          logger.warn({ key, attempt, err: writeErr instanceof Error ? writeErr.message : String(writeErr), failure: err instanceof Error ? err.message : String(err) }, 'could not record that a tool call attempt failed; this worker remembers it');
        }
      },
    };
  }

  return { begun };
}

/**
 * Whether this process's event loop stood still, while the attempt ran, for a fifth of its heartbeat timeout or
 * more: the SDK sends a heartbeat at most every 0.8 × the timeout, so a stall of the rest, at the wrong moment, is
 * enough for the server to give the attempt up as lost, though the tool then threw as if nothing happened (a tool
 * that blocks its worker is as suspect as one that kills it).
 */
function watchLoop(heartbeatTimeoutMs: number | undefined): { stop(): boolean } {
  if (!heartbeatTimeoutMs) return { stop: () => false };
  const stuckAfterMs = heartbeatTimeoutMs * (1 - SDK_HEARTBEAT_THROTTLE_SHARE);
  const everyMs = Math.max(20, Math.floor(stuckAfterMs / 4));
  let last = Date.now();
  let stuck = false;
  const timer = setInterval(() => {
    const now = Date.now();
    if (now - last >= stuckAfterMs) stuck = true;
    last = now;
  }, everyMs).unref();
  return {
    stop() {
      clearInterval(timer);
      if (Date.now() - last >= stuckAfterMs) stuck = true;
      return stuck;
    },
  };
}
