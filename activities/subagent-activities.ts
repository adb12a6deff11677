/**
 * Delegation to sub-agents, from the parent's side: `startChildRun` records the child run (its row, its
 * `run.queued`, the parent's `subagent.started`) once per delegating call and hands back the workflow input
 * the parent starts it with as a child workflow; `settleChildRun` turns the child's ending into the call's
 * tool result (`subagent.completed` / `subagent.failed`). Both are keyed by the parent's call: a retried
 * or replayed parent finds the child it started, never a second one. `cancelUnstartedChild` ends a child run
 * whose workflow its parent never started, the parent being cancelled in between, so no row is left `queued`.
 */
import crypto from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import { agentTaskQueue, delegationKey, type AgentData, type PublishedSubagent } from '../contract/agents';
import type { CancelUnstartedChildArgs, SettleChildRunArgs, SettleChildRunResult, StartChildRunArgs, StartChildRunResult } from '../contract/activity-io';
import type { EventDraft } from '../contract/events';
import { FailureType } from '../contract/failures';
import { eventKeys, messageKeys } from '../contract/keys';
import { stricterPolicy, subagentBoundsOf, type RunLimits } from '../contract/run';
import { runInputFor } from '../shared/runs/run-input';
import type { RunRecord } from '../shared/store/runs';
import { createRunAgents, DELEGATION_RISK } from './agents/run-agent';
import { outputChecker, type OutputChecker } from './agents/output-tool';
import type { ActivityDeps } from './deps';
import type { ToolResultContent } from './model/context-builder';
import type { AssistantBlock } from './model/model-adapter';
import { preview, publishEvents } from './publish';
import { createApprovalGate } from './tools/approval-gate';

/** A child run's title when its agent takes structured input: the input's JSON, cut to this. */
const INPUT_TITLE_CHARS = 200;
const LIMIT_FIELDS = ['maxSteps', 'maxCostUsd', 'maxDurationSec'] as const satisfies readonly (keyof RunLimits)[];

/** The child run's id, from the delegation's key: the same call always names the same child. */
export function childRunIdOf(key: string): string {
  return `run_sub_${crypto.createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
}

export function createSubagentActivities(deps: ActivityDeps) {
  const { store, bus } = deps;
  const { config } = deps.settings;
  const gate = createApprovalGate(store, config.approvals.minPolicy);
  const agents = createRunAgents(deps);
  const inputCheckers = new Map<string, OutputChecker>();

  /**
   * Each cap of the child run: the delegation's own (the parent agent's `subagents` entry), else the child
   * agent's default, else the server's; never above the child agent's maximum or the server's.
   */
  function childLimits(sub: PublishedSubagent, child: AgentData): RunLimits {
    const r = config.runs;
    const server: RunLimits = { maxSteps: r.maxStepsLimit, maxCostUsd: r.maxCostUsdLimit, maxDurationSec: r.maxDurationSecLimit };
    const defaults: RunLimits = { maxSteps: r.defaultMaxSteps, maxCostUsd: r.defaultMaxCostUsd, maxDurationSec: r.defaultMaxDurationSec };
    const limits = {} as RunLimits;
    for (const name of LIMIT_FIELDS) {
      const max = Math.min(server[name], child.limits.max[name] ?? Infinity);
      limits[name] = Math.min(sub.limits[name] ?? child.limits.defaults[name] ?? defaults[name], max);
    }
    return limits;
  }

  /** The child's goal and input from the call's input, or what is wrong with it. */
  function goalAndInput(child: { name: string; version: string; data: AgentData }, given: unknown): { goal: string; input: unknown } | { problem: string } {
    const schema = child.data.inputSchema;
    if (!schema) {
      const task = (given as { task?: unknown } | null)?.task;
      if (typeof task !== 'string' || !task.trim()) return { problem: `${child.name} takes { task: string }: give the task as text` };
      return { goal: task, input: null };
    }
    const id = `${child.name}@${child.version}`;
    let check = inputCheckers.get(id);
    if (!check) inputCheckers.set(id, (check = outputChecker(schema)));
    const verdict = check(given);
    if (!verdict.valid) return { problem: `the input does not match ${child.name}'s input schema: ${verdict.errors.map((e) => `${e.path} ${e.message}`).join('; ')}` };
    return { goal: JSON.stringify(verdict.output).slice(0, INPUT_TITLE_CHARS), input: verdict.output };
  }

  /** The call's tool result and its events, once (keyed by the call). */
  async function recordResult(parentRunId: string, turn: number, toolUseId: string, result: { content: string; isError: boolean }, events: EventDraft[]): Promise<void> {
    const content: ToolResultContent = { content: result.content, isError: result.isError };
    const written = await store.transaction(async (tx) => {
      await tx.messages.put({ runId: parentRunId, key: messageKeys.toolResult(toolUseId), turn, kind: 'tool_result', toolUseId, content });
      return tx.events.append(parentRunId, events);
    });
    publishEvents(bus, parentRunId, written);
  }

  async function refuse(args: StartChildRunArgs, name: string, message: string): Promise<StartChildRunResult> {
    const { parentRunId, turn, toolUseId } = args;
    await recordResult(parentRunId, turn, toolUseId, { content: message, isError: true }, [
      { key: eventKeys.toolResult(toolUseId), type: 'tool.failed', data: { turn, toolUseId, name, error: message, skipped: true } },
    ]);
    return { refused: message };
  }

  async function startChildRun(args: StartChildRunArgs): Promise<StartChildRunResult> {
    const { parentRunId, turn, toolUseId, approvalTimeoutSec } = args;
    const key = delegationKey(parentRunId, turn, toolUseId);
    const childRunId = childRunIdOf(key);
    const parent = await store.runs.get(parentRunId);
    if (!parent) throw ApplicationFailure.create({ message: `run ${parentRunId} has no record in the database`, type: FailureType.RunRecordMissing, nonRetryable: true });
    const existing = await store.runs.get(childRunId);
    if (existing) return startedChild(existing, approvalTimeoutSec); // a retry: the child this call already made

    const message = await store.messages.get(parentRunId, messageKeys.assistant(turn));
    const call = (message?.content as AssistantBlock[] | undefined)?.find((b) => b.type === 'tool_use' && b.id === toolUseId);
    if (!call || call.type !== 'tool_use') throw ApplicationFailure.create({ message: `no tool call ${toolUseId} in turn ${turn} of run ${parentRunId}`, type: FailureType.ToolCallNotFound, nonRetryable: true });
    const agent = await agents.of(parent);
    const sub = agent?.version.subagentsByName.get(call.name);
    if (!agent || !sub) return refuse(args, call.name, `"${call.name}" is not a sub-agent of this run's agent, so nothing was delegated.`);
    const depth = parent.depth + 1;
    const bounds = subagentBoundsOf(config.subagents, agent.version.data.subagentBounds);
    if (depth > bounds.maxDepth) {
      return refuse(args, call.name, `Not delegated: ${call.name} would run at depth ${depth} of its run tree, past the maximum of ${bounds.maxDepth}. Do this part yourself.`);
    }
    // This worker checks the approval itself, as for any tool call: a delegation spends money (risk write).
    const { policy, allowed } = await gate.check({ runId: parentRunId, turn, toolUseId, name: call.name, input: call.input }, DELEGATION_RISK, agents.policyOf(agent, call.name, parent.approvals));
    if (!allowed) return refuse(args, call.name, `Not delegated: a delegation to ${call.name} needs approval under the ${policy} policy, and none is recorded for this call.`);
    const served = deps.agents.get(sub.agent);
    if (!served) return refuse(args, call.name, `Not delegated: the agent ${sub.agent} is not served by the worker that runs this call.`);
    const asked = goalAndInput(served, call.input);
    if ('problem' in asked) return refuse(args, call.name, `Not delegated: ${asked.problem}.`);

    const child = served.data;
    const approvals = stricterPolicy(stricterPolicy(child.approvals, parent.approvals), config.approvals.minPolicy);
    const limits = childLimits(sub, child);
    // Its cost cap is a reservation out of what the parent's tree has left: the delegation's own maxCostUsd
    // when it gives one, else a share of that room (SUBAGENT_COST_SHARE); the children cap is counted with it.
    const costShare = sub.limits.maxCostUsd !== undefined ? 1 : config.runs.subagentCostShare;
    const created = await store.transaction(async (tx) => {
      const placed = await tx.placeChild({
        id: childRunId,
        owner: parent.owner,
        goal: asked.goal,
        model: child.model.default,
        approvals,
        limits,
        metadata: { parentRunId, toolUseId },
        idempotencyKey: key,
        agent: served.name,
        agentVersion: served.version,
        input: asked.input,
        parentRunId,
        depth,
        // A child belongs where its parent does: its team sees it, decides it, and pays for it.
        team: parent.team,
      }, { maxChildren: bounds.maxChildren, costShare });
      if ('tooMany' in placed) return { tooMany: placed.tooMany };
      const { run, created } = placed;
      if (!created) return { run, parentEvents: [], childEvents: [] };
      const childEvents = await tx.events.append(run.id, [
        { key: eventKeys.queued(), type: 'run.queued', data: { goal: asked.goal, model: run.model, approvals, limits: run.limits, agent: served.name, agentVersion: served.version } },
      ]);
      const parentEvents = await tx.events.append(parentRunId, [
        { key: eventKeys.subagentStarted(toolUseId), type: 'subagent.started', data: { turn, toolUseId, childRunId: run.id, agent: served.name, agentVersion: served.version } },
      ]);
      return { run, parentEvents, childEvents };
    });
    if ('tooMany' in created) {
      return refuse(args, call.name, `Not delegated: this run has started ${bounds.maxChildren} sub-agent runs, the most one run may.`);
    }
    publishEvents(bus, created.run.id, created.childEvents);
    publishEvents(bus, parentRunId, created.parentEvents);
    const last = created.childEvents[created.childEvents.length - 1];
    if (last) bus.publish({ type: 'notify', runId: created.run.id, seq: last.seq }); // announced to runs feeds, as the API does a new run
    return startedChild(created.run, approvalTimeoutSec);
  }

  async function startedChild(run: RunRecord, approvalTimeoutSec: number): Promise<StartChildRunResult> {
    const data = run.agent && run.agentVersion ? (await store.agents.version(run.agent, run.agentVersion))?.data : undefined;
    const input = { ...runInputFor(config, run, approvalTimeoutSec, data), parentRunId: run.parentRunId!, depth: run.depth };
    return { child: { input, taskQueue: agentTaskQueue(config.temporal.taskQueue, run.agent), agent: run.agent! } };
  }

  /**
   * The child's ending as the call's result: its validated output (as JSON) or its final text when it completed;
   * a tool error saying why when it failed or was cancelled. The child's own record decides; the parent's view
   * (`ended`) only when the child recorded no ending (its workflow was terminated). The answer carries the parent
   * tree's recorded spend, the child's included, for the parent's cost cap and checkpoint before its next call.
   */
  async function settleChildRun(args: SettleChildRunArgs): Promise<SettleChildRunResult> {
    const { isError } = await settleResult(args);
    return { isError, treeCostUsd: await store.runs.treeCostUsd(args.parentRunId) };
  }

  async function settleResult({ parentRunId, turn, toolUseId, childRunId, agent, ended }: SettleChildRunArgs): Promise<{ isError: boolean }> {
    const child = await store.runs.get(childRunId);
    const status = child && (child.status === 'completed' || child.status === 'failed' || child.status === 'cancelled') ? child.status : ended.status === 'completed' ? 'failed' : ended.status;
    const costUsd = child?.usage.costUsd ?? 0;
    const about = { turn, toolUseId, childRunId, agent };
    if (status === 'completed' && child) {
      const content = child.output !== null && child.output !== undefined ? JSON.stringify(child.output) : (child.result ?? '');
      await recordResult(parentRunId, turn, toolUseId, { content, isError: false }, [
        { key: eventKeys.toolResult(toolUseId), type: 'tool.completed', data: { turn, toolUseId, name: agent, output: preview(content, 4096), bytes: Buffer.byteLength(content), truncated: false } },
        { key: eventKeys.subagentEnded(toolUseId), type: 'subagent.completed', data: { ...about, costUsd } },
      ]);
      return { isError: false };
    }
    const why = child?.error?.message ?? child?.statusDetail ?? ended.message ?? (status === 'cancelled' ? 'cancelled' : 'it ended without a result');
    const error = `The ${agent} sub-agent's run ${childRunId} ${status === 'cancelled' ? 'was cancelled' : 'failed'}: ${why}`;
    await recordResult(parentRunId, turn, toolUseId, { content: error, isError: true }, [
      { key: eventKeys.toolResult(toolUseId), type: 'tool.failed', data: { turn, toolUseId, name: agent, error } },
      { key: eventKeys.subagentEnded(toolUseId), type: 'subagent.failed', data: { ...about, status: status === 'cancelled' ? 'cancelled' : 'failed', error, costUsd } },
    ]);
    return { isError: true };
  }

  /**
   * The parent was cancelled after recording the child run and before starting its workflow, which now never
   * starts (or its time cap passed while it was paused there: `reason`): the child's row ends `cancelled` (with its
   * `run.cancelled`) and the parent's timeline says so (`subagent.failed`). Only a row still `queued` is touched — a child whose workflow did start records its own
   * ending — and each event is keyed, so a retry changes nothing.
   */
  async function cancelUnstartedChild({ parentRunId, turn, toolUseId, childRunId, agent, reason = 'cancelled with its parent run before it started' }: CancelUnstartedChildArgs): Promise<{ cancelled: boolean }> {
    const error = `The ${agent} sub-agent's run ${childRunId} was cancelled: ${reason}`;
    const written = await store.transaction(async (tx) => {
      await tx.runs.lock(childRunId);
      const child = await tx.runs.get(childRunId);
      if (child?.status !== 'queued') return undefined;
      await tx.runs.updateState(childRunId, { status: 'cancelled', statusDetail: reason, ended: true });
      const childEvents = await tx.events.append(childRunId, [{ key: eventKeys.cancelled(), type: 'run.cancelled', data: { turn: 0, reason } }]);
      const parentEvents = await tx.events.append(parentRunId, [
        { key: eventKeys.subagentEnded(toolUseId), type: 'subagent.failed', data: { turn, toolUseId, childRunId, agent, status: 'cancelled', error, costUsd: 0 } },
      ]);
      return { childEvents, parentEvents };
    });
    if (!written) return { cancelled: false };
    publishEvents(bus, childRunId, written.childEvents);
    publishEvents(bus, parentRunId, written.parentEvents);
    return { cancelled: true };
  }

  return { startChildRun, settleChildRun, cancelUnstartedChild };
}
