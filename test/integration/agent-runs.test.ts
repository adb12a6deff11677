/**
 * A run executes as its agent version says, end to end: a real worker (the workflow and every activity, on the
 * suite's dev server and SQLite store) serving agents from a catalog built by hand (agentCatalog), a scripted
 * model in process that records each request. Runs are created as the API will create them for an agent
 * (agent, pinned version, input) and started with the deployment's settings.
 *
 * What it holds to: the system prompt is the version's instructions (text, or the current code's function of
 * the run and the worker's deps); the model is offered the version's tools; tools get the run and the deps;
 * a run stays on its version until an upgrade is asked for, which applies at its next model call with
 * `run.upgraded`; a tool the current code lacks fails that call cleanly; a structured output is validated,
 * sent back while invalid, stored when valid and carried by `run.completed`.
 */
import crypto from 'node:crypto';
import { z } from 'zod';
import { agentCatalog, type ServedAgent } from '../../activities/agents/agent-catalog';
import type { AgentDefinition, RunInfo } from '../../activities/agents/agent-definition';
import type { AssistantBlock, ModelAdapter, ModelRequest, ModelResponse } from '../../activities/model/model-adapter';
import { ToolRegistry } from '../../activities/tools/registry';
import { defineTool, type ToolDefinition } from '../../activities/tools/tool';
import { DEFAULT_AGENT, OUTPUT_TOOL, type AgentData, type PublishedTool } from '../../contract/agents';
import { loadAgentCatalog } from '../../activities/agents/load-agents';
import { DEMO_MODEL, type ApprovalPolicy, type RunInput, type RunSettings } from '../../contract/run';
import { RUN_WORKFLOW } from '../../contract/workflow-messages';
import { runInputFor } from '../../shared/runs/run-input';
import { createActivityDeps } from '../../worker/activity-deps';
import { workerIdentity, workerQueueName } from '../../worker/worker-queue';
import type { agentRunWorkflow } from '../../workflows/agent-run';
import { startHarness, type Harness } from '../support/harness';
import { waitFor } from '../support/wait';
import { startHandBuiltWorkers } from '../support/hand-built-workers';

/** One scripted answer: text and tool calls. */
interface Answer {
  text?: string;
  toolCalls?: { name: string; input: Record<string, unknown> }[];
}

/** The model: each run's answers in order, and every request it was sent, by a marker its first message holds. */
class ScriptedModel implements ModelAdapter {
  private readonly requests = new Map<string, ModelRequest[]>();
  private readonly scripts = new Map<string, Answer[]>();

  script(marker: string, answers: Answer[]): void {
    this.scripts.set(marker, answers);
  }

  requestsOf(marker: string): ModelRequest[] {
    return this.requests.get(marker) ?? [];
  }

  /** The relay's summary requests (tool choice none), by marker. */
  private readonly summaries = new Map<string, ModelRequest[]>();

  summaryRequestsOf(marker: string): ModelRequest[] {
    return this.summaries.get(marker) ?? [];
  }

  async complete(req: ModelRequest): Promise<ModelResponse> {
    const marker = [...this.scripts.keys()].find((m) => JSON.stringify(req.messages[0]).includes(m));
    if (!marker) throw new Error('no script for this request');
    if (req.toolChoice === 'none') {
      this.summaries.set(marker, [...this.summaryRequestsOf(marker), req]);
      return { content: [{ type: 'text', text: 'SUMMARY: looked the invoice up.' }], stopReason: 'end_turn', usage: { inputTokens: 100, outputTokens: 20 } };
    }
    const seen = this.requests.get(marker) ?? [];
    // What was sent, as it was then (the caller's arrays are not touched again, but copy to be sure).
    seen.push({ ...req, messages: JSON.parse(JSON.stringify(req.messages)) as ModelRequest['messages'] });
    this.requests.set(marker, seen);
    const answer = this.scripts.get(marker)![seen.length - 1] ?? { text: 'Done.' };
    const content: AssistantBlock[] = [];
    if (answer.text) content.push({ type: 'text', text: answer.text });
    for (const [i, call] of (answer.toolCalls ?? []).entries()) content.push({ type: 'tool_use', id: `toolu_${seen.length}_${i}_${crypto.randomBytes(3).toString('hex')}`, name: call.name, input: call.input });
    return { content, stopReason: answer.toolCalls?.length ? 'tool_use' : 'end_turn', usage: { inputTokens: 100, outputTokens: 20 } };
  }
}

const workerDeps = { greeting: 'hello from deps' };
/** What tools saw of their calls: the run they work for and the deps they were given. */
const seenByTools: { tool: string; run: RunInfo; deps: unknown }[] = [];

const lookup = defineTool({
  name: 'lookup',
  description: 'Looks an invoice up.',
  input: z.object({ invoiceId: z.string() }),
  risk: 'read',
  async run(input, ctx) {
    seenByTools.push({ tool: 'lookup', run: ctx.run, deps: ctx.deps });
    return { invoiceId: input.invoiceId, amountCents: 4200 };
  },
});

/** Asks for a run's upgrade as POST /api/runs/:id/upgrade does (set once the store is open). */
let requestUpgrade: (runId: string) => Promise<void> = () => Promise.reject(new Error('no store yet'));

/** A tool the current code of the `pinned` agent has: while it runs, its run's upgrade is asked for. */
const askUpgrade: ToolDefinition<{ runId: string }> = defineTool({
  name: 'ask_upgrade',
  description: 'Asks for an upgrade.',
  input: z.object({ runId: z.string() }),
  risk: 'read',
  async run(_input, ctx) {
    seenByTools.push({ tool: 'ask_upgrade', run: ctx.run, deps: ctx.deps });
    await requestUpgrade(ctx.run.runId);
    return 'asked';
  },
});

const publishedOf = (tool: ToolDefinition<any>, over: Partial<PublishedTool> = {}): PublishedTool => ({
  name: tool.name,
  description: tool.description,
  inputSchema: { type: 'object', ...(z.toJSONSchema(tool.input, { io: 'input' }) as Record<string, unknown>), $schema: undefined },
  risk: typeof tool.risk === 'string' ? tool.risk : 'by_input',
  source: 'custom',
  ...over,
});

function dataOf(name: string, over: Partial<AgentData>): AgentData {
  return {
    name,
    description: `${name} agent`,
    instructions: `You are ${name}.`,
    model: { default: DEMO_MODEL, allowed: [DEMO_MODEL] },
    tools: [],
    approvals: 'none',
    limits: { defaults: {}, max: {} },
    inputSchema: null,
    outputSchema: null,
    outputRetries: 2,
    relay: { segmentMaxTurns: null, summaryInstruction: null },
    promptCaching: true,
    ...over,
  };
}

const versionOf = (data: AgentData): string => crypto.createHash('sha256').update(JSON.stringify(data)).digest('hex').slice(0, 16);

function served(definition: AgentDefinition, data: AgentData, tools: ToolDefinition<any>[]): ServedAgent {
  return { name: definition.name, definition, data, version: versionOf(data), tools: new ToolRegistry(tools) };
}

const invoiceInput = z.object({ invoiceId: z.string() });
const verdictSchema = { type: 'object', properties: { approved: { type: 'boolean' }, reason: { type: 'string' } }, required: ['approved'], additionalProperties: false };

// The agents as this worker's code defines them.
const checkerData = dataOf('checker', {
  tools: [publishedOf(lookup)],
  inputSchema: z.toJSONSchema(invoiceInput) as Record<string, unknown>,
  outputSchema: verdictSchema,
});
const checker = served({ name: 'checker', description: 'checker agent', instructions: 'You are checker.', tools: [lookup], input: invoiceInput }, checkerData, [lookup]);

const dynamicData = dataOf('dynamic', { instructions: null, tools: [publishedOf(lookup)] });
const dynamic = served(
  { name: 'dynamic', description: 'dynamic agent', instructions: ({ run, deps }) => `Help ${run.owner} with ${run.goal}; ${(deps as typeof workerDeps).greeting}.`, tools: [lookup] },
  dynamicData,
  [lookup],
);

// `pinned`: the version runs started with (v1) lists a tool the current code (v2) no longer has.
const retired: PublishedTool = { name: 'retired', description: 'Gone now.', inputSchema: { type: 'object', properties: {} }, risk: 'read', source: 'custom' };
const pinnedV1 = dataOf('pinned', { instructions: 'You are pinned, version one.', tools: [publishedOf(askUpgrade), retired] });
const pinnedV2Data = dataOf('pinned', { instructions: 'You are pinned, version two.', tools: [publishedOf(askUpgrade)] });
const pinned = served({ name: 'pinned', description: 'pinned agent', instructions: 'You are pinned, version two.', tools: [askUpgrade] }, pinnedV2Data, [askUpgrade]);

// `gated`: its tool never asks for approval, whatever the run's policy (the per-call policy), and the executing worker agrees.
const gatedData = dataOf('gated', { approvals: 'all', tools: [publishedOf(lookup, { approval: 'never' })] });
const gated = served({ name: 'gated', description: 'gated agent', instructions: 'You are gated.', tools: [lookup], approvals: { policy: 'all', tools: { lookup: 'never' } } }, gatedData, [lookup]);

// `careful`: its tool always asks for approval, whatever the run's policy.
const carefulData = dataOf('careful', { tools: [publishedOf(lookup, { approval: 'always' })] });
const careful = served({ name: 'careful', description: 'careful agent', instructions: 'You are careful.', tools: [lookup], approvals: { tools: { lookup: 'always' } } }, carefulData, [lookup]);

// `tightened`: runs pinned to v1 (its tool never asked) meet a deploy whose code always asks about it.
const tightenedV1 = dataOf('tightened', { tools: [publishedOf(lookup, { approval: 'never' })] });
const tightenedData = dataOf('tightened', { tools: [publishedOf(lookup, { approval: 'always' })] });
const tightened = served({ name: 'tightened', description: 'tightened agent', instructions: 'You are tightened.', tools: [lookup], approvals: { tools: { lookup: 'always' } } }, tightenedData, [lookup]);

// `stale`: this worker serves v1 while v2 is current (a deploy under way): an upgrade waits for a worker serving v2.
const staleV1Data = dataOf('stale', { instructions: 'You are stale, version one.', tools: [publishedOf(askUpgrade)] });
const staleV2Data = dataOf('stale', { instructions: 'You are stale, version two.', tools: [publishedOf(askUpgrade)] });
const stale = served({ name: 'stale', description: 'stale agent', instructions: 'You are stale, version one.', tools: [askUpgrade] }, staleV1Data, [askUpgrade]);

// `relayed`: hands off with its own summary instruction.
const relayedData = dataOf('relayed', { tools: [publishedOf(lookup)], relay: { segmentMaxTurns: null, summaryInstruction: 'Summarise for the next shift.' } });
const relayed = served({ name: 'relayed', description: 'relayed agent', instructions: 'You are relayed.', tools: [lookup], relay: { summaryInstruction: 'Summarise for the next shift.' } }, relayedData, [lookup]);

// `ghost`: published (by some other worker) but not served by this one.
const ghostData = dataOf('ghost', {});

describe('agent runs: a run executes as its agent version says', () => {
  let h: Harness;
  const model = new ScriptedModel();
  let workers: { stop(): Promise<void> } | undefined;

  beforeAll(async () => {
    h = await startHarness({ noWorker: true });
    requestUpgrade = async (runId) => {
      await h.store.db.updateTable('runs').set({ upgrade_requested_at: new Date().toISOString() }).where('id', '=', runId).execute();
    };
    // Older versions first: no worker says it serves an agent here, so the latest published is current.
    await h.store.agents.publishVersion('pinned', versionOf(pinnedV1), pinnedV1);
    await h.store.agents.publishVersion('stale', stale.version, stale.data);
    await new Promise((resolve) => setTimeout(resolve, 5));
    for (const agent of [checker, dynamic, pinned, gated, careful, relayed, tightened]) await h.store.agents.publishVersion(agent.name, agent.version, agent.data);
    // Current, though this worker serves stale's older version.
    await h.store.agents.publishVersion('stale', versionOf(staleV2Data), staleV2Data);
    await h.store.agents.publishVersion('ghost', versionOf(ghostData), ghostData);
    await h.store.agents.publishVersion('tightened', versionOf(tightenedV1), tightenedV1);
    const identity = workerIdentity();
    const workerQueue = workerQueueName(h.config.temporal.taskQueue, identity);
    const deps = createActivityDeps({
      config: h.config,
      store: h.store,
      bus: h.bus,
      logger: h.logger,
      modelFor: () => model,
      workerQueue,
      workerIdentity: identity,
      workerDeps,
      // Every worker serves the built-in default agent besides its own (createActivityDeps requires it).
      agents: agentCatalog([loadAgentCatalog({ config: h.config, builtinTools: [] }).get(DEFAULT_AGENT)!, checker, dynamic, pinned, gated, careful, relayed, tightened, stale]),
    });
    workers = await startHandBuiltWorkers(h.config, deps, { workflows: [h.config.temporal.taskQueue], workerQueue });
  });

  afterAll(async () => {
    await workers?.stop();
    await h?.close();
  });

  /**
   * Creates a run of `agent` pinned to `version` (as the API will: agent, version, input, a goal from the input)
   * and starts its workflow. The model knows the run by `marker`, which its first message holds (in the goal, or
   * in the input).
   */
  async function startRun(opts: {
    agent: string;
    version: string;
    marker: string;
    answers: Answer[];
    input?: unknown;
    approvals?: ApprovalPolicy;
    settings?: Partial<RunSettings>;
    owner?: string;
  }): Promise<string> {
    model.script(opts.marker, opts.answers);
    const id = `run_${crypto.randomBytes(6).toString('hex')}`;
    const goal = opts.input === undefined ? `[${opts.agent}] ${opts.marker}` : JSON.stringify(opts.input).slice(0, 200);
    const { run } = await h.store.runs.insert({
      id,
      owner: opts.owner ?? 'alice',
      goal,
      model: DEMO_MODEL,
      approvals: opts.approvals ?? 'none',
      limits: { maxSteps: 10, maxCostUsd: 5, maxDurationSec: 600 },
      metadata: { ticket: 'T-1' },
      agent: opts.agent,
      agentVersion: opts.version,
      input: opts.input,
    });
    const base = runInputFor(h.config, run, 3600);
    const input: RunInput = { ...base, settings: { ...base.settings, ...opts.settings } };
    await h.client.workflow.start<typeof agentRunWorkflow>(RUN_WORKFLOW, { workflowId: id, taskQueue: h.taskQueue, args: [input] });
    h.track(id, `[${opts.agent}]`);
    return id;
  }

  async function endOf(id: string) {
    await waitFor(async () => ['completed', 'failed', 'cancelled'].includes((await h.store.runs.get(id))!.status), { timeoutMs: 30_000, what: `run ${id} to end` });
    return (await h.store.runs.get(id))!;
  }
  const marker = () => `m-${crypto.randomBytes(4).toString('hex')}`;
  const text = (content: unknown): string => JSON.stringify(content);

  it("sends the version's instructions and tools, the input as the first message, and gives tools the run and the deps", async () => {
    const input = { invoiceId: marker() };
    const id = await startRun({
      agent: 'checker',
      version: checker.version,
      marker: input.invoiceId,
      input,
      answers: [{ toolCalls: [{ name: 'lookup', input: { invoiceId: input.invoiceId } }] }, { toolCalls: [{ name: OUTPUT_TOOL, input: { approved: true } }] }],
    });
    expect((await endOf(id)).status).toBe('completed');

    const [first] = model.requestsOf(input.invoiceId);
    expect(first!.system).toBe('You are checker.');
    expect(first!.tools.map((t) => t.name)).toEqual(['lookup', OUTPUT_TOOL]);
    expect(first!.messages[0]).toEqual({ role: 'user', content: `Input: ${JSON.stringify(input)}` });
    const saw = seenByTools.find((s) => s.run.runId === id)!;
    expect(saw.run).toEqual({ runId: id, owner: 'alice', agent: 'checker', input, goal: JSON.stringify(input), metadata: { ticket: 'T-1' } });
    expect(saw.deps).toBe(workerDeps);
  });

  it("evaluates an instructions function by the current code, with the run and the worker's deps", async () => {
    const m = marker();
    const id = await startRun({ agent: 'dynamic', version: dynamic.version, marker: m, answers: [{ text: 'Done.' }] });
    expect((await endOf(id)).status).toBe('completed');

    const [first] = model.requestsOf(m);
    expect(first!.system).toBe(`Help alice with [dynamic] ${m}; hello from deps.`);
    expect(first!.tools.map((t) => t.name)).toEqual(['lookup']);
    expect(first!.messages[0]).toEqual({ role: 'user', content: `Goal: [dynamic] ${m}` });
  });

  it('keeps a run on its version, moves it at the next model call once an upgrade is asked for (run.upgraded), and fails a call of a tool the current code lacks cleanly', async () => {
    const m = marker();
    const v1 = versionOf(pinnedV1);
    const id = await startRun({
      agent: 'pinned',
      version: v1,
      marker: m,
      answers: [{ toolCalls: [{ name: 'retired', input: {} }] }, { toolCalls: [{ name: 'ask_upgrade', input: { runId: 'x' } }] }, { text: 'Done.' }],
    });
    // The upgrade is asked for while turn 2's tool runs: turn 3's model call applies it.
    expect((await endOf(id)).status).toBe('completed');

    const requests = model.requestsOf(m);
    expect(requests.map((r) => r.system)).toEqual(['You are pinned, version one.', 'You are pinned, version one.', 'You are pinned, version two.']);
    expect(requests[0]!.tools.map((t) => t.name)).toEqual(['ask_upgrade', 'retired']);
    expect(requests[2]!.tools.map((t) => t.name)).toEqual(['ask_upgrade']);
    // The retired tool did not run: the model was told why, and the transcript says it failed.
    expect(text(requests[1]!.messages[2]!.content)).toContain('is not in the code of the worker that runs it any more, so the call did not run');
    const events = await h.events(id);
    const failed = events.find((e) => e.type === 'tool.failed');
    expect(failed?.data).toMatchObject({ name: 'retired', turn: 1 });
    expect(events.some((e) => e.type === 'tool.started' && e.data.name === 'retired')).toBe(false);
    const upgraded = events.filter((e) => e.type === 'run.upgraded');
    expect(upgraded.map((e) => e.data)).toEqual([{ agent: 'pinned', from: v1, to: pinned.version, turn: 3 }]);
    const run = (await h.store.runs.get(id))!;
    expect(run.agentVersion).toBe(pinned.version);
    expect(run.upgradeRequestedAt).toBeNull();
  });

  it('leaves an upgrade to a worker serving the current version rather than moving a run back to an older one', async () => {
    const m = marker();
    const v2 = versionOf(staleV2Data);
    const id = await startRun({ agent: 'stale', version: v2, marker: m, answers: [{ toolCalls: [{ name: 'ask_upgrade', input: { runId: 'x' } }] }, { text: 'Done.' }] });
    expect((await endOf(id)).status).toBe('completed');
    expect((await h.events(id)).filter((e) => e.type === 'run.upgraded')).toEqual([]);
    const run = (await h.store.runs.get(id))!;
    expect(run.agentVersion).toBe(v2);
    expect(run.upgradeRequestedAt).not.toBeNull();
  });

  it('validates the structured output: a text answer and an invalid result go back to the model, a valid one is stored and carried by run.completed', async () => {
    const input = { invoiceId: marker() };
    const id = await startRun({
      agent: 'checker',
      version: checker.version,
      marker: input.invoiceId,
      input,
      settings: { outputRetries: 2 },
      answers: [
        { text: 'It looks fine to me.' },
        { toolCalls: [{ name: OUTPUT_TOOL, input: { approved: 'yes', extra: 1 } }] },
        { toolCalls: [{ name: OUTPUT_TOOL, input: { approved: true, reason: 'matches the order' } }] },
      ],
    });
    const run = await endOf(id);

    expect(run.status).toBe('completed');
    expect(run.output).toEqual({ approved: true, reason: 'matches the order' });
    const completed = (await h.events(id)).find((e) => e.type === 'run.completed');
    expect(completed?.data).toMatchObject({ turns: 3, output: { approved: true, reason: 'matches the order' } });
    const requests = model.requestsOf(input.invoiceId);
    expect(requests).toHaveLength(3);
    // After the text answer: told to call final_result, in a user message after it (the alternation kept).
    expect(requests[1]!.messages.map((msg) => msg.role)).toEqual(['user', 'assistant', 'user']);
    expect(text(requests[1]!.messages[2]!.content)).toContain(`by calling the ${OUTPUT_TOOL} tool`);
    // After the invalid result: each error with its path, as the call's error result.
    const rejected = text(requests[2]!.messages[4]!.content);
    expect(rejected).toContain('"is_error":true');
    expect(rejected).toContain('/approved: must be boolean');
    expect(rejected).toContain('must not have property');
  });

  it('fails the run with output_invalid when the result never validates within outputRetries', async () => {
    const input = { invoiceId: marker() };
    const id = await startRun({ agent: 'checker', version: checker.version, marker: input.invoiceId, input, settings: { outputRetries: 1 }, answers: [{ text: 'no' }, { text: 'still no' }] });
    const run = await endOf(id);
    expect(run.status).toBe('failed');
    expect(run.error?.code).toBe('output_invalid');
    expect(run.output).toBeNull();
  });

  it("runs a tool the agent never asks about without an approval under the agent's own policy all: the executing worker agrees", async () => {
    const m = marker();
    const id = await startRun({ agent: 'gated', version: gated.version, marker: m, approvals: 'all', answers: [{ toolCalls: [{ name: 'lookup', input: { invoiceId: m } }] }, { text: 'Done.' }] });
    expect((await endOf(id)).status).toBe('completed');
    const events = await h.events(id);
    expect(events.filter((e) => e.type === 'approval.requested' || e.type === 'tool.refused')).toEqual([]);
    expect(events.find((e) => e.type === 'tool.completed')?.data).toMatchObject({ name: 'lookup' });
  });

  /** The run waits for approval of its `lookup` call, which has not run; approved through the API, it runs once and the run completes. */
  async function approveLookupOnce(id: string, expected: Record<string, unknown> = {}): Promise<void> {
    const waiting = await h.waitForStatus(id, 'waiting_approval', { timeoutMs: 30_000 });
    const [pending] = waiting.pendingApprovals;
    expect(pending).toMatchObject({ tool: 'lookup', ...expected });
    expect(seenByTools.some((s) => s.run.runId === id)).toBe(false);

    const res = await h.request('POST', `/api/runs/${id}/approvals/${pending.approvalId}`, { body: { decision: 'approve' } });
    expect(res.status).toBe(200);
    expect((await endOf(id)).status).toBe('completed');
    expect(seenByTools.filter((s) => s.run.runId === id)).toHaveLength(1);
  }

  it("asks for approval of a tool the agent always asks about under the run's policy none, then runs it", async () => {
    const m = marker();
    // Owned by the API's user without tokens, who may decide through the API.
    const id = await startRun({ agent: 'careful', version: careful.version, marker: m, approvals: 'none', owner: 'local', answers: [{ toolCalls: [{ name: 'lookup', input: { invoiceId: m } }] }, { text: 'Done.' }] });
    await approveLookupOnce(id, { risk: 'read' });
  });

  it("asks for approval of a tool its run's version never asked about once the current code always asks about it", async () => {
    const m = marker();
    const id = await startRun({ agent: 'tightened', version: versionOf(tightenedV1), marker: m, approvals: 'none', owner: 'local', answers: [{ toolCalls: [{ name: 'lookup', input: { invoiceId: m } }] }, { text: 'Done.' }] });
    await approveLookupOnce(id);
  });

  it("hands off with the agent's own summary instruction, system prompt and tools, and goes on from the summary", async () => {
    const m = marker();
    const id = await startRun({ agent: 'relayed', version: relayed.version, marker: m, settings: { segmentMaxTurns: 1 }, answers: [{ toolCalls: [{ name: 'lookup', input: { invoiceId: m } }] }, { text: 'Done.' }] });
    expect((await endOf(id)).status).toBe('completed');

    const [summary] = model.summaryRequestsOf(m);
    expect(summary!.system).toBe('You are relayed.');
    expect(summary!.tools.map((t) => t.name)).toEqual(['lookup']);
    expect(text(summary!.messages.at(-1)!.content)).toContain('Summarise for the next shift.');
    const [, second] = model.requestsOf(m);
    expect(text(second!.messages[0]!.content)).toContain(`Goal: [relayed] ${m}`);
    expect(text(second!.messages[0]!.content)).toContain('SUMMARY: looked the invoice up.');
    expect((await h.events(id)).filter((e) => e.type === 'run.handoff')).toHaveLength(1);
  });

  it('fails a run whose agent this worker does not serve with agent_unavailable, without calling the model', async () => {
    const m = marker();
    const id = await startRun({ agent: 'ghost', version: versionOf(ghostData), marker: m, answers: [{ text: 'Done.' }] });
    const run = await endOf(id);
    expect(run.status).toBe('failed');
    expect(run.error?.code).toBe('agent_unavailable');
    expect(model.requestsOf(m)).toEqual([]);
  });
});
