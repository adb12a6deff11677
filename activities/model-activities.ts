/**
 * The model step: load context from the database, stream the model's answer (tokens go out on
 * the bus as they arrive), then store the message, its usage and the ledger entry in one
 * transaction. A retry after that commit returns the stored result: a response that was paid
 * for is never paid for again.
 */
import { activityInfo } from '@temporalio/activity';
import { type ModelCallDeferral, type ModelTurnResult, type ToolCallRef } from '../contract/run';
import type { ApplicationFailure } from '@temporalio/common';
import type { ActivityDeps } from './deps';
import { toolCallHash } from './idempotency-keys';
import { describeModelError, shortReason } from './model/classify-error';
import { buildContext, createGoalReader } from './model/context-builder';
import { createModelCaller } from './model/model-caller';
import type { AssistantBlock, ModelRequest } from './model/model-adapter';
import { publishEvents } from './publish';
import { inSpan } from './spans';
import { createSummaryActivities } from './summary-activities';
import { eventKeys, ledgerKeys, messageKeys } from '../contract/keys';
import type { ModelCallError } from '../contract/events';
import type { CallModelArgs } from '../contract/activity-io';

/** The model activities. */
export function createModelActivities(deps: ActivityDeps) {
  const { store, bus, tools, pricing } = deps;
  const { config } = deps.settings;
  const caller = createModelCaller(deps);
  const { admission, request, prefixKeyOf, promptChars, ask, admit, settleFailure } = caller;
  const maxAttempts = config.activities.maxAttempts;
  const goalOf = createGoalReader(store);

  /** The model call activity: a turn's answer, under its idempotency key. */
  function callModel(args: CallModelArgs): Promise<ModelTurnResult | ModelCallDeferral> {
    return takeModelTurn(args, activityInfo().attempt);
  }

  /** A turn's model call, as the activity's attempt numbered `activityAttempt`. */
  async function takeModelTurn({ runId, turn, model }: CallModelArgs, activityAttempt: number): Promise<ModelTurnResult | ModelCallDeferral> {
    const key = ledgerKeys.modelCall(runId, turn);
    let streamed = 0;
    let attempt = activityAttempt;
    let firstTokenAt: number | null = null;
    const onText = (text: string) => {
      firstTokenAt ??= Date.now();
      bus.publish({ type: 'delta', runId, turn, attempt, offset: streamed, text });
      streamed += text.length;
    };

    // Limits or budgets apply: the call must be admitted first, and may be told to wait instead.
    const metered = !admission.unmetered(model);
    let req: ModelRequest | undefined;
    if (metered) {
      const stored = await store.effects.get(key);
      if (stored?.status === 'completed') return stored.result as ModelTurnResult;
      req = request(model, await buildContext(store, runId, goalOf), { onText });
      const deferral = await admit(key, runId, req);
      if (deferral) return deferral;
    }

    const ledger = await store.effects.begin(key, { runId, kind: 'model', name: model });
    if (ledger.state === 'completed') return ledger.result as ModelTurnResult;
    // Attempts by the ledger's count: a call that waited for capacity between attempts is a new activity.
    if (ledger.state === 'in_doubt') attempt = Math.max(attempt, ledger.attempts + 1);
    if (attempt > 1) {
      // Tell live viewers to drop the text the failed attempt streamed; it is being regenerated. When the
      // failed attempt reported why, its event already exists and this one writes nothing.
      bus.publish({ type: 'delta.reset', runId, turn, attempt });
      const error: ModelCallError = { code: 'interrupted', message: 'the previous attempt ended without an answer (its worker stopped or it timed out)' };
      const events = await store.events.append(runId, [{ key: eventKeys.llmRetry(turn, attempt), type: 'llm.retry', data: { turn, attempt, error } }]);
      publishEvents(bus, runId, events);
    }
    req ??= request(model, await buildContext(store, runId, goalOf), { onText });
    const sent = req;

    /** A failed attempt: settle the books, and say why (and what happens next) before Temporal waits to retry. */
    const onFailure = async (err: unknown, failure: ApplicationFailure) => {
      await settleFailure(key, runId, sent, metered, err);
      if (failure.nonRetryable || attempt >= maxAttempts) return;
      const error = describeModelError(err, deps.modelFor(model).host);
      const next = attempt + 1;
      const events = await store.events.append(runId, [{ key: eventKeys.llmRetry(turn, next), type: 'llm.retry', data: { turn, attempt: next, error } }]);
      publishEvents(bus, runId, events);
      await store.runs.setStepNote(runId, `retrying model call (attempt ${next} of ${maxAttempts}): ${shortReason(error)}`);
    };
    const sentAt = Date.now();
    const spanAttributes = { 'gen_ai.system': 'anthropic', 'gen_ai.request.model': model, 'longhaul.run_id': runId, 'longhaul.turn': turn, 'longhaul.attempt': attempt, 'longhaul.idempotency_key': key };
    const response = await inSpan('model.call', spanAttributes, async (span) => {
      const answer = await ask(sent, onFailure);
      span.setAttributes({
        'gen_ai.usage.input_tokens': answer.usage.inputTokens,
        'gen_ai.usage.output_tokens': answer.usage.outputTokens,
        'gen_ai.usage.cache_read_input_tokens': answer.usage.cacheReadTokens ?? 0,
        'gen_ai.usage.cache_creation_input_tokens': answer.usage.cacheWriteTokens ?? 0,
        'gen_ai.response.finish_reasons': [answer.stopReason],
        'longhaul.outcome': 'ok',
      });
      return answer;
    });

    const usage = pricing.usageFor(model, response.usage);
    deps.metrics.modelCall({ model, latencyMs: Date.now() - sentAt, firstTokenMs: firstTokenAt === null ? null : firstTokenAt - sentAt, usage });
    const text = response.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
    const toolUses = response.content.filter((b): b is Extract<AssistantBlock, { type: 'tool_use' }> => b.type === 'tool_use');
    const toolCalls: ToolCallRef[] = toolUses.map((b) => ({
      toolUseId: b.id,
      name: b.name,
      risk: tools.riskOf(b.name, b.input),
      inputHash: toolCallHash(b.name, b.input),
      ...(tools.isQuick(b.name) && { quick: true as const }),
    }));
    const result: ModelTurnResult = {
      stopReason: response.stopReason,
      toolCalls,
      usage,
      at: new Date().toISOString(),
      tookMs: Date.now() - sentAt,
    };

    const events = await store.transaction(async (tx) => {
      await tx.messages.put({ runId, key: messageKeys.assistant(turn), turn, kind: 'assistant', content: response.content });
      await tx.runs.addUsage(runId, usage, turn);
      await admission.settle(tx, { key, runId, model, promptChars: metered ? promptChars(sent) : 0, metered, usage, remaining: response.remaining, providerLimits: response.limits, prefixKey: metered ? prefixKeyOf(sent) : undefined });
      await tx.effects.complete(key, result);
      return tx.events.append(runId, [
        {
          key: eventKeys.llmMessage(turn),
          type: 'llm.message',
          data: {
            turn,
            model,
            text,
            toolCalls: toolUses.map((b, i) => ({ id: b.id, name: b.name, input: b.input, risk: toolCalls[i]!.risk })),
            stopReason: response.stopReason,
            usage,
          },
        },
      ]);
    });
    publishEvents(bus, runId, events);
    bus.publish({ type: 'delta.end', runId, turn });
    return result;
  }

  return { activities: { callModel, ...createSummaryActivities(deps, caller) } };
}
