/**
 * The model step: load context from the database, stream the model's answer (tokens go out on
 * the bus as they arrive), then store the message, its usage and the ledger entry in one
 * transaction. A retry after that commit returns the stored result: a response that was paid
 * for is never paid for again.
 */
import crypto from 'node:crypto';
import Anthropic from '@anthropic-ai/sdk';
import { activityInfo, Context } from '@temporalio/activity';
import { type ModelCallDeferral, type ModelTurnResult, type ToolCallRef, type Usage } from '../contract/run';
import type { ApplicationFailure } from '@temporalio/common';
import type { ActivityDeps } from './deps';
import { rethrowIfCancelled, withHeartbeat } from './heartbeat';
import { toolCallHash } from './idempotency-keys';
import { classifyModelError, describeModelError, errorHeaders, shortReason } from './model/classify-error';
import { createModelAdmission } from './model/model-admission';
import { remainingFromHeaders } from './model/rate-limit-headers';
import { buildContext, type SummaryContent } from './model/context-builder';
import type { AssistantBlock, MessageParam, ModelRequest } from './model/model-adapter';
import { publishEvents } from './publish';
import { inSpan } from './spans';
import { eventKeys, ledgerKeys, messageKeys } from '../contract/keys';

export interface CallModelArgs {
  runId: string;
  turn: number;
  model: string;
}

export const SYSTEM_PROMPT = [
  'You are an autonomous agent run by Longhaul. Work toward the goal using the tools you have.',
  "Files you create live in this run's private workspace.",
  'Some tool calls need a human to approve them; a rejected call comes back as an error with the reason.',
  'When the goal is met, answer with a short final report and no tool calls.',
].join('\n');

/** Turns replayed verbatim after a relay summary, so the next segment sees recent detail. */
export const RECENT_TURNS_AFTER_HANDOFF = 2;

export const SUMMARY_INSTRUCTION = [
  'This run is about to be handed to a fresh context. Write the handoff summary your successor will',
  'start from: the goal, what has been done and found (keep every fact, number, name and file the',
  'remaining work needs), what failed and why, and the next steps. Plain prose or a short list; no tool calls.',
].join(' ');

export interface SummaryResult {
  summaryChars: number;
  usage: Usage;
}

export interface SummarizeArgs {
  runId: string;
  segment: number;
  /** The last turn the summary covers. */
  throughTurn: number;
  model: string;
}

/** Appends a user instruction without breaking the user/assistant alternation. */
function withInstruction(messages: MessageParam[], instruction: string): MessageParam[] {
  const last = messages[messages.length - 1];
  if (last?.role === 'user') {
    const content = typeof last.content === 'string' ? [{ type: 'text' as const, text: last.content }] : last.content;
    return [...messages.slice(0, -1), { role: 'user', content: [...content, { type: 'text', text: instruction }] }];
  }
  return [...messages, { role: 'user', content: instruction }];
}

/** The model activities. */
export function createModelActivities(deps: ActivityDeps) {
  const { store, bus, tools, pricing } = deps;
  const { config } = deps.settings;
  const admission = createModelAdmission({ store, config, pricing, logger: deps.logger });
  const maxAttempts = config.activities.maxAttempts;

  function request(model: string, messages: MessageParam[], opts: { toolChoice?: 'none'; onText?: (text: string) => void }): ModelRequest {
    return {
      model,
      system: SYSTEM_PROMPT,
      messages,
      tools: tools.schemas(),
      toolChoice: opts.toolChoice,
      maxTokens: deps.settings.maxTokens,
      signal: Context.current().cancellationSignal,
      onText: opts.onText ?? (() => undefined),
      promptCaching: config.model.promptCaching,
    };
  }

  /** The shared prefix (tools, system) of a request, hashed once per tool set: the registry's schemas array is stable. */
  const prefixKeys = new WeakMap<object, Map<string, string>>();
  const prefixKeyOf = (req: ModelRequest): string => {
    const byModel = prefixKeys.get(req.tools) ?? new Map<string, string>();
    prefixKeys.set(req.tools, byModel);
    let key = byModel.get(req.model);
    if (key === undefined) {
      key = crypto.createHash('sha256').update(req.model).update(req.system).update(JSON.stringify(req.tools)).digest('hex');
      byModel.set(req.model, key);
    }
    return key;
  };

  /** What a request sends, in characters: the admission estimates its tokens from this. */
  const promptChars = (req: ModelRequest) => req.system.length + JSON.stringify(req.tools).length + JSON.stringify(req.messages).length;

  /** One model call, heartbeating, cancellable; a failure is reported (`onFailure`) and classified for Temporal's retries. */
  async function ask(req: ModelRequest, onFailure?: (err: unknown, failure: ApplicationFailure) => Promise<void>) {
    const adapter = deps.modelFor(req.model);
    try {
      return await withHeartbeat(() => adapter.complete(req));
    } catch (err) {
      rethrowIfCancelled(err);
      const failure = classifyModelError(err, adapter.host);
      await onFailure?.(err, failure);
      throw failure;
    }
  }

  /** Asks the books whether `req` may go now (null) or must wait (the deferral to return to the workflow). */
  async function admit(key: string, runId: string, req: ModelRequest): Promise<ModelCallDeferral | null> {
    const admitted = await admission.admit({
      key,
      runId,
      model: req.model,
      promptChars: promptChars(req),
      prefixChars: req.system.length + JSON.stringify(req.tools).length,
      prefixKey: prefixKeyOf(req),
      maxTokens: req.maxTokens,
    });
    if (!('deferred' in admitted)) return null;
    if (admitted.deferred === 'capacity') deps.metrics.modelThrottled({ model: req.model, limit: admitted.limit, waitMs: admitted.waitMs });
    return admitted;
  }

  /** A failed call gives back nothing (it may have been counted), and the provider's headers correct the books. */
  async function settleFailure(key: string, runId: string, req: ModelRequest, metered: boolean, err: unknown): Promise<void> {
    const rateLimited = err instanceof Anthropic.APIError && err.status === 429;
    if (rateLimited) deps.metrics.modelRateLimited(req.model);
    if (!metered && !rateLimited) return;
    await store.transaction((tx) =>
      admission.settle(tx, { key, runId, model: req.model, promptChars: 0, metered, remaining: remainingFromHeaders(errorHeaders(err)), rateLimited }),
    );
  }

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
      req = request(model, await buildContext(store, runId), { onText });
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
      const error = { code: 'interrupted', message: 'the previous attempt ended without an answer (its worker stopped or it timed out)' };
      const events = await store.events.append(runId, [{ key: eventKeys.llmRetry(turn, attempt), type: 'llm.retry', data: { turn, attempt, error } }]);
      publishEvents(bus, runId, events);
    }
    req ??= request(model, await buildContext(store, runId), { onText });
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

  /**
   * The relay: the model writes a summary of the run so far, stored for the next segment, which
   * starts from it plus the last few turns. Paid for once, like any model call.
   */
  async function summarize({ runId, segment, throughTurn, model }: SummarizeArgs): Promise<SummaryResult | ModelCallDeferral> {
    const key = ledgerKeys.summary(runId, segment);
    const build = async () => request(model, withInstruction(await buildContext(store, runId), SUMMARY_INSTRUCTION), { toolChoice: 'none' });
    // A summary is a model call like any other: admitted first when limits or budgets apply.
    const metered = !admission.unmetered(model);
    let req: ModelRequest | undefined;
    if (metered) {
      const stored = await store.effects.get(key);
      if (stored?.status === 'completed') return stored.result as SummaryResult;
      req = await build();
      const deferral = await admit(key, runId, req);
      if (deferral) return deferral;
    }
    const ledger = await store.effects.begin(key, { runId, kind: 'model', name: model });
    if (ledger.state === 'completed') return ledger.result as SummaryResult;
    const sent = req ?? (await build());

    const response = await ask(sent, (err) => settleFailure(key, runId, sent, metered, err));
    const text = response.content.map((b) => (b.type === 'text' ? b.text : '')).join('').trim() || '(the model wrote no summary)';
    const usage = pricing.usageFor(model, response.usage);
    const content: SummaryContent = { text, throughTurn, recentFromTurn: Math.max(1, throughTurn - RECENT_TURNS_AFTER_HANDOFF + 1) };
    const result = { summaryChars: text.length, usage };
    await store.transaction(async (tx) => {
      await tx.messages.put({ runId, key: messageKeys.summary(segment), turn: throughTurn, kind: 'summary', content });
      await tx.runs.addUsage(runId, usage, throughTurn);
      await admission.settle(tx, { key, runId, model, promptChars: metered ? promptChars(sent) : 0, metered, usage, remaining: response.remaining, providerLimits: response.limits, prefixKey: metered ? prefixKeyOf(sent) : undefined });
      await tx.effects.complete(key, result);
    });
    return result;
  }

  return { activities: { callModel, summarize } };
}
