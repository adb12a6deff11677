/**
 * The model step: load context from the database, stream the model's answer (tokens go out on
 * the bus as they arrive), then store the message, its usage and the ledger entry in one
 * transaction. A retry after that commit returns the stored result: a response that was paid
 * for is never paid for again.
 */
import { activityInfo, Context } from '@temporalio/activity';
import type { ModelTurnResult, ToolCallRef, Usage } from '../contract/run';
import type { ActivityDeps } from './deps';
import { rethrowIfCancelled, withHeartbeat } from './heartbeat';
import { toolCallHash } from './idempotency-keys';
import { classifyModelError } from './model/classify-error';
import { buildContext, type SummaryContent } from './model/context-builder';
import type { AssistantBlock, MessageParam } from './model/model-adapter';
import { publishEvents } from './publish';
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

export function createModelActivities(deps: ActivityDeps) {
  const { store, bus, tools, pricing } = deps;

  /** One model call, heartbeating, cancellable, its failures classified for Temporal's retries. */
  async function ask(model: string, messages: MessageParam[], opts: { toolChoice?: 'none'; onText?: (text: string) => void } = {}) {
    try {
      return await withHeartbeat(() =>
        deps.modelFor(model).complete({
          model,
          system: SYSTEM_PROMPT,
          messages,
          tools: tools.schemas(),
          toolChoice: opts.toolChoice,
          maxTokens: deps.settings.maxTokens,
          signal: Context.current().cancellationSignal,
          onText: opts.onText ?? (() => undefined),
        }),
      );
    } catch (err) {
      rethrowIfCancelled(err);
      throw classifyModelError(err);
    }
  }

  async function callModel({ runId, turn, model }: CallModelArgs): Promise<ModelTurnResult> {
    const { attempt } = activityInfo();
    const key = ledgerKeys.modelCall(runId, turn);
    const ledger = await store.effects.begin(key, { runId, kind: 'model', name: model });
    if (ledger.state === 'completed') return ledger.result as ModelTurnResult;

    if (attempt > 1 || ledger.state === 'in_doubt') {
      // Tell live viewers to drop the text the failed attempt streamed; it is being regenerated.
      bus.publish({ type: 'delta.reset', runId, turn, attempt });
      const events = await store.events.append(runId, [
        { key: eventKeys.llmRetry(turn, attempt), type: 'llm.retry', data: { turn, attempt } },
      ]);
      publishEvents(bus, runId, events);
    }

    let streamed = 0;
    const response = await ask(model, await buildContext(store, runId), {
      onText: (text) => {
        bus.publish({ type: 'delta', runId, turn, attempt, offset: streamed, text });
        streamed += text.length;
      },
    });

    const usage = pricing.usageFor(model, response.usage);
    const text = response.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
    const toolUses = response.content.filter((b): b is Extract<AssistantBlock, { type: 'tool_use' }> => b.type === 'tool_use');
    const toolCalls: ToolCallRef[] = toolUses.map((b) => ({
      toolUseId: b.id,
      name: b.name,
      risk: tools.riskOf(b.name, b.input),
      inputHash: toolCallHash(b.name, b.input),
    }));
    const result: ModelTurnResult = {
      stopReason: response.stopReason,
      toolCalls,
      usage,
      at: new Date().toISOString(),
    };

    const events = await store.transaction(async (tx) => {
      await tx.messages.put({ runId, key: messageKeys.assistant(turn), turn, kind: 'assistant', content: response.content });
      await tx.runs.addUsage(runId, usage, turn);
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
  async function summarize({ runId, segment, throughTurn, model }: SummarizeArgs): Promise<{ summaryChars: number; usage: Usage }> {
    const key = ledgerKeys.summary(runId, segment);
    const ledger = await store.effects.begin(key, { runId, kind: 'model', name: model });
    if (ledger.state === 'completed') return ledger.result as { summaryChars: number; usage: Usage };

    const response = await ask(model, withInstruction(await buildContext(store, runId), SUMMARY_INSTRUCTION), { toolChoice: 'none' });
    const text = response.content.map((b) => (b.type === 'text' ? b.text : '')).join('').trim() || '(the model wrote no summary)';
    const usage = pricing.usageFor(model, response.usage);
    const content: SummaryContent = { text, throughTurn, recentFromTurn: Math.max(1, throughTurn - RECENT_TURNS_AFTER_HANDOFF + 1) };
    const result = { summaryChars: text.length, usage };
    await store.transaction(async (tx) => {
      await tx.messages.put({ runId, key: messageKeys.summary(segment), turn: throughTurn, kind: 'summary', content });
      await tx.runs.addUsage(runId, usage, throughTurn);
      await tx.effects.complete(key, result);
    });
    return result;
  }

  return { callModel, summarize };
}
