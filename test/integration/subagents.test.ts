/**
 * Sub-agents end to end: a real worker (the workflow and every activity, on the suite's dev server and store)
 * serving a lead agent and two sub-agents from a worker definition (loadAgentCatalog, as a worker entry's would
 * be), each agent's runs on its own task queue, and a scripted model in process.
 *
 * What it holds to: the lead's two delegations in one answer run as two child runs at the same time (their model
 * calls overlap); each child is a run of its own (its row with parent, owner, agent, version, input and depth, its
 * events); the lead's calls complete with the children's output (the validated result, or the final text), so the
 * lead's next answer is written from them; the lead's events say `subagent.started` / `subagent.completed`; the
 * API shows the tree (parentRunId, children, treeCostUsd) and lists roots only; a retried delegation (the
 * activity run again for the same call) finds the child it made instead of starting a second one; and a child run
 * recorded by a parent cancelled before it started the child's workflow ends cancelled, not queued.
 */
import crypto from 'node:crypto';
import { z } from 'zod';
import type { AgentDefinition } from '../../activities/agents/agent-definition';
import { loadAgentCatalog } from '../../activities/agents/load-agents';
import { LOCAL_USER } from '../../api/auth';
import { createSubagentActivities } from '../../activities/subagent-activities';
import { agentTaskQueue } from '../../contract/agents';
import { DEMO_MODEL, SUBAGENT_BOUNDS, type RunInput } from '../../contract/run';
import { messageKeys } from '../../contract/keys';
import { RUN_WORKFLOW } from '../../contract/workflow-messages';
import { runInputFor } from '../../shared/runs/run-input';
import { ApplicationFailure } from '@temporalio/common';
import { defineTool } from '../../activities/tools/tool';
import { scriptedModel, type ModelRequestRecord, type ScriptedAnswer } from '../../testing/scripted-model';
import { builtinToolsFor, createActivityDeps } from '../../worker/activity-deps';
import { workerIdentity, workerQueueName } from '../../worker/worker-queue';
import type { agentRunWorkflow } from '../../workflows/agent-run';
import { startHarness, type Harness } from '../support/harness';
import { waitFor } from '../support/wait';
import { startHandBuiltWorkers } from '../support/hand-built-workers';

const researcher: AgentDefinition = {
  name: 'researcher',
  description: 'Finds facts about a topic.',
  instructions: 'You are the researcher.',
  model: DEMO_MODEL,
  input: z.object({ topic: z.string() }),
  output: z.object({ facts: z.array(z.string()) }),
};
const writer: AgentDefinition = { name: 'writer', description: 'Writes a paragraph.', instructions: 'You are the writer.', model: DEMO_MODEL };
const lead: AgentDefinition = {
  name: 'lead',
  description: 'Leads the work.',
  instructions: 'You are the lead.',
  model: DEMO_MODEL,
  // Its delegations (risk write) run unasked: an agent's own policy is the least a call is decided by.
  approvals: 'none',
  subagents: ['researcher', { agent: 'writer', description: 'Writes a paragraph on the task given.', limits: { maxSteps: 4 } }],
};

/** A tool that waits for approval under the write policy: a child that calls it waits for a human. */
const publish = defineTool({ name: 'publish', description: 'Publishes the text.', input: z.object({}), risk: 'write', run: async () => 'published' });
const editor: AgentDefinition = { name: 'editor', description: 'Edits and publishes.', instructions: 'You are the editor.', model: DEMO_MODEL, tools: [publish], approvals: 'write' };
const flaky: AgentDefinition = { name: 'flaky', description: 'Fails.', instructions: 'You are flaky.', model: DEMO_MODEL };
const coordinator: AgentDefinition = { name: 'coordinator', description: 'Coordinates.', instructions: 'You are the coordinator.', model: DEMO_MODEL, approvals: 'none', subagents: ['editor', 'flaky'] };
/** A tool that does nothing of note: a child's first turn, so that its relay comes after a turn of work. */
const note = defineTool({ name: 'note', description: 'Notes a line.', input: z.object({ line: z.string() }), risk: 'read', run: async ({ line }) => `noted: ${line}` });
// Each hands off (continue-as-new) after every turn: the lead after the turn that delegated, the child after its note.
const shifter: AgentDefinition = { name: 'shifter', description: 'Works in shifts.', instructions: 'You are the shifter.', model: DEMO_MODEL, tools: [note], relay: { segmentMaxTurns: 1 } };
const relayLead: AgentDefinition = {
  name: 'relay-lead',
  description: 'Delegates, then hands off.',
  instructions: 'You are the relay lead.',
  model: DEMO_MODEL,
  approvals: 'none',
  relay: { segmentMaxTurns: 1 },
  subagents: ['shifter'],
};
/** Delegates to the coordinator, which delegates to the editor: a tree three deep. */
const director: AgentDefinition = { name: 'director', description: 'Directs.', instructions: 'You are the director.', model: DEMO_MODEL, approvals: 'none', subagents: ['coordinator'] };
/** Delegates to two editors at once: both wait for a human, and are cancelled together with it. */
const pairCoordinator: AgentDefinition = { name: 'pair-coordinator', description: 'Coordinates two editors.', instructions: 'You are the pair coordinator.', model: DEMO_MODEL, approvals: 'none', subagents: ['editor'] };
/** Names a sub-agent, but its own bound on depth (0: its runs are roots and go no deeper) lets it delegate nothing. */
const solo: AgentDefinition = { name: 'solo', description: 'Works alone.', instructions: 'You are solo.', model: DEMO_MODEL, approvals: 'none', subagents: ['writer'], subagentBounds: { maxDepth: 0 } };
/** Writes a file, then delegates to one that lists its own workspace: a child's workspace is its own. */
const keeper: AgentDefinition = { name: 'keeper', description: 'Keeps files.', instructions: 'You are the keeper.', model: DEMO_MODEL, approvals: 'none', tools: ['workspace_write'], subagents: ['peeker'] };
const peeker: AgentDefinition = { name: 'peeker', description: 'Lists its files.', instructions: 'You are the peeker.', model: DEMO_MODEL, approvals: 'none', tools: ['workspace_list'] };
const AGENTS = [lead, researcher, writer, coordinator, editor, flaky, shifter, relayLead, director, solo, keeper, peeker, pairCoordinator];

/** When each child's model call was in flight (epoch ms), by agent. */
const inFlight = new Map<string, { from: number; to: number }>();
/** Both children's calls have begun: each waits for the other (at most a few seconds), so calls that can overlap do. */
const started = new Set<string>();

const toolResults = (req: ModelRequestRecord): string[] =>
  req.messages.flatMap((m) => (Array.isArray(m.content) ? m.content : [])).flatMap((b) => (b.type === 'tool_result' ? [typeof b.content === 'string' ? b.content : JSON.stringify(b.content)] : []));

async function answer(req: ModelRequestRecord): Promise<ScriptedAnswer> {
  const first = JSON.stringify(req.messages[0]);
  // The relay's hand-off summary (tool choice none).
  if (req.toolChoice === 'none') return { text: `SUMMARY of ${req.system}: ${toolResults(req).join(' | ')}` };
  const all = JSON.stringify(req.messages);
  if (req.system === 'You are the relay lead.') {
    if (!all.includes('SUMMARY')) return { toolCalls: [{ name: 'shifter', input: { task: 'Work in two shifts' } }] };
    return { text: `Lead done after the relay: ${all.includes('Shifter done') ? 'the child said so' : 'no word of the child'}` };
  }
  if (req.system === 'You are the shifter.') return all.includes('SUMMARY') ? { text: 'Shifter done.' } : { toolCalls: [{ name: 'note', input: { line: 'first shift' } }] };
  if (req.system === 'You are the director.') return req.messages.length > 1 ? { text: `Directed: ${toolResults(req).join(' | ')}` } : { toolCalls: [{ name: 'coordinator', input: { task: 'please publish' } }] };
  if (req.system === 'You are the pair coordinator.') {
    return req.messages.length > 1 ? { text: 'Both published.' } : { toolCalls: [{ name: 'editor', input: { task: 'publish the first' } }, { name: 'editor', input: { task: 'publish the second' } }] };
  }
  if (req.system === 'You are the keeper.') {
    if (req.messages.length > 1) return { text: `Kept: ${toolResults(req).join(' | ')}` };
    return { toolCalls: [{ name: 'workspace_write', input: { path: 'notes/secret.txt', content: 'for the keeper only' } }, { name: 'peeker', input: { task: 'List your workspace' } }] };
  }
  if (req.system === 'You are the peeker.') return req.messages.length > 1 ? { text: `Peeked: ${toolResults(req).join(' | ')}` } : { toolCalls: [{ name: 'workspace_list', input: {} }] };
  if (req.system === 'You are solo.') return req.messages.length > 1 ? { text: `Alone: ${toolResults(req).join(' | ')}` } : { toolCalls: [{ name: 'writer', input: { task: 'write it' } }] };
  if (req.system === 'You are the lead.') {
    if (req.messages.length === 1) {
      return { text: 'Delegating.', toolCalls: [{ name: 'researcher', input: { topic: 'tides' } }, { name: 'writer', input: { task: `Write about tides ${first.match(/m-[0-9a-f]+/)?.[0]}` } }] };
    }
    return { text: `Report: ${toolResults(req).join(' | ')}` };
  }
  if (req.system === 'You are the coordinator.') {
    if (req.messages.length > 1) return { text: `Handled: ${toolResults(req).join(' | ')}` };
    return first.includes('fail') ? { toolCalls: [{ name: 'flaky', input: { task: 'do it' } }] } : { toolCalls: [{ name: 'editor', input: { task: 'publish it' } }] };
  }
  if (req.system === 'You are the editor.') return { toolCalls: [{ name: 'publish' }] };
  if (req.system === 'You are flaky.') throw ApplicationFailure.create({ message: 'flaky broke', type: 'FlakyBroke', nonRetryable: true });
  const agent = req.system === 'You are the researcher.' ? 'researcher' : 'writer';
  const from = Date.now();
  started.add(agent);
  await waitFor(() => started.size >= 2, { timeoutMs: 5000, what: 'the other child to call its model' }).catch(() => undefined);
  inFlight.set(agent, { from, to: Date.now() });
  return agent === 'researcher' ? { output: { facts: ['the moon pulls the sea'] } } : { text: 'Tides rise and fall twice a day.' };
}

describe('sub-agents: delegation as child runs', () => {
  let h: Harness;
  const model = scriptedModel(answer);
  let workers: { stop(): Promise<void> } | undefined;
  const catalog = (config: Harness['config']) => loadAgentCatalog({ definition: { agents: AGENTS }, config: { model: config.model, approvals: config.approvals, tools: { mcpServers: {} } }, builtinTools: builtinToolsFor(config) });
  let deps: ReturnType<typeof createActivityDeps>;

  beforeAll(async () => {
    h = await startHarness({ noWorker: true });
    const agents = catalog(h.config);
    for (const agent of agents.all()) if (agent.name !== 'default') await h.store.agents.publishVersion(agent.name, agent.version, agent.data);
    const identity = workerIdentity();
    const workerQueue = workerQueueName(h.config.temporal.taskQueue, identity);
    deps = createActivityDeps({ config: h.config, store: h.store, bus: h.bus, logger: h.logger, modelFor: () => model, workerQueue, workerIdentity: identity, agents });
    // One workflow Worker per served agent, on its agent's queue, as a worker process runs them.
    workers = await startHandBuiltWorkers(h.config, deps, { workflows: AGENTS.map((a) => agentTaskQueue(h.config.temporal.taskQueue, a.name)), workerQueue });
  });

  afterAll(async () => {
    await workers?.stop();
    await h?.close();
  });

  async function endOf(id: string) {
    await waitFor(async () => ['completed', 'failed', 'cancelled'].includes((await h.store.runs.get(id))!.status), { timeoutMs: 60_000, what: `run ${id} to end` });
    return (await h.store.runs.get(id))!;
  }

  /** Creates a run of `agent` (as the API would: pinned to its current version, its settings from it) and starts it on its agent's queue. */
  async function startRun(agent: string, goal: string): Promise<string> {
    const id = `run_${crypto.randomBytes(6).toString('hex')}`;
    const { run } = await h.store.runs.insert({
      id,
      owner: LOCAL_USER, // the API's user without API_TOKENS: the views and lists below are theirs
      goal,
      model: DEMO_MODEL,
      approvals: 'none',
      limits: { maxSteps: 10, maxCostUsd: 5, maxDurationSec: 600 },
      agent,
      agentVersion: catalog(h.config).get(agent)!.version,
      team: 'research', // a child run belongs where its parent does
    });
    const input: RunInput = runInputFor(h.config, run, 3600, catalog(h.config).get(agent)!.data);
    await h.client.workflow.start<typeof agentRunWorkflow>(RUN_WORKFLOW, { workflowId: id, taskQueue: agentTaskQueue(h.config.temporal.taskQueue, agent), args: [input] });
    h.track(id, `[${agent}]`);
    return id;
  }

  /** Records the children's histories too (npm run record-histories). */
  async function trackChildren(id: string) {
    for (const child of await h.store.runs.children(id)) h.track(child.id, `[${child.agent}]`);
  }

  it('runs two delegations at once as child runs, and the lead answers from their outputs', async () => {
    const marker = `m-${crypto.randomBytes(4).toString('hex')}`;
    const id = await startRun('lead', `Report on tides ${marker}`);

    const parent = await endOf(id);
    expect(parent.status).toBe('completed');
    expect(parent.result).toBe('Report: {"facts":["the moon pulls the sea"]} | Tides rise and fall twice a day.');

    // Two children, at the same time: each one's model call was in flight while the other's was.
    const researcherCall = inFlight.get('researcher')!;
    const writerCall = inFlight.get('writer')!;
    expect(researcherCall.from < writerCall.to && writerCall.from < researcherCall.to).toBe(true);

    await trackChildren(id);
    const children = await h.store.runs.children(id);
    expect(children.map((c) => c.agent).sort()).toEqual(['researcher', 'writer']);
    const agents = catalog(h.config);
    for (const child of children) {
      expect(child).toMatchObject({ owner: LOCAL_USER, team: 'research', parentRunId: id, depth: 1, status: 'completed', agentVersion: agents.get(child.agent!)!.version });
    }
    const byAgent = Object.fromEntries(children.map((c) => [c.agent!, c]));
    expect(byAgent.researcher!.input).toEqual({ topic: 'tides' });
    expect(byAgent.researcher!.output).toEqual({ facts: ['the moon pulls the sea'] });
    expect(byAgent.writer!.goal).toBe(`Write about tides ${marker}`);
    expect(byAgent.writer!.limits.maxSteps).toBe(4); // the lead's per-child cap
    // A child holds no slot of its own: it was never admitted.
    expect(children.every((c) => !c.admitted)).toBe(true);

    const events = await h.store.events.list(id, { after: 0, limit: 1000 });
    const types = events.map((e) => e.type);
    expect(types.filter((t) => t === 'subagent.started')).toHaveLength(2);
    expect(types.filter((t) => t === 'subagent.completed')).toHaveLength(2);
    const childEvents = await h.store.events.list(byAgent.writer!.id, { after: 0, limit: 1000 });
    expect(childEvents.map((e) => e.type)).toEqual(expect.arrayContaining(['run.queued', 'run.started', 'llm.message', 'run.completed']));

    // The API shows the tree, and lists it as its root.
    const view = await h.getRun(id);
    expect(view.parentRunId).toBeNull();
    expect(view.children.map((c: { agent: string }) => c.agent).sort()).toEqual(['researcher', 'writer']);
    expect(view.treeCostUsd).toBeCloseTo(parent.usage.costUsd + children.reduce((sum, c) => sum + c.usage.costUsd, 0));
    expect((await h.getRun(byAgent.writer!.id)).parentRunId).toBe(id);
    const listed = await h.request('GET', '/api/runs?limit=100');
    const ids = (listed.body.runs as { id: string }[]).map((r) => r.id);
    expect(ids).toContain(id);
    expect(ids).not.toContain(byAgent.writer!.id);
    const all = await h.request('GET', '/api/runs?limit=100&children=include');
    expect((all.body.runs as { id: string }[]).map((r) => r.id)).toContain(byAgent.writer!.id);

    // A retried delegation (the activity again for the same call) finds the child it made: no second child.
    const call = events.find((e) => e.type === 'subagent.started' && e.data.agent === 'writer')!;
    if (call.type !== 'subagent.started') throw new Error('unreachable');
    const again = await createSubagentActivities(deps).startChildRun({ parentRunId: id, turn: call.data.turn, toolUseId: call.data.toolUseId, approvalTimeoutSec: 3600 });
    expect(again.child?.input.runId).toBe(call.data.childRunId);
    expect(await h.store.runs.countChildren(id)).toBe(2);
    expect((await h.store.events.list(id, { after: 0, limit: 1000 })).filter((e) => e.type === 'subagent.started')).toHaveLength(2);
    // A settle (again, as a retry would) answers with the tree's recorded spend, for the parent's cap and checkpoint.
    const settled = await createSubagentActivities(deps).settleChildRun({ parentRunId: id, turn: call.data.turn, toolUseId: call.data.toolUseId, childRunId: call.data.childRunId, agent: 'writer', ended: { status: 'completed' } });
    expect(settled).toEqual({ isError: false, treeCostUsd: expect.closeTo(view.treeCostUsd, 9) });
  });

  it("returns a failed child to its parent's model as a tool error saying why, and the parent goes on", async () => {
    const id = await startRun('coordinator', 'please fail');
    const parent = await endOf(id);
    await trackChildren(id);

    expect(parent.status).toBe('completed');
    const [child] = await h.store.runs.children(id);
    expect(child).toMatchObject({ agent: 'flaky', status: 'failed' });
    expect(parent.result).toBe(`Handled: The flaky sub-agent's run ${child!.id} failed: flaky broke`);
    const failed = (await h.store.events.list(id, { after: 0, limit: 1000 })).find((e) => e.type === 'subagent.failed');
    expect(failed?.data).toMatchObject({ childRunId: child!.id, agent: 'flaky', status: 'failed', error: expect.stringContaining('flaky broke') });
  });

  it('cancels its children when it is cancelled', async () => {
    const id = await startRun('coordinator', 'please publish');
    let childId = '';
    await waitFor(
      async () => {
        const [child] = await h.store.runs.children(id);
        childId = child?.id ?? '';
        return child?.status === 'waiting_approval';
      },
      { timeoutMs: 30_000, what: 'the child to wait for approval of its write' },
    );

    const res = await h.request('POST', `/api/runs/${id}/cancel`, { body: {} });
    expect(res.status).toBeLessThan(300);

    expect((await endOf(id)).status).toBe('cancelled');
    expect((await endOf(childId)).status).toBe('cancelled');
    await trackChildren(id);
    // The parent's cancellation is not its child failing: no result is recorded for the delegation.
    expect((await h.store.events.list(id, { after: 0, limit: 1000 })).map((e) => e.type)).not.toContain('subagent.failed');
  });

  it('keeps the links across the relay of a parent that has delegated and of a child that relays', async () => {
    const id = await startRun('relay-lead', 'Delegate then hand off [relay-lead]');
    const parent = await endOf(id);
    await trackChildren(id);

    expect(parent.status).toBe('completed');
    expect(parent.result).toBe('Lead done after the relay: the child said so');
    const [child] = await h.store.runs.children(id);
    expect(child).toMatchObject({ agent: 'shifter', parentRunId: id, depth: 1, status: 'completed', result: 'Shifter done.' });
    // Both handed off (continue-as-new): a second execution each, the same run.
    for (const run of [id, child!.id]) {
      expect((await h.store.events.list(run, { after: 0, limit: 1000 })).filter((e) => e.type === 'run.handoff')).toHaveLength(1);
      const executions = [];
      for await (const execution of h.client.workflow.list({ query: `WorkflowId = '${run}'` })) executions.push(execution.runId);
      expect(executions.length).toBe(2);
    }
    // The tree as the API shows it, after both relays.
    const view = await h.getRun(id);
    expect(view.children.map((c: { id: string }) => c.id)).toEqual([child!.id]);
    expect(view.treeCostUsd).toBeCloseTo(parent.usage.costUsd + child!.usage.costUsd);
    expect((await h.getRun(child!.id)).parentRunId).toBe(id);
    const events = (await h.store.events.list(id, { after: 0, limit: 1000 })).map((e) => e.type);
    expect(events.filter((t) => t === 'subagent.started')).toHaveLength(1);
    expect(events.filter((t) => t === 'subagent.completed')).toHaveLength(1);
  });

  it('cancels two children running at once, and records its own cancellation after both have recorded theirs', async () => {
    const id = await startRun('pair-coordinator', 'Publish both [pair-coordinator]');
    let children: string[] = [];
    await waitFor(
      async () => {
        const rows = await h.store.runs.children(id);
        children = rows.map((c) => c.id);
        return rows.length === 2 && rows.every((c) => c.status === 'waiting_approval');
      },
      { timeoutMs: 30_000, what: 'both children to wait for approval' },
    );

    expect((await h.request('POST', `/api/runs/${id}/cancel`, { body: {} })).status).toBeLessThan(300);

    expect((await endOf(id)).status).toBe('cancelled');
    await trackChildren(id);
    const cancelledAt = async (run: string) => (await h.store.events.list(run, { after: 0, limit: 1000 })).find((e) => e.type === 'run.cancelled')?.at;
    const parentAt = (await cancelledAt(id))!;
    for (const child of children) {
      // Already recorded when the parent ended: the parent waited for it.
      const childAt = await cancelledAt(child);
      expect(childAt).toBeDefined();
      expect(Date.parse(childAt!)).toBeLessThanOrEqual(Date.parse(parentAt));
    }
  });

  it('cancels the whole tree when its root is cancelled: its child, and its child\'s child', async () => {
    const id = await startRun('director', 'Direct the publishing [director]');
    let coordinatorId = '';
    let editorId = '';
    await waitFor(
      async () => {
        coordinatorId = (await h.store.runs.children(id))[0]?.id ?? '';
        const editor = coordinatorId ? (await h.store.runs.children(coordinatorId))[0] : undefined;
        editorId = editor?.id ?? '';
        return editor?.status === 'waiting_approval';
      },
      { timeoutMs: 30_000, what: 'the grandchild to wait for approval of its write' },
    );
    expect((await h.store.runs.get(editorId))!.depth).toBe(2);

    expect((await h.request('POST', `/api/runs/${id}/cancel`, { body: {} })).status).toBeLessThan(300);

    for (const run of [id, coordinatorId, editorId]) expect((await endOf(run)).status).toBe('cancelled');
    await trackChildren(id);
    await trackChildren(coordinatorId);
  });

  it("gives a child a workspace of its own: it sees none of its parent's files", async () => {
    const id = await startRun('keeper', 'Keep a file [keeper]');
    const run = await endOf(id);
    await trackChildren(id);
    expect(run.status).toBe('completed');
    const [child] = await h.store.runs.children(id);
    expect(child).toMatchObject({ agent: 'peeker', status: 'completed' });
    const listed = (await h.store.events.list(child!.id, { after: 0, limit: 100 })).find((e) => e.type === 'tool.completed');
    if (listed?.type !== 'tool.completed') throw new Error('the child listed nothing');
    expect(listed.data.name).toBe('workspace_list');
    expect(listed.data.output).not.toContain('secret.txt');
    // The parent's file is in the parent's workspace, where it wrote it.
    expect(run.result).toMatch(/^Kept: [\s\S]*notes\/secret\.txt[\s\S]* \| Peeked: \{\s*"files": \[\]\s*\}$/);
  });

  it("refuses a delegation past its agent's own depth bound (subagentBounds), within the server's", async () => {
    const id = await startRun('solo', 'Try to delegate [solo]');
    const run = await endOf(id);
    expect(run.status).toBe('completed');
    expect(run.result).toBe('Alone: Not delegated: writer would run at depth 1 of its run tree, past the maximum of 0. Do this part yourself.');
    expect(await h.store.runs.countChildren(id)).toBe(0);
  });

  it('ends cancelled a child run recorded by a parent cancelled before it started the child\'s workflow', async () => {
    // A lead whose model asked for a delegation; the parent's workflow records the child run, is cancelled, and
    // starts no workflow for it (test/workflows/subagents.test.ts), but settles it through the activity.
    const id = `run_${crypto.randomBytes(6).toString('hex')}`;
    await h.store.runs.insert({ id, owner: LOCAL_USER, goal: 'cancelled', model: DEMO_MODEL, approvals: 'none', limits: { maxSteps: 10, maxCostUsd: 5, maxDurationSec: 600 }, agent: 'lead', agentVersion: catalog(h.config).get('lead')!.version });
    await h.store.messages.put({ runId: id, key: messageKeys.assistant(1), turn: 1, kind: 'assistant', content: [{ type: 'tool_use', id: 'toolu_gone', name: 'writer', input: { task: 'x' } }] });
    const activities = createSubagentActivities(deps);
    const started = await activities.startChildRun({ parentRunId: id, turn: 1, toolUseId: 'toolu_gone', approvalTimeoutSec: 3600 });
    const childRunId = started.child!.input.runId;
    expect((await h.store.runs.get(childRunId))!.status).toBe('queued');

    const args = { parentRunId: id, turn: 1, toolUseId: 'toolu_gone', childRunId, agent: 'writer' };
    expect(await activities.cancelUnstartedChild(args)).toEqual({ cancelled: true });
    const child = (await h.store.runs.get(childRunId))!;
    expect(child).toMatchObject({ status: 'cancelled', statusDetail: 'cancelled with its parent run before it started' });
    expect(child.endedAt).toEqual(expect.any(String));
    expect((await h.store.events.list(childRunId, { after: 0, limit: 100 })).map((e) => e.type)).toEqual(['run.queued', 'run.cancelled']);
    const parentEvents = await h.store.events.list(id, { after: 0, limit: 100 });
    expect(parentEvents.map((e) => e.type)).toEqual(['subagent.started', 'subagent.failed']);
    expect(parentEvents[1]!.data).toMatchObject({ childRunId, agent: 'writer', status: 'cancelled' });
    // Once is enough: again (a retry), it changes nothing; and a child that is not queued is never touched.
    expect(await activities.cancelUnstartedChild(args)).toEqual({ cancelled: false });
    expect(await h.store.events.list(id, { after: 0, limit: 100 })).toHaveLength(2);
    expect((await h.getRun(childRunId)).status).toBe('cancelled');
  });

  it('refuses a delegation past maxDepth: the call\'s tool error says why, and no child is made', async () => {
    // A lead run already at the deepest level a run may delegate from, whose model asked for a delegation.
    const id = `run_${crypto.randomBytes(6).toString('hex')}`;
    await h.store.runs.insert({
      id,
      owner: LOCAL_USER,
      goal: 'deep',
      model: DEMO_MODEL,
      approvals: 'none',
      limits: { maxSteps: 10, maxCostUsd: 5, maxDurationSec: 600 },
      agent: 'lead',
      agentVersion: catalog(h.config).get('lead')!.version,
      parentRunId: 'run_somewhere_above',
      depth: SUBAGENT_BOUNDS.maxDepth,
    });
    await h.store.messages.put({ runId: id, key: messageKeys.assistant(1), turn: 1, kind: 'assistant', content: [{ type: 'tool_use', id: 'toolu_deep', name: 'writer', input: { task: 'x' } }] });

    const started = await createSubagentActivities(deps).startChildRun({ parentRunId: id, turn: 1, toolUseId: 'toolu_deep', approvalTimeoutSec: 3600 });

    expect(started.refused).toBe(`Not delegated: writer would run at depth ${SUBAGENT_BOUNDS.maxDepth + 1} of its run tree, past the maximum of ${SUBAGENT_BOUNDS.maxDepth}. Do this part yourself.`);
    expect(await h.store.runs.countChildren(id)).toBe(0);
    expect((await h.store.messages.get(id, messageKeys.toolResult('toolu_deep')))?.content).toEqual({ content: started.refused, isError: true });
    const events = await h.store.events.list(id, { after: 0, limit: 100 });
    expect(events.map((e) => e.type)).toEqual(['tool.failed']);
  });
});
