/**
 * Per-step cost, like with like: Longhaul, a bare Temporal workflow (one model and one tool activity
 * per step, nothing else) and LangGraph JS with its SQLite checkpointer, interleaved run by run in
 * one process on one machine. Every model answers in process at once (one cheap tool call per step),
 * so each figure is the runtime's own cost per step. Longhaul and the bare workflow share the tuned
 * dev server `npm start` runs. Goals (issue 11): Longhaul p50 ≤ 15 ms per step; Longhaul ÷ bare ≤ 0.5;
 * Longhaul ÷ LangGraph ≤ 2.5.
 *
 * Not built yet: the second table, every system calling one fake Anthropic server over HTTP.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import { ScriptedModel } from './scripted-model';
import { startHarness } from '../test/support/harness';
import { bareActivities } from './bare/activities';
import type { bareAgent } from './bare/workflows';
import { summarize } from './env';
import { langGraphAgent } from './langgraph-agent';

type System = 'longhaul' | 'bare' | 'langgraph';

export async function stepsBench(opts: { steps?: number; repetitions?: number } = {}) {
  const steps = opts.steps ?? 20;
  const repetitions = opts.repetitions ?? 12;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-steps-'));
  const model = new ScriptedModel(steps);
  const h = await startHarness({ modelFor: () => model, env: { LOG_LEVEL: 'silent', SEGMENT_MAX_TURNS: '1000', LLM_MODEL: 'scripted' } });
  const connection = await NativeConnection.connect({ address: process.env.LONGHAUL_TEST_TEMPORAL_ADDRESS! });
  const bareQueue = `bare-${Date.now()}`;
  const bareWorker = await Worker.create({ connection, taskQueue: bareQueue, workflowsPath: require.resolve('./bare/workflows'), activities: bareActivities });
  const bareRunning = bareWorker.run();
  const graph = langGraphAgent(path.join(dir, 'langgraph.sqlite'));
  const run: Record<System, (i: number) => Promise<unknown>> = {
    longhaul: async (i) => {
      const id = await h.createRun({ goal: `steps ${i}`, model: 'demo', approvals: 'none', limits: { maxSteps: steps + 5 } });
      return h.client.workflow.getHandle(id).result();
    },
    bare: (i) => h.client.workflow.execute<typeof bareAgent>('bareAgent', { taskQueue: bareQueue, workflowId: `bare-${bareQueue}-${i}`, args: [steps] }),
    langgraph: (i) => graph.run(`thread-${i}`, steps),
  };
  try {
    const perStep: Record<System, number[]> = { longhaul: [], bare: [], langgraph: [] };
    for (let i = 0; i < repetitions + 1; i++) {
      for (const system of ['longhaul', 'bare', 'langgraph'] as const) {
        const started = performance.now();
        await run[system](i);
        const ms = performance.now() - started;
        if (i > 0) perStep[system].push(ms / (steps + 1)); // the first repetition warms caches and is not counted
      }
    }
    const figures = { longhaul: summarize(perStep.longhaul), bare: summarize(perStep.bare), langgraph: summarize(perStep.langgraph) };
    return {
      steps,
      repetitions,
      msPerStep: figures,
      ratios: {
        longhaulToBare: Number((figures.longhaul.p50 / figures.bare.p50).toFixed(2)),
        longhaulToLangGraph: Number((figures.longhaul.p50 / figures.langgraph.p50).toFixed(2)),
      },
      goals: { longhaulMsPerStep: 15, longhaulToBare: 0.5, longhaulToLangGraph: 2.5 },
    };
  } finally {
    bareWorker.shutdown();
    await bareRunning;
    await connection.close();
    await h.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
