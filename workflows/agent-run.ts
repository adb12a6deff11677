/**
 * agentRunWorkflow: one durable agent run.
 *
 *   model turn (activity) → each tool call (activity) → results back to the model → …
 *
 * until the model answers without tools, a cap is reached, or someone cancels. Everything large
 * (goal, messages, tool output) lives in the database; this workflow carries counters, ids and
 * short previews, so its history grows by a few hundred bytes per step whatever the context size.
 */
import {
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { activitiesFor } from './activity-proxies';
import { describeFailure } from './failures';
import { installHandlers } from './handlers';
import { RunState } from './run-state';
import { LastProgressAttribute, StatusAttribute } from './search-attributes';
import { deadlineAfter, isoToDate, isoToMs } from './time';
import type { EventDraft, RunError, RunInput, RunResult, RunStatus } from './types';

type Ending =
  | { kind: 'completed' }
  | { kind: 'limit'; limit: string; value: number; message: string }
  | { kind: 'failed'; error: RunError };

export async function agentRunWorkflow(input: RunInput): Promise<RunResult> {
  const { runId, model, limits, settings } = input;
  const run = new RunState(input);
  const acts = activitiesFor(settings);
  installHandlers(run);

  /**
   * Moves the run to `status`, recording it (and any events) in the database first and only then
   * in the workflow's own state: whoever sees the new status through the progress query will find
   * the database already saying the same (and holding the result, if the run has ended).
   */
  async function transition(status: RunStatus, detail: string | null, events: EventDraft[] = [], ended = false): Promise<void> {
    const progress = { ...run.progress(), status, statusDetail: detail };
    const { at } = await acts.bookkeeping.syncRunState.executeWithOptions(
      { summary: `Record ${status}${events.length ? `: ${events.map((e) => e.type).join(', ')}` : ''}` },
      [{ runId, progress, events, ended }],
    );
    run.setStatus(status, detail);
    run.lastEventAt = at;
    upsertSearchAttributes([
      { key: StatusAttribute, value: status },
      { key: LastProgressAttribute, value: isoToDate(at) },
    ]);
  }

  function capReached(deadlinePassed: () => boolean): Ending | null {
    if (run.turn > limits.maxSteps) {
      return { kind: 'limit', limit: 'maxSteps', value: limits.maxSteps, message: `reached the step limit of ${limits.maxSteps}` };
    }
    if (run.usage.costUsd >= limits.maxCostUsd) {
      return {
        kind: 'limit',
        limit: 'maxCostUsd',
        value: run.usage.costUsd,
        message: `spent $${run.usage.costUsd.toFixed(4)}, at or over the $${limits.maxCostUsd} cost limit`,
      };
    }
    if (deadlinePassed()) {
      return { kind: 'limit', limit: 'maxDurationSec', value: limits.maxDurationSec, message: `ran past the ${limits.maxDurationSec}s time limit` };
    }
    return null;
  }

  async function takeTurns(deadlinePassed: () => boolean): Promise<Ending> {
    for (;;) {
      const cap = capReached(deadlinePassed);
      if (cap) return cap;

      const reply = await acts.model.callModel.executeWithOptions({ summary: `turn ${run.turn}: ${model}` }, [
        { runId, turn: run.turn, model },
      ]);
      run.addUsage(reply.usage);
      if (reply.stopReason !== 'tool_use' || reply.toolCalls.length === 0) return { kind: 'completed' };

      for (const call of reply.toolCalls) {
        const outcome = await acts.tools.runTool.executeWithOptions({ summary: `turn ${run.turn}: ${call.name}` }, [
          { runId, turn: run.turn, toolUseId: call.toolUseId },
        ]);
        if (run.noteToolCall(`${call.name}:${call.inputHash}`, outcome.isError, settings.loopDetectionThreshold)) {
          return {
            kind: 'limit',
            limit: 'loop',
            value: settings.loopDetectionThreshold,
            message: `the model made the same failing ${call.name} call ${settings.loopDetectionThreshold} times in a row`,
          };
        }
      }
      run.turn += 1;
      run.segmentTurns += 1;
    }
  }

  async function finish(ending: Ending): Promise<RunResult> {
    const turns = run.turn;
    if (ending.kind === 'completed') {
      await transition('completed', null, [{ key: 'run.completed', type: 'run.completed', data: { turns, usage: run.usage } }], true);
      return { status: 'completed', turns, usage: run.usage, error: null };
    }
    const events: EventDraft[] = [];
    if (ending.kind === 'limit') {
      run.error = { code: 'limit_exceeded', message: ending.message };
      events.push({ key: `limit.exceeded:${ending.limit}`, type: 'limit.exceeded', data: { limit: ending.limit, value: ending.value } });
    } else {
      run.error = ending.error;
    }
    events.push({ key: 'run.failed', type: 'run.failed', data: { error: run.error } });
    await transition('failed', run.error.message, events, true);
    // Fail the Temporal execution too, so Temporal's own UI and metrics agree with the run's status.
    throw ApplicationFailure.create({ message: run.error.message, type: 'RunFailed', nonRetryable: true, details: [run.error] });
  }

  try {
    let deadlineMs: number;
    if (!input.carried) {
      await transition('running', null, [{ key: 'run.started', type: 'run.started', data: { model, limits, approvals: input.approvals } }]);
      run.startedAtMs = isoToMs(run.lastEventAt ?? '');
      deadlineMs = limits.maxDurationSec * 1000;
    } else {
      deadlineMs = (run.startedAtMs ?? 0) + limits.maxDurationSec * 1000 - workflowInfo().runStartTime.getTime();
    }
    return await finish(await takeTurns(deadlineAfter(deadlineMs)));
  } catch (err) {
    if (isCancellation(err)) {
      // The only way a run is cancelled: an explicit request. Record it even though the scope is cancelled.
      await CancellationScope.nonCancellable(async () => {
        await transition('cancelled', 'cancelled on request', [{ key: 'run.cancelled', type: 'run.cancelled', data: { turn: run.turn } }], true);
      });
      throw err;
    }
    if (err instanceof ApplicationFailure && err.type === 'RunFailed') throw err;
    return await finish({ kind: 'failed', error: describeFailure(err) });
  }
}
