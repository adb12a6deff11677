/**
 * POST /api/runs/:id/messages: a person sends a run a follow-up message. The message is recorded
 * in the database first (pending); then:
 * - the run is still going: it is told by signal and takes the message in at its next turn
 *   boundary; if it reaches its end first, its ending finds the message waiting and goes on;
 * - the run had ended (completed, or on a limit): in the same transaction it is queued again in a
 *   new lap (with raised limits, if asked), and a new execution of the same workflow id continues
 *   it — same run id, the event seq goes on, the model sees the whole conversation. That execution's
 *   start is owed from the same transaction and made as a new run's is (api/owed-starts.ts): the
 *   answer waits for it at most START_RUN_WAIT_MS, and a start that fails is tried again, by this
 *   process and then by the sweeper, so the run is never left queued with no workflow.
 * Both decisions are made under the run's row lock, which the run's ending takes too, so a message
 * can never fall between "the run will take it in" and "the run has ended".
 */
import crypto from 'node:crypto';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { FollowUpAccepted, FollowUpBody } from '../contract/api';
import { raisedTo, type RunLimits } from '../contract/run';
import type { Principal } from '../contract/identity';
import type { AgentData } from '../contract/agents';
import { followUpSignal } from '../contract/workflow-messages';
import type { Config } from '../shared/config';
import type { Logger } from '../shared/logger';
import type { Store } from '../shared/store';
import type { RunRecord } from '../shared/store/runs';
import type { UserMessageRecord } from '../shared/store/user-messages';
import { runLinks } from '../contract/paths';
import { ApiError, queueFull } from './errors';
import type { RunService } from './run-service';

export class FollowUpService {
  constructor(private readonly deps: { store: Store; client: Client; config: Config; logger: Logger; runs: RunService }) {}

  async send(caller: Principal, runId: string, body: FollowUpBody, idempotencyKey: string | undefined): Promise<{ accepted: FollowUpAccepted; replayed: boolean }> {
    const { store, config } = this.deps;
    // The same run goes on, so it keeps its team (and its owner, whose queue and slots it takes).
    const run = await this.deps.runs.getSteerable(caller, runId);
    const user = caller.user;
    if (body.text.length > config.api.maxGoalChars) {
      throw new ApiError(413, 'input_too_large', `the message is ${body.text.length} characters; the limit is ${config.api.maxGoalChars}`);
    }
    const limits = this.raisedLimits(run.limits, body.limits, body.limits ? await this.deps.runs.agentDataOf(run) : undefined);

    const decided = await store.transaction(async (tx) => {
      await tx.runs.lock(run.id);
      const current = (await tx.runs.get(run.id))!;
      const earlier = idempotencyKey ? await tx.userMessages.findByIdempotencyKey(run.id, idempotencyKey) : undefined;
      if (earlier) {
        if (earlier.text !== body.text) throw new ApiError(409, 'idempotency_key_reused', 'this Idempotency-Key was already used for a different message');
        return { message: earlier, run: current, continued: false, replayed: true };
      }
      this.assertContinuable(current);
      if (current.endedAt !== null) {
        // Going on queues the run again: it meets its owner's queue cap like a new run, counted under the same lock.
        await tx.runs.lockQueue(current.owner);
        const queued = await tx.runs.countQueued(current.owner);
        if (queued >= config.runs.maxQueuedPerUser) throw queueFull(queued, config.runs.maxQueuedPerUser);
      }
      const message = await tx.userMessages.insert({ id: `msg_${crypto.randomBytes(10).toString('hex')}`, runId: run.id, by: user, text: body.text, limits: body.limits, idempotencyKey });
      if (current.endedAt === null) return { message, run: current, continued: false, replayed: false };
      // Never below what the row holds now: a follow-up taken in meanwhile may have raised it (acceptFollowUps).
      await tx.runs.reopen(run.id, raisedTo(current.limits, limits));
      return { message, run: (await tx.runs.get(run.id))!, continued: true, replayed: false };
    });

    if (decided.message.status === 'pending') {
      if (decided.continued) await this.continueRun(decided.run);
      else await this.tell(decided.run, decided.message);
    }
    return {
      accepted: { messageId: decided.message.id, runId: run.id, status: decided.message.status, continued: decided.continued, links: runLinks(run.id) },
      replayed: decided.replayed,
    };
  }

  /** Only a run that completed, or ended on a limit, can go on; and only within the server's maxima. */
  private assertContinuable(run: RunRecord): void {
    if (run.status === 'cancelled') throw new ApiError(409, 'run_not_continuable', 'the run was cancelled; start a new run instead');
    if (run.status === 'failed' && run.error?.code !== 'limit_exceeded') {
      throw new ApiError(409, 'run_not_continuable', `the run failed (${run.error?.code ?? 'error'}); start a new run instead`);
    }
  }

  /** `agent`: the data of the version the run is pinned to, whose maxima hold where stricter than the server's. */
  private raisedLimits(current: RunLimits, asked: Partial<RunLimits> | undefined, agent?: AgentData): RunLimits {
    const r = this.deps.config.runs;
    const maxima: RunLimits = { maxSteps: r.maxStepsLimit, maxCostUsd: r.maxCostUsdLimit, maxDurationSec: r.maxDurationSecLimit };
    for (const [name, value] of Object.entries(asked ?? {}) as [keyof RunLimits, number][]) {
      const agentMax = agent?.limits.max[name];
      if (agentMax !== undefined && agentMax < maxima[name] && value > agentMax) {
        throw new ApiError(400, 'limit_out_of_range', `limits.${name} is ${value}; agent ${agent!.name} allows at most ${agentMax}`);
      }
      if (value > maxima[name]) throw new ApiError(400, 'limit_out_of_range', `limits.${name} is ${value}; this server allows at most ${maxima[name]}`);
    }
    return raisedTo(current, asked ?? {});
  }

  /** The run is going: a signal says a message waits. Its execution may have gone meanwhile: then continue it. */
  private async tell(run: RunRecord, message: UserMessageRecord): Promise<void> {
    // A run committed a moment ago may not have its workflow yet: no execution then is not a run that stopped.
    await this.deps.runs.owedStarts.ensure(run);
    try {
      await this.deps.client.workflow.getHandle(run.id).signal(followUpSignal, { messageId: message.id });
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) {
        // No execution, although the database says the run goes on (it stopped without recording an ending).
        // Under the run's lock, with its limits as the row holds them now (a follow-up taken in may have raised them).
        const reopened = await this.deps.store.transaction(async (tx) => {
          await tx.runs.lock(run.id);
          await tx.runs.reopen(run.id, (await tx.runs.get(run.id))!.limits);
          return (await tx.runs.get(run.id))!;
        });
        return this.continueRun(reopened);
      }
      this.deps.logger.error({ err, runId: run.id }, 'could not tell the run about a follow-up');
      throw new ApiError(503, 'temporal_unavailable', 'the message was recorded but the run could not be told yet; repeat the request to retry');
    }
  }

  /**
   * Starts the execution that continues an ended run, owed since its reopen: the answer waits for it at most
   * START_RUN_WAIT_MS, as a new run's does. It waits for the execution that ended to close, makes the start once
   * however many try (another request, the sweeper), and goes on after the answer if Temporal cannot take it yet.
   */
  private async continueRun(run: RunRecord): Promise<void> {
    await this.deps.runs.owedStarts.beginWithin(run, this.deps.config.api.startRunWaitMs, await this.deps.runs.agentDataOf(run));
  }
}
