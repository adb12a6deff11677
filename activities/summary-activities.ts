/**
 * The relay's summary: before a segment hands over to a fresh context, the model writes a summary of
 * the run so far, stored for the next segment, which starts from it plus the last few turns. Paid
 * for once, like any model call: admitted first, then recorded with its ledger entry in one
 * transaction, which waits out a database that is away rather than fail the attempt (./model/paid-for.ts). An attempt
 * still live when another completed the entry first (it outlived its heartbeat deadline) writes none of its summary
 * and returns the stored result.
 */
import type { ModelCallDeferral } from '../contract/run';
import type { SummarizeArgs, SummaryResult } from '../contract/activity-io';
import { ledgerKeys, messageKeys } from '../contract/keys';
import type { ActivityDeps } from './deps';
import { buildContext, openingOf, type SummaryContent } from './model/context-builder';
import type { ModelRequest } from './model/model-adapter';
import type { ModelCaller, RunPrompt } from './model/model-caller';
import type { RunRecord } from '../shared/store/runs';
import type { WriteWithEvent } from '../shared/store/with-event';
import type { RunAgent, RunAgents } from './agents/run-agent';
import { SUMMARY_INSTRUCTION, withInstruction } from './model/prompts';
import { commitPaidFor, storedAnswer } from './model/paid-for';

/** Turns replayed verbatim after a relay summary, so the next segment sees recent detail. */
export const RECENT_TURNS_AFTER_HANDOFF = 2;

/** How the model activities know a run's agent (model-activities.ts). */
export interface SummaryRunAgents {
  runOf: (runId: string) => Promise<RunRecord>;
  agents: RunAgents;
  promptOf: (record: RunRecord, agent: RunAgent) => Promise<RunPrompt>;
}

export function createSummaryActivities(deps: ActivityDeps, caller: ModelCaller, runAgents: SummaryRunAgents) {
  const { store, pricing } = deps;
  const { admission, request, prefixKeyOf, promptChars, ask, admit, settleFailure, treeRole } = caller;

  /**
   * The summary's request: a run of an agent sends its version's system prompt and tools, and asks in its
   * relay's own words when it has them; a run that names none, as always.
   */
  async function summaryRequest(runId: string, model: string): Promise<ModelRequest> {
    const remembered = await runAgents.runOf(runId);
    if (remembered.agent === null) return request(model, withInstruction(await buildContext(store, runId, { opening: openingOf(remembered) }), SUMMARY_INSTRUCTION), { toolChoice: 'none' });
    const record = (await store.runs.get(runId)) ?? remembered;
    const agent = (await runAgents.agents.of(record))!;
    const instruction = agent.version.data.relay.summaryInstruction ?? SUMMARY_INSTRUCTION;
    const messages = withInstruction(await buildContext(store, runId, { opening: openingOf(record) }), instruction);
    return request(model, messages, { toolChoice: 'none', prompt: await runAgents.promptOf(record, agent) });
  }

  /**
   * The relay: the model writes a summary of the run so far, stored for the next segment, which
   * starts from it plus the last few turns. Paid for once, like any model call.
   */
  async function summarize({ runId, segment, throughTurn, model }: SummarizeArgs): Promise<SummaryResult | ModelCallDeferral> {
    const key = ledgerKeys.summary(runId, segment);
    const build = () => summaryRequest(runId, model);
    // A summary is a model call like any other: admitted first when limits or budgets apply, or in a run tree.
    const { tree } = await treeRole(await runAgents.runOf(runId));
    const metered = tree || !(await admission.unmeteredFor(model, runId));
    let req: ModelRequest | undefined;
    if (metered) {
      const stored = await store.effects.get(key);
      if (stored?.status === 'completed') return stored.result as SummaryResult;
      req = await build();
      const deferral = await admit(key, runId, req, tree);
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
    // The summary and the run's usage land with the ledger entry's completion, only by the attempt that completes it.
    // Two live attempts of one summary may both be answered (the first outlived its heartbeat deadline and Temporal
    // started another); the one that commits second must not count its cost again, nor put its result over the first's.
    const summary: WriteWithEvent[] = [{ message: { runId, key: messageKeys.summary(segment), turn: throughTurn, kind: 'summary', content } }, { usage: { usage, turn: throughTurn } }];
    // Paid for now: a database away at this moment is waited for, not failed, or the retry would pay again.
    const committed = await commitPaidFor(key, store, () =>
      store.transaction(async (tx) => {
        const first = await tx.writeWithCompletion(runId, { key, result }, summary);
        // The attempt that came second settles too: its call did use the provider's limits (the books follow the
        // provider's word); its spend record has the call's key, already written, and is not written again.
        await admission.settle(tx, { key, runId, model, promptChars: metered ? promptChars(sent) : 0, metered, usage, remaining: response.remaining, providerLimits: response.limits, prefixKey: metered ? prefixKeyOf(sent) : undefined });
        return first;
      }),
    );
    // Landed before the connection was lost, or another attempt's summary landed first: the stored result is the
    // one whose summary the next segment starts from.
    if (!committed) return storedAnswer<SummaryResult>(store, key);
    return result;
  }

  return { summarize };
}
