/**
 * Sub-agents (issue 25): what delegation costs, with an in-process model that answers at once, on the dev server and
 * the harness's SQLite store, the workflow and activity Workers in this process (one per agent queue, as a worker
 * process runs them).
 *
 *   fan-out   a lead whose first answer delegates to `SUBAGENTS_FANOUT` (50) children at once (the server's parallel
 *             bound raised to match): time from the delegating answer (the model's return, in process) to every child
 *             started — each child's `run.started` (its first workflow task, the database's clock) and each child's
 *             first model call reaching the model (this process's clock) — and to the lead's next model call (every
 *             child done). `SUBAGENTS_FANOUT_REPS` trials.
 *   overhead  like with like, interleaved (delegated, inline, delegated, inline, … `SUBAGENTS_PAIRS` pairs): the same
 *             work — one `workspace_list` call and a final answer — done by a child (the lead's answer delegates; the
 *             child asks for the tool, gets it, answers; the lead answers from its result) and inline (the lead's answer
 *             asks for the tool itself, then answers). Each run's wall time from the workflow's start to its result;
 *             the child's overhead is the difference: its run (row, events, child workflow, its own bookkeeping), two
 *             more model calls (the child's), and settling the call.
 */
import crypto from 'node:crypto';
import type { AgentDefinition } from '../activities/agents/agent-definition';
import { loadAgentCatalog } from '../activities/agents/load-agents';
import { agentTaskQueue } from '../contract/agents';
import { DEMO_MODEL, type RunInput } from '../contract/run';
import { RUN_WORKFLOW } from '../contract/workflow-messages';
import { runInputFor } from '../shared/runs/run-input';
import { scriptedModel, type ModelRequestRecord, type ScriptedAnswer } from '../testing/scripted-model';
import { startHandBuiltWorkers } from '../test/support/hand-built-workers';
import { startHarness } from '../test/support/harness';
import { builtinToolsFor, createActivityDeps } from '../worker/activity-deps';
import { workerIdentity, workerQueueName } from '../worker/worker-queue';
import type { agentRunWorkflow } from '../workflows/agent-run';
import { summarize } from './env';

const helper: AgentDefinition = { name: 'helper', description: 'Lists its workspace.', instructions: 'You are the helper.', model: DEMO_MODEL, approvals: 'none', tools: ['workspace_list'] };
const lead: AgentDefinition = { name: 'lead', description: 'Delegates.', instructions: 'You are the lead.', model: DEMO_MODEL, approvals: 'none', tools: ['workspace_list'], subagents: ['helper'] };
const AGENTS = [lead, helper];

const ms = (n: number) => Number(n.toFixed(1));

export async function subagentsBench(opts: { fanout?: number; fanoutReps?: number; pairs?: number } = {}) {
  const fanout = opts.fanout ?? Number(process.env.SUBAGENTS_FANOUT ?? 50);
  const fanoutReps = opts.fanoutReps ?? Number(process.env.SUBAGENTS_FANOUT_REPS ?? 3);
  const pairs = opts.pairs ?? Number(process.env.SUBAGENTS_PAIRS ?? 20);

  /** By lead run id: when its delegating answer left the model (epoch ms), and when its next model call came. */
  const delegatedAt = new Map<string, number>();
  const nextCallAt = new Map<string, number>();
  /** By child run id: when its first model call reached the model. */
  const childFirstCallAt = new Map<string, number>();

  const runIdOf = (req: ModelRequestRecord) => /\[run (run_[0-9a-z_]+)\]/.exec(JSON.stringify(req.messages[0]))?.[1];
  async function answer(req: ModelRequestRecord): Promise<ScriptedAnswer> {
    const first = JSON.stringify(req.messages[0]);
    const turns = req.messages.filter((m) => m.role === 'assistant').length;
    if (req.system === 'You are the helper.') {
      const child = /child (c_[0-9a-f]+)/.exec(first)?.[1];
      if (turns === 0 && child && !childFirstCallAt.has(child)) childFirstCallAt.set(child, Date.now());
      return turns === 0 ? { toolCalls: [{ name: 'workspace_list', input: {} }] } : { text: 'Listed.' };
    }
    const run = runIdOf(req)!;
    if (turns > 0) {
      if (!nextCallAt.has(run)) nextCallAt.set(run, Date.now());
      return { text: 'Done.' };
    }
    const n = Number(/\[fanout (\d+)\]/.exec(first)?.[1] ?? 0);
    if (n > 0 || first.includes('[delegate]')) {
      const count = Math.max(n, 1);
      const calls = Array.from({ length: count }, () => ({ name: 'helper', input: { task: `List your workspace, child c_${crypto.randomBytes(6).toString('hex')}` } }));
      delegatedAt.set(run, Date.now());
      return { toolCalls: calls };
    }
    return { toolCalls: [{ name: 'workspace_list', input: {} }] }; // [inline]
  }

  const model = scriptedModel(answer);
  const h = await startHarness({
    noWorker: true,
    env: {
      LOG_LEVEL: 'silent',
      SUBAGENTS_MAX_PARALLEL_CHILDREN: String(Math.max(fanout, 1)),
      SUBAGENTS_MAX_CHILDREN: String(Math.max(fanout, 1)),
      MAX_CONCURRENT_RUNS_PER_USER: '100',
      MAX_QUEUED_RUNS_PER_USER: '100',
    },
  });
  const agents = loadAgentCatalog({ definition: { agents: AGENTS }, config: { model: h.config.model, approvals: h.config.approvals, tools: { mcpServers: {} } }, builtinTools: builtinToolsFor(h.config) });
  for (const agent of agents.all()) if (agent.name !== 'default') await h.store.agents.publishVersion(agent.name, agent.version, agent.data);
  const identity = workerIdentity();
  const workerQueue = workerQueueName(h.config.temporal.taskQueue, identity);
  const deps = createActivityDeps({ config: h.config, store: h.store, bus: h.bus, logger: h.logger, modelFor: () => model, workerQueue, workerIdentity: identity, agents });
  const workers = await startHandBuiltWorkers(h.config, deps, { workflows: AGENTS.map((a) => agentTaskQueue(h.config.temporal.taskQueue, a.name)), workerQueue });

  /** Creates a lead run (as the API would) and runs it to its end; its wall time from the workflow's start. */
  async function runLead(goal: string): Promise<{ id: string; wallMs: number }> {
    const id = `run_bench_${crypto.randomBytes(6).toString('hex')}`;
    const version = agents.get('lead')!;
    const { run } = await h.store.runs.insert({
      id,
      owner: 'bench',
      goal: `${goal} [run ${id}]`,
      model: DEMO_MODEL,
      approvals: 'none',
      // A tree's model calls count toward the lead's step cap (issue 25): room for every child's two calls and the lead's.
      limits: { maxSteps: 10 + 3 * fanout, maxCostUsd: 5, maxDurationSec: 3600 },
      agent: 'lead',
      agentVersion: version.version,
    });
    const input: RunInput = runInputFor(h.config, run, 3600, version.data);
    const started = performance.now();
    const handle = await h.client.workflow.start<typeof agentRunWorkflow>(RUN_WORKFLOW, { workflowId: id, taskQueue: agentTaskQueue(h.config.temporal.taskQueue, 'lead'), args: [input] });
    const result = await handle.result();
    const wallMs = performance.now() - started;
    if (result.status !== 'completed') throw new Error(`bench run ${id} ended ${result.status}: ${JSON.stringify(result.error)}`);
    return { id, wallMs };
  }

  try {
    // Warm-up: the Workers' first workflows load the bundle; not any trial's time.
    await runLead('[delegate] warm-up');
    await runLead('[inline] warm-up');

    const fanouts = [];
    for (let rep = 0; rep < fanoutReps; rep++) {
      const { id, wallMs } = await runLead(`[fanout ${fanout}]`);
      const t0 = delegatedAt.get(id)!;
      const children = await h.store.runs.children(id);
      if (children.length !== fanout) throw new Error(`lead ${id} has ${children.length} children, not ${fanout}`);
      const startedAt: number[] = [];
      const firstCalls: number[] = [];
      for (const child of children) {
        const events = await h.store.events.list(child.id, { after: 0, limit: 100 });
        const started = events.find((e) => e.type === 'run.started');
        if (!started) throw new Error(`child ${child.id} has no run.started`);
        startedAt.push(Date.parse(started.at) - t0);
        const marker = /child (c_[0-9a-f]+)/.exec(child.goal)![1]!;
        firstCalls.push(childFirstCallAt.get(marker)! - t0);
      }
      fanouts.push({
        children: fanout,
        toAllStartedMs: ms(Math.max(...startedAt)),
        toFirstStartedMs: ms(Math.min(...startedAt)),
        toAllFirstModelCallsMs: ms(Math.max(...firstCalls)),
        toLeadNextCallMs: ms(nextCallAt.get(id)! - t0),
        leadWallMs: ms(wallMs),
      });
    }

    const delegated: number[] = [];
    const inline: number[] = [];
    for (let i = 0; i < pairs; i++) {
      delegated.push((await runLead('[delegate]')).wallMs);
      inline.push((await runLead('[inline]')).wallMs);
    }
    const d = summarize(delegated);
    const s = summarize(inline);
    const diffs = delegated.map((x, i) => x - inline[i]!);
    return {
      fanout: fanouts,
      overhead: {
        pairs,
        delegatedWallMs: { p50: ms(d.p50), mean: ms(d.mean), max: ms(d.max) },
        inlineWallMs: { p50: ms(s.p50), mean: ms(s.mean), max: ms(s.max) },
        childOverheadMs: { p50: ms(summarize(diffs).p50), mean: ms(summarize(diffs).mean) },
      },
    };
  } finally {
    await workers.stop();
    await h.close();
  }
}
