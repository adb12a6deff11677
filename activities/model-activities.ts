/**
 * The model step: load context from the database, stream the model's answer (tokens go out on
 * the bus as they arrive), then store the message, its usage and the ledger entry in one
 * commit (on Postgres mostly one statement: shared/store/with-event.ts). A retry after that commit returns the
 * stored result: a response that was paid for is never paid for again. An attempt still live when another commits
 * first (it outlived its heartbeat deadline) writes none of its answer and returns the stored one too.
 */
import { activityInfo } from '@temporalio/activity';
import { type ModelCallDeferral, type ModelTurnResult, type ToolCallRef } from '../contract/run';
import type { ApplicationFailure } from '@temporalio/common';
import type { ActivityDeps } from './deps';
import { toolCallHash } from './idempotency-keys';
import { describeModelError, shortReason } from './model/classify-error';
import { buildContext, createRunReader, openingOf, type InstructionContent, type ToolResultContent } from './model/context-builder';
import { createModelCaller, type RunPrompt } from './model/model-caller';
import { createDeltaStream } from './model/delta-stream';
import { commitPaidFor, storedAnswer } from './model/paid-for';
import type { AssistantBlock, ModelRequest } from './model/model-adapter';
import { publishEvents } from './publish';
import { inSpan } from './spans';
import { createSummaryActivities } from './summary-activities';
import { eventKeys, ledgerKeys, messageKeys } from '../contract/keys';
import type { EventDraft, ModelCallError, RunEvent } from '../contract/events';
import type { CallModelArgs } from '../contract/activity-io';
import { OUTPUT_TOOL } from '../contract/agents';
import type { RunRecord } from '../shared/store/runs';
import type { WriteWithEvent } from '../shared/store/with-event';
import { createRunAgents, type RunAgent } from './agents/run-agent';
import type { OutputError } from './agents/output-tool';

type ToolUse = Extract<AssistantBlock, { type: 'tool_use' }>;

/** Said to the model when its final answer came as text although the agent's result is due through `final_result`. */
export const CALL_OUTPUT_TOOL = `Your answer was not taken as the final result. Give the final result by calling the ${OUTPUT_TOOL} tool with a value that matches its input schema.`;

/**
 * The most schema errors told back to the model for one rejected result. Each error names a path of the model's
 * own value, so a long result wrong in every item (all errors are collected) would otherwise come back many times
 * over, into every later turn's context and cost.
 */
export const OUTPUT_ERRORS_SHOWN = 20;
/** The longest path or message of one error as told to the model (a path holds the model's own keys). */
const OUTPUT_ERROR_CHARS = 300;

const cut = (text: string): string => (text.length > OUTPUT_ERROR_CHARS ? `${text.slice(0, OUTPUT_ERROR_CHARS)}…` : text);

/** The tool result of a `final_result` call that failed the output schema: each error's path and message (the first OUTPUT_ERRORS_SHOWN). */
export function outputRejection(errors: OutputError[]): string {
  const shown = errors.slice(0, OUTPUT_ERRORS_SHOWN).map((e) => `- ${cut(e.path)}: ${cut(e.message)}`);
  const more = errors.length > OUTPUT_ERRORS_SHOWN ? [`- … and ${errors.length - OUTPUT_ERRORS_SHOWN} more errors like these`] : [];
  return [`The final result does not match the required schema, so it was not accepted:`, ...shown, ...more, `Call ${OUTPUT_TOOL} again with a corrected result.`].join('\n');
}

/** A model call's run: as the database has it, and its agent (null: a run that names none). */
interface TurnRun {
  record: RunRecord;
  agent: RunAgent | null;
  prompt?: RunPrompt;
}

/** The model activities. */
export function createModelActivities(deps: ActivityDeps) {
  const { store, bus, pricing } = deps;
  const { config } = deps.settings;
  const caller = createModelCaller(deps);
  const { admission, request, prefixKeyOf, promptChars, ask, admit, settleFailure, treeRole } = caller;
  const maxAttempts = config.activities.maxAttempts;
  const runOf = createRunReader(store);
  const agents = createRunAgents(deps);

  /**
   * The run as this call makes it: a run that names no agent is read once per worker (nothing it uses changes)
   * and goes as runs always went. A run of an agent is read at every call, since an upgrade may wait: applied
   * first (its version moves to the one this worker serves, with `run.upgraded`), then its version's system
   * prompt (or instructions function, by the current code) and tools.
   */
  async function turnRun(runId: string, turn: number): Promise<TurnRun> {
    const remembered = await runOf(runId);
    if (remembered.agent === null) return { record: remembered, agent: null };
    let record = (await store.runs.get(runId)) ?? remembered;
    if (record.upgradeRequestedAt) record = await upgrade(record, turn);
    const agent = await agents.of(record);
    return { record, agent, prompt: await promptOf(record, agent!) };
  }

  async function promptOf(record: RunRecord, agent: RunAgent): Promise<RunPrompt> {
    return { system: await agents.instructionsOf(agent, record), tools: agent.version.toolSchemas, promptCaching: agent.version.data.promptCaching };
  }

  /**
   * Moves the run to the version this worker serves, clears the request, and says so when the version changed: one
   * transaction. Only to the agent's current version (what the upgrade asks for): a worker still serving an older one
   * (a deploy under way) leaves the request to one serving the current, rather than moving the run back.
   */
  async function upgrade(record: RunRecord, turn: number): Promise<RunRecord> {
    const agent = record.agent!;
    const to = agents.served(agent).version;
    const current = await store.agents.current(agent);
    if (current && current.version.version !== to) return record;
    const events = await store.transaction(async (tx) => {
      const moved = await tx.runs.applyUpgrade(record.id, to);
      if (!moved || moved.from === to) return [];
      return tx.events.append(record.id, [{ key: eventKeys.upgraded(turn, to), type: 'run.upgraded', data: { agent, from: moved.from ?? '', to, turn } }]);
    });
    publishEvents(bus, record.id, events);
    return { ...record, agentVersion: to, upgradeRequestedAt: null };
  }

  async function requestFor(runId: string, turn: number, model: string, onText: (text: string) => void): Promise<{ req: ModelRequest; run: TurnRun }> {
    const run = await turnRun(runId, turn);
    const messages = await buildContext(store, runId, { opening: openingOf(run.record) });
    return { req: request(model, messages, { onText, prompt: run.prompt }), run };
  }

  /** The model call activity: a turn's answer, under its idempotency key. */
  function callModel(args: CallModelArgs): Promise<ModelTurnResult | ModelCallDeferral> {
    return takeModelTurn(args, activityInfo().attempt);
  }

  /** A turn's model call, as the activity's attempt numbered `activityAttempt`. */
  async function takeModelTurn({ runId, turn, model }: CallModelArgs, activityAttempt: number): Promise<ModelTurnResult | ModelCallDeferral> {
    const key = ledgerKeys.modelCall(runId, turn);
    let attempt = activityAttempt;
    let firstTokenAt: number | null = null;
    // Published in batches (delta-stream.ts): flushed when the stream stops, before anything says it ended.
    const deltas = createDeltaStream((offset, text) => bus.publish({ type: 'delta', runId, turn, attempt, offset, text }));
    const onText = (text: string) => {
      firstTokenAt ??= Date.now();
      deltas.push(text);
    };

    // Limits or budgets (the owner's or the team's) apply, or the run is in a run tree: the call must be admitted
    // first, and may be told to wait instead (or, in a tree, refused for good: it would not fit a cap of the tree).
    const role = await treeRole(await runOf(runId));
    const metered = role.tree || !(await admission.unmeteredFor(model, runId));
    let req: ModelRequest | undefined;
    let run: TurnRun | undefined;
    if (metered) {
      const stored = await store.effects.get(key);
      if (stored?.status === 'completed') return stored.result as ModelTurnResult;
      ({ req, run } = await requestFor(runId, turn, model, onText));
      const deferral = await admit(key, runId, req, role.tree);
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
    if (!req || !run) ({ req, run } = await requestFor(runId, turn, model, onText));
    const sent = req;
    const { agent } = run;

    /** A failed attempt: settle the books, and say why (and what happens next) before Temporal waits to retry. */
    const onFailure = async (err: unknown, failure: ApplicationFailure) => {
      deltas.close();
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
      const answer = await ask(sent, onFailure).finally(() => deltas.close());
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
    const toolUses = response.content.filter((b): b is ToolUse => b.type === 'tool_use');
    const registry = agents.registryOf(agent);
    const refOf = (b: ToolUse): ToolCallRef => {
      const policy = agents.policyOf(agent, b.name, run.record.approvals);
      return {
        toolUseId: b.id,
        name: b.name,
        risk: agents.riskOf(agent, b.name, b.input),
        inputHash: toolCallHash(b.name, b.input),
        ...(registry.isQuick(b.name) && { quick: true as const }),
        ...(policy && { policy }),
        ...(agents.isDelegation(agent, b.name) && { delegate: true as const }),
      };
    };
    const final = finalResultOf(agent, toolUses, response.stopReason);
    const toolCalls: ToolCallRef[] = final.toolCalls.map(refOf);
    const risks = new Map(toolCalls.map((c) => [c.toolUseId, c.risk]));
    const result: ModelTurnResult = {
      stopReason: response.stopReason,
      toolCalls,
      usage,
      at: new Date().toISOString(),
      tookMs: Date.now() - sentAt,
      ...(final.output && { output: final.output }),
    };

    // The answer and what the run says of it; the final result's verdict joins the conversation with the answer
    // itself, so a retry finds both or neither.
    const answer: WriteWithEvent[] = [{ message: { runId, key: messageKeys.assistant(turn), turn, kind: 'assistant', content: response.content } }];
    if (final.valid) answer.push({ output: final.valid.output });
    for (const r of final.results) {
      const content: ToolResultContent = { content: r.content, isError: r.isError };
      answer.push({ message: { runId, key: messageKeys.toolResult(r.toolUseId), turn, kind: 'tool_result', toolUseId: r.toolUseId, content } });
    }
    if (final.instruction) {
      const content: InstructionContent = { text: final.instruction };
      answer.push({ message: { runId, key: messageKeys.instruction(turn), turn: turn + 1, kind: 'instruction', content } });
    }
    const message: EventDraft = {
      key: eventKeys.llmMessage(turn),
      type: 'llm.message',
      data: {
        turn,
        model,
        text,
        // The final result is no effect: it reads as `read`.
        toolCalls: toolUses.map((b) => ({ id: b.id, name: b.name, input: b.input, risk: risks.get(b.id) ?? 'read' })),
        stopReason: response.stopReason,
        usage,
      },
    };
    // The run's usage is written with the answer's event, as the answer is: only by the attempt whose event is new.
    // Two live attempts of one call may both be answered (the first outlived its heartbeat deadline, still streaming,
    // and Temporal started another); the one that commits second must not count its cost on the run again.
    const answered: WriteWithEvent[] = [...answer, { usage: { usage, turn } }, { completed: { key, result } }];
    const commit = (): Promise<RunEvent[]> => {
      // Not metered, and no sub-agents' runs below: nothing to read or decide between the writes (the settlement is
      // the call's spend record alone), so they are one write with the event — on Postgres one statement.
      if (!metered && !role.children) return store.writeWithEvent(runId, message, [...answered, { modelCall: admission.callRecord({ key, runId, model }, usage) }]);
      return store.transaction(async (tx) => {
        // A run with sub-agents' runs below it: its cap and cost checkpoint count the whole tree's spend, this
        // answer's included (read before the event's statement adds it to the run's row, and the result goes in it).
        if (role.children) result.treeCostUsd = (await tx.runs.treeCostUsd(runId)) + usage.costUsd;
        // The event first: its statement takes the run's row lock before the settlement takes the model's books, the
        // order commits always took them in (when the run's usage was written first), so two cannot deadlock. An
        // attempt whose event another wrote first settles too: its call did use the provider's limits (the books
        // follow the provider's word); its spend record has the call's key, already written, and is not written again.
        const events = await tx.writeWithEvent(runId, message, answered);
        await admission.settle(tx, { key, runId, model, promptChars: metered ? promptChars(sent) : 0, metered, usage, remaining: response.remaining, providerLimits: response.limits, prefixKey: metered ? prefixKeyOf(sent) : undefined });
        return events;
      });
    };
    const events = await commitPaidFor(key, store, commit);
    // Landed before the connection was lost: the stored result is the answer (its events were written with it).
    if (!events) return storedAnswer<ModelTurnResult>(store, key);
    publishEvents(bus, runId, events);
    // Also when another attempt's answer landed first: this attempt streamed text too, and its live text must go.
    bus.publish({ type: 'delta.end', runId, turn });
    // No event written: another live attempt of this call committed its answer first (this one outlived its
    // heartbeat deadline and Temporal started another, or this one is that other), and none of this answer was
    // written. The stored answer is the turn's: the transcript's, whose tool calls the next activities load.
    if (events.length === 0) return storedAnswer<ModelTurnResult>(store, key);
    return result;
  }

  return { activities: { callModel, ...createSummaryActivities(deps, caller, { runOf, agents, promptOf }) } };
}

/** What an answer means for an agent's final result: the calls to run, results and instructions to record, the verdict. */
interface FinalResult {
  /** The tool calls the run goes on to make. */
  toolCalls: ToolUse[];
  output?: 'valid' | 'invalid';
  valid?: { output: unknown };
  /** Tool results recorded with the answer (the final result's verdict; calls not run because the run ended). */
  results: { toolUseId: string; content: string; isError: boolean }[];
  /** Longhaul's word to the model before the next turn. */
  instruction?: string;
}

/**
 * An answer of an agent with an output schema: a valid `final_result` ends the run (pydantic-ai's early
 * end: calls given beside it are not run, and are told so); an invalid one goes back with its errors while
 * the other calls run; an answer with no tool calls at all is not a result, and the model is told to give one.
 * So is an answer with tool calls that stopped for another reason than `tool_use` (cut off at `max_tokens`):
 * the run would end there without a result, and its calls may be cut short, so they are not run.
 * Any other answer, and every answer of an agent without an output schema, is a turn as ever.
 */
export function finalResultOf(agent: RunAgent | null, toolUses: ToolUse[], stopReason: string): FinalResult {
  const check = agent?.version.checkOutput;
  if (!check) return { toolCalls: toolUses, results: [] };
  const finals = toolUses.filter((b) => b.name === OUTPUT_TOOL);
  const others = toolUses.filter((b) => b.name !== OUTPUT_TOOL);
  const [first, ...extra] = finals;
  if (!first) {
    if (others.length > 0 && stopReason === 'tool_use') return { toolCalls: others, results: [] };
    const cutOff = others.map((b) => ({ toolUseId: b.id, content: `Not run: the answer stopped (${stopReason}) before it was complete.`, isError: true }));
    return { toolCalls: [], output: 'invalid', results: cutOff, instruction: CALL_OUTPUT_TOOL };
  }
  const extraResults = extra.map((b) => ({ toolUseId: b.id, content: `Only the first ${OUTPUT_TOOL} call of an answer is taken.`, isError: true }));
  const verdict = check(first.input);
  if (verdict.valid) {
    const notRun = others.map((b) => ({ toolUseId: b.id, content: `Not run: the run ended with its final result.`, isError: true }));
    return { toolCalls: [], output: 'valid', valid: { output: verdict.output }, results: [{ toolUseId: first.id, content: 'Final result accepted.', isError: false }, ...extraResults, ...notRun] };
  }
  const rejected = { toolUseId: first.id, content: outputRejection(verdict.errors), isError: true };
  if (stopReason !== 'tool_use') {
    const cutOff = others.map((b) => ({ toolUseId: b.id, content: `Not run: the answer stopped (${stopReason}) before it was complete.`, isError: true }));
    return { toolCalls: [], output: 'invalid', results: [rejected, ...extraResults, ...cutOff] };
  }
  return { toolCalls: others, output: 'invalid', results: [rejected, ...extraResults] };
}
