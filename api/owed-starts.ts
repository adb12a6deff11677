/**
 * The workflow starts this API owes. `POST /api/runs` commits the run with its start owed (`runs.start_owed`), then
 * starts its workflow, and answers when Temporal has it or after `START_RUN_WAIT_MS`, whichever comes first (issue
 * 26): in a storm of starts Temporal's answer waits on a server busy with the runs the storm has started, and that
 * wait need not be the client's. With Temporal unreachable the run is accepted all the same and starts once it is
 * back. A committed run is never lost: this process tries its start again with backoff for `RETRY_FOR_MS`, then
 * leaves it to the sweeper, which makes every start still owed a minute after its commit
 * (activities/reap-abandoned-starts.ts) — as it does for one whose API died. Tries in several places at once are
 * harmless (shared/runs/start-run-workflow.ts). A request that must reach the workflow (cancel, pause, a follow-up)
 * makes an owed start first (`ensure`). A follow-up's continuation of an ended run owes the start of its new execution
 * the same way, from the transaction that queues the run again (`RunsRepo.reopen`), and it is made here the same way.
 */
import type { Client } from '@temporalio/client';
import type { AgentData } from '../contract/agents';
import type { Config } from '../shared/config';
import type { Logger } from '../shared/logger';
import type { Store } from '../shared/store';
import type { RunRecord } from '../shared/store/runs';
import { refusedForGood, startRunWorkflow, type RunStartOutcome } from '../shared/runs/start-run-workflow';
import { WriteBatches } from '../shared/store/write-batches';
import { ApiError } from './errors';

/** How long this process keeps trying an owed start before it leaves it to the sweeper. */
const RETRY_FOR_MS = 2 * 60_000;
const FIRST_RETRY_MS = 500;
const LONGEST_RETRY_MS = 15_000;
/**
 * Starts in flight to Temporal at once; more wait here. A storm's starts are answered without them, so a bound costs
 * no answer time, and it keeps a burst from opening thousands of calls on one connection at once.
 */
const MAX_IN_FLIGHT = 64;
/**
 * Owed marks are cleared together: those of the starts made while one statement clears others go in the next one.
 * Not held back to gather more: a run's view reads a mark still there as a start not yet made.
 */
const MAX_MARKS_BATCH = 500;
/**
 * How long a continuation's start waits, trying every CLOSING_RETRY_MS, for the execution that just ended to close
 * (its last bookkeeping after the ending): a follow-up often comes that soon. Then the tries back off as any others.
 */
const CLOSE_WAIT_MS = 10_000;
const CLOSING_RETRY_MS = 100;

/** A start owed: the run's, of its execution of `lap`. */
type OwedStart = { id: string; lap: number };

export class OwedStarts {
  /** Each start this process is making, by `startKey`: a request that replays it joins it. */
  private readonly making = new Map<string, Promise<boolean>>();
  private inFlight = 0;
  /** Starts waiting for a slot: told true when handed one, false when the API closes. */
  private readonly queued: ((handed: boolean) => void)[] = [];
  private readonly sleeps = new Set<{ timer: NodeJS.Timeout; wake: () => void }>();
  private closed = false;
  private readonly marks: WriteBatches<OwedStart, void>;

  constructor(private readonly deps: { client: Client; config: Config; store: Store; logger: Logger }) {
    const { runs } = deps.store;
    this.marks = new WriteBatches<OwedStart, void>(
      async (starts) => (await runs.startsMade(starts), starts.map(() => undefined)),
      (start) => runs.startsMade([start]),
      MAX_MARKS_BATCH,
    );
  }

  /**
   * Makes the run's owed start, trying again with backoff: true once Temporal has the workflow, false when this
   * process gave up (closing, or after `RETRY_FOR_MS`: the sweeper's turn). Never rejects. `agent`: the data of the
   * version the run is pinned to, when the caller has it.
   */
  begin(run: RunRecord, agent?: AgentData): Promise<boolean> {
    const key = startKey(run);
    const making = this.making.get(key);
    if (making) return making;
    const made = this.keepTrying(run, agent).finally(() => this.making.delete(key));
    this.making.set(key, made);
    return made;
  }

  /**
   * `begin`, waited for at most `waitMs`: an answer that says the run is accepted comes when Temporal has its
   * workflow or after that, whichever is first, and the start goes on after it.
   */
  async beginWithin(run: RunRecord, waitMs: number, agent?: AgentData): Promise<void> {
    const started = this.begin(run, agent);
    await new Promise<void>((resolve) => {
      const answer = setTimeout(resolve, waitMs);
      // `begin` never rejects; were it to, the answer would still come at the timer.
      void started.then(
        () => {
          clearTimeout(answer);
          resolve();
        },
        () => undefined,
      );
    });
  }

  /**
   * Before a request that must reach the run's workflow: its owed start made now, or 503 `temporal_unavailable`
   * (409 `run_not_active` when Temporal refused it for good and the run has failed).
   */
  async ensure(run: RunRecord): Promise<void> {
    if (!run.startOwed) return;
    const { config, logger } = this.deps;
    // A continuation's: its new execution, not the one closing, is what the request must reach.
    const closingUntil = Date.now() + CLOSE_WAIT_MS;
    for (;;) {
      let outcome: RunStartOutcome;
      try {
        outcome = await startRunWorkflow(this.deps, run, Date.now() + config.api.startRunTimeoutMs);
      } catch (err) {
        if ((await this.refused(run, err)) === 'failed') throw new ApiError(409, 'run_not_active', 'run is already failed: Temporal refused to start it');
        logger.error({ err, runId: run.id }, 'could not start the run workflow');
        throw new ApiError(503, 'temporal_unavailable', 'the run has not started yet and Temporal is unreachable; try again');
      }
      if (outcome !== 'closing') break;
      if (Date.now() > closingUntil) throw new ApiError(503, 'temporal_unavailable', 'the run is still closing its previous execution before it continues; try again');
      await this.sleep(CLOSING_RETRY_MS);
    }
    void this.recordMade(run);
  }

  /** Stops trying again and waits for the attempts in flight (each at most `START_RUN_TIMEOUT_MS`). */
  async close(): Promise<void> {
    this.closed = true;
    for (const sleep of this.sleeps) {
      clearTimeout(sleep.timer);
      sleep.wake();
    }
    for (const wake of this.queued.splice(0)) wake(false);
    await Promise.allSettled([...this.making.values()]);
    // The marks of the starts made are cleared before the store closes (else the sweeper asks Temporal of each).
    await this.marks.written();
  }

  private async keepTrying(run: RunRecord, agent: AgentData | undefined): Promise<boolean> {
    const { config, logger } = this.deps;
    const giveUpAt = Date.now() + RETRY_FOR_MS;
    const closingUntil = Date.now() + CLOSE_WAIT_MS;
    let backoffs = 0;
    for (let attempt = 1; ; attempt += 1) {
      if (this.closed) return false;
      let err: unknown;
      try {
        const outcome = await this.inSlot(() => startRunWorkflow(this.deps, run, Date.now() + config.api.startRunTimeoutMs, agent));
        if (outcome !== 'closing') {
          void this.recordMade(run);
          return true;
        }
      } catch (caught) {
        if ((await this.refused(run, caught)) !== undefined) return false;
        err = caught;
      }
      // No error: a continuation's, the execution of the lap before has not closed yet; tried again soon at first.
      const closing = err === undefined;
      const wait = closing && Date.now() < closingUntil ? CLOSING_RETRY_MS : Math.min(LONGEST_RETRY_MS, FIRST_RETRY_MS * 2 ** backoffs++);
      if (this.closed || Date.now() + wait > giveUpAt) {
        const why = closing ? 'the execution of the lap before has not closed' : 'could not start the run workflow';
        logger.error({ err, runId: run.id, attempts: attempt }, `${why}: the sweeper will start it`);
        return false;
      }
      if (!closing) logger.warn({ err, runId: run.id, attempt }, 'could not start the run workflow yet: trying again');
      await this.sleep(wait);
    }
  }

  /**
   * Whether Temporal refused the start for good (undefined when not); the run then ends failed (`start_refused`), as
   * no later try can start it: 'failed' once it has. A write that fails leaves the run owed ('unrecorded'): the
   * sweeper's start is refused again, and it ends the run then.
   */
  private async refused(run: RunRecord, err: unknown): Promise<'failed' | 'unrecorded' | undefined> {
    const refusal = await refusedForGood(this.deps.client, run, err);
    if (refusal === undefined) return undefined;
    this.deps.logger.warn({ err, runId: run.id }, 'Temporal refused the run workflow for good: the run fails');
    try {
      return (await this.deps.store.refuseStart(run.id, refusal)).length > 0 ? 'failed' : 'unrecorded';
    } catch (writeErr) {
      this.deps.logger.error({ err: writeErr, runId: run.id }, 'could not record a refused start: the sweeper will');
      return 'unrecorded';
    }
  }

  /** Clears the owed mark; a write that fails leaves it for the sweeper, whose start finds the workflow there. */
  private async recordMade(run: RunRecord): Promise<void> {
    try {
      await this.marks.add({ id: run.id, lap: run.owedStartLap ?? 0 });
    } catch (err) {
      this.deps.logger.warn({ err, runId: run.id }, 'the run started but its start is still marked owed: the sweeper will clear it');
    }
  }

  /** Runs `fn` in one of the MAX_IN_FLIGHT slots, first come first served: a slot freed goes to the longest waiter. */
  private async inSlot<T>(fn: () => Promise<T>): Promise<T> {
    if (this.inFlight < MAX_IN_FLIGHT) this.inFlight += 1;
    else if (!(await new Promise<boolean>((resolve) => this.queued.push(resolve)))) throw new Error('the API is closing');
    try {
      return await fn();
    } finally {
      const next = this.queued.shift();
      // Handed on as it is: the count stays, so no newcomer takes it first.
      if (next) next(true);
      else this.inFlight -= 1;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const sleep = {
        timer: setTimeout(() => {
          this.sleeps.delete(sleep);
          resolve();
        }, ms),
        wake: resolve,
      };
      this.sleeps.add(sleep);
    });
  }
}

/** A start this process makes: the run's, of the lap it owes (a replayed request's joins it; a later lap's is its own). */
const startKey = (run: RunRecord): string => `${run.id}:${run.owedStartLap ?? 0}`;
