/**
 * A run tree's money end to end: a real worker (workflow and activities, on the suite's dev server and store)
 * serving a boss agent that delegates to two helpers at once, a scripted model in process with a priced model.
 *
 * What it holds to: each helper's cost cap is a reservation out of what the boss has left (SUBAGENT_COST_SHARE),
 * so the two parallel helpers cannot together spend past the boss's cap; the helper whose call would not fit in
 * its reservation is refused before the call is made (the model never hears from it) and stops with
 * `limit.exceeded`, which comes back to the boss's model as the call's tool error, and the boss goes on; the
 * tree's spend never passes the boss's cap; `GET /api/runs/:id` gives the boss's own spend and its tree's; and
 * `/api/usage` counts each call once.
 */
import crypto from 'node:crypto';
import type { AgentDefinition } from '../../activities/agents/agent-definition';
import { loadAgentCatalog } from '../../activities/agents/load-agents';
import { LOCAL_USER } from '../../api/auth';
import { agentTaskQueue } from '../../contract/agents';
import type { RunInput } from '../../contract/run';
import { RUN_WORKFLOW } from '../../contract/workflow-messages';
import { utcDay } from '../../shared/capacity/model-limits';
import { runInputFor } from '../../shared/runs/run-input';
import { scriptedModel, type ModelRequestRecord, type ScriptedAnswer } from '../../testing/scripted-model';
import { builtinToolsFor, createActivityDeps } from '../../worker/activity-deps';
import { workerIdentity, workerQueueName } from '../../worker/worker-queue';
import type { agentRunWorkflow } from '../../workflows/agent-run';
import { startHandBuiltWorkers } from '../support/hand-built-workers';
import { startHarness, type Harness } from '../support/harness';
import { waitFor } from '../support/wait';

/**
 * A priced model: output at $20 per million tokens, so a call allowed 1,000 output tokens may cost a little over
 * $0.02 (input is all but free); each answer reports 100 tokens each way, about $0.002.
 */
const MODEL = 'money-model';
const PRICE = { inputPerMTok: 0.01, outputPerMTok: 20 };
const ANSWER_USAGE = { inputTokens: 100, outputTokens: 100 };
const CALL_USD = (100 * PRICE.inputPerMTok + 100 * PRICE.outputPerMTok) / 1_000_000;
/**
 * The boss's cap. After its first answer it has ≈ $0.0779 left: the first helper to start reserves 30% of that
 * (≈ $0.0234, room for a call), the second 30% of what is then free (≈ $0.0164, less than a call may cost).
 */
const BOSS_CAP_USD = 0.08;

const helper: AgentDefinition = { name: 'helper', description: 'Does one part of the work.', instructions: 'You are a helper.', model: MODEL };
const boss: AgentDefinition = { name: 'boss', description: 'Splits the work.', instructions: 'You are the boss.', model: MODEL, approvals: 'none', subagents: ['helper'] };
const AGENTS = [boss, helper];
const TASKS = ['part one of the money test', 'part two of the money test'];

const toolResults = (req: ModelRequestRecord): string[] =>
  req.messages.flatMap((m) => (Array.isArray(m.content) ? m.content : [])).flatMap((b) => (b.type === 'tool_result' ? [typeof b.content === 'string' ? b.content : JSON.stringify(b.content)] : []));

function answer(req: ModelRequestRecord): ScriptedAnswer {
  if (req.system === 'You are the boss.') {
    if (req.messages.length === 1) return { toolCalls: TASKS.map((task) => ({ name: 'helper', input: { task } })), usage: ANSWER_USAGE };
    return { text: `Done: ${toolResults(req).join(' | ')}`, usage: ANSWER_USAGE };
  }
  return { text: `Did ${JSON.stringify(req.messages[0]).match(/part \w+/)?.[0]}.`, usage: ANSWER_USAGE };
}

describe('sub-agents: money rolls up, before it is spent', () => {
  let h: Harness;
  const model = scriptedModel(answer);
  let workers: { stop(): Promise<void> } | undefined;
  const catalog = (config: Harness['config']) => loadAgentCatalog({ definition: { agents: AGENTS }, config: { model: config.model, approvals: config.approvals, tools: { mcpServers: {} } }, builtinTools: builtinToolsFor(config) });

  beforeAll(async () => {
    h = await startHarness({ noWorker: true, env: { MODEL_PRICING: JSON.stringify({ [MODEL]: PRICE }), LLM_MAX_TOKENS: '1000', SUBAGENT_COST_SHARE: '0.3' } });
    const agents = catalog(h.config);
    for (const agent of agents.all()) if (agent.name !== 'default') await h.store.agents.publishVersion(agent.name, agent.version, agent.data);
    const identity = workerIdentity();
    const workerQueue = workerQueueName(h.config.temporal.taskQueue, identity);
    const deps = createActivityDeps({ config: h.config, store: h.store, bus: h.bus, logger: h.logger, modelFor: () => model, workerQueue, workerIdentity: identity, agents });
    workers = await startHandBuiltWorkers(h.config, deps, { workflows: AGENTS.map((a) => agentTaskQueue(h.config.temporal.taskQueue, a.name)), workerQueue });
  });

  afterAll(async () => {
    await workers?.stop();
    await h?.close();
  });

  it('refuses the helper whose call would not fit before the call, stops it with limit.exceeded, and keeps the tree under the boss\'s cap', async () => {
    const id = `run_${crypto.randomBytes(6).toString('hex')}`;
    const { run } = await h.store.runs.insert({
      id,
      owner: LOCAL_USER,
      goal: 'Split the money test',
      model: MODEL,
      approvals: 'none',
      limits: { maxSteps: 10, maxCostUsd: BOSS_CAP_USD, maxDurationSec: 600 },
      agent: 'boss',
      agentVersion: catalog(h.config).get('boss')!.version,
    });
    const input: RunInput = runInputFor(h.config, run, 3600);
    await h.client.workflow.start<typeof agentRunWorkflow>(RUN_WORKFLOW, { workflowId: id, taskQueue: agentTaskQueue(h.config.temporal.taskQueue, 'boss'), args: [input] });
    h.track(id, '[boss]');
    await waitFor(async () => ['completed', 'failed', 'cancelled'].includes((await h.store.runs.get(id))!.status), { timeoutMs: 60_000, what: 'the boss to end' });

    const parent = (await h.store.runs.get(id))!;
    const children = await h.store.runs.children(id);
    for (const child of children) h.track(child.id, '[helper]');
    expect(parent.status).toBe('completed');
    expect(children).toHaveLength(2);

    // Each helper's cap was a reservation out of what the boss had left, and together they fit in it.
    const reserved = children.map((c) => c.limits.maxCostUsd);
    expect(reserved.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(BOSS_CAP_USD - CALL_USD + 1e-9);

    const done = children.find((c) => c.status === 'completed')!;
    const refused = children.find((c) => c.status === 'failed')!;
    expect(done).toBeDefined();
    expect(refused).toBeDefined();
    expect(refused.limits.maxCostUsd).toBeLessThan(done.limits.maxCostUsd);
    // Refused before the call: the model never heard from it, it spent nothing, and it stopped on its cost cap.
    const requests = model.requests().filter((r) => r.system === 'You are a helper.');
    expect(requests.filter((r) => JSON.stringify(r.messages).includes(refused.goal))).toHaveLength(0);
    expect(requests.filter((r) => JSON.stringify(r.messages[0]).includes(done.goal))).toHaveLength(1);
    expect(refused.usage.costUsd).toBe(0);
    expect(refused.error).toMatchObject({ code: 'limit_exceeded' });
    expect(refused.error!.message).toMatch(/refused before it was made/);
    const refusedEvents = await h.store.events.list(refused.id, { after: 0, limit: 100 });
    expect(refusedEvents.map((e) => e.type)).toEqual(['run.queued', 'run.started', 'limit.exceeded', 'run.failed']);
    expect(refusedEvents.find((e) => e.type === 'limit.exceeded')!.data).toEqual({ limit: 'maxCostUsd', value: refused.limits.maxCostUsd });

    // The boss's model got the refused helper's failure as the call's tool error, and went on.
    expect(parent.result).toContain(`The helper sub-agent's run ${refused.id} failed:`);
    expect(parent.result).toContain('Did part');

    // The tree's spend: three calls of the boss's tree were made (two of its own, one helper's), never past its cap.
    const view = await h.getRun(id);
    expect(view.usage.costUsd).toBeCloseTo(2 * CALL_USD, 9);
    expect(view.treeCostUsd).toBeCloseTo(3 * CALL_USD, 9);
    expect(view.treeCostUsd).toBeLessThanOrEqual(BOSS_CAP_USD);
    expect(view.children.map((c: { id: string }) => c.id).sort()).toEqual(children.map((c) => c.id).sort());
    // No call is left holding a reservation once the tree has ended.
    expect((await h.store.modelCalls.spentAndReservedOf(LOCAL_USER, utcDay(Date.now()), Date.now())).reservedUsd).toBe(0);

    // /api/usage counts each call once: the tree's three, not the children again through their parent.
    const usage = await h.request('GET', '/api/usage');
    expect(usage.status).toBe(200);
    expect(usage.body.totalUsd).toBeCloseTo(3 * CALL_USD, 9);
  });
});
