/**
 * Per-step cost of a Longhaul run on the dev server as shipped ("stock") and as `npm start`, the
 * tests and the other benches now run it ("tuned": LATENCY_TUNING), interleaved in one process on
 * one machine. The model answers in process at once (a scripted adapter: one cheap tool call per
 * step), so the figure is Longhaul's and Temporal's own cost per step, not a model's.
 *
 * Only this comparison: the fuller `steps` bench (a bare Temporal workflow and LangGraph
 * beside Longhaul, and the same over HTTP to a fake Anthropic server) is not built yet.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ModelAdapter, ModelRequest, ModelResponse } from '../activities/model/model-adapter';
import { findTemporalCli } from '../scripts/temporal-cli';
import { startDevServer, type DevServer } from '../shared/temporal/dev-server';
import { startHarness, type Harness } from '../test/support/harness';
import { freePort } from '../test/support/ports';
import { summarize } from './env';

/** Calls `workspace_list` until the run has taken `steps` turns, then answers. Instant, in process. */
class ScriptedModel implements ModelAdapter {
  constructor(private readonly steps: number) {}
  async complete(req: ModelRequest): Promise<ModelResponse> {
    const turns = req.messages.filter((m) => m.role === 'assistant').length;
    if (turns >= this.steps) return { content: [{ type: 'text', text: 'done' }], stopReason: 'end_turn', usage: { inputTokens: 10, outputTokens: 2 } };
    return { content: [{ type: 'tool_use', id: `toolu_${turns + 1}`, name: 'workspace_list', input: {} }], stopReason: 'tool_use', usage: { inputTokens: 10, outputTokens: 2 } };
  }
}

export async function stepsBench(opts: { steps?: number; repetitions?: number } = {}) {
  const steps = opts.steps ?? 20;
  const repetitions = opts.repetitions ?? 8;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-steps-'));
  const cli = findTemporalCli();
  const servers: Record<'stock' | 'tuned', DevServer> = {
    stock: await startDevServer({ cliPath: cli, port: await freePort(), uiPort: 0, tuning: 'stock', logFile: path.join(dir, 'stock.log') }),
    tuned: await startDevServer({ cliPath: cli, port: await freePort(), uiPort: 0, tuning: 'latency', logFile: path.join(dir, 'tuned.log') }),
  };
  const model = new ScriptedModel(steps);
  const harnesses: Partial<Record<'stock' | 'tuned', Harness>> = {};
  try {
    for (const kind of ['stock', 'tuned'] as const) {
      harnesses[kind] = await startHarness({ temporalAddress: servers[kind].address, modelFor: () => model, env: { LOG_LEVEL: 'silent', SEGMENT_MAX_TURNS: '1000', LLM_MODEL: 'scripted' } });
    }
    const perStep: Record<'stock' | 'tuned', number[]> = { stock: [], tuned: [] };
    for (let i = 0; i < repetitions + 1; i++) {
      for (const kind of ['stock', 'tuned'] as const) {
        const h = harnesses[kind]!;
        const started = performance.now();
        const id = await h.createRun({ goal: `steps ${i}`, model: 'demo', approvals: 'none', limits: { maxSteps: steps + 5 } });
        await h.client.workflow.getHandle(id).result();
        const ms = performance.now() - started;
        if (i > 0) perStep[kind].push(ms / (steps + 1)); // the first repetition warms caches and is not counted
      }
    }
    const stock = summarize(perStep.stock);
    const tuned = summarize(perStep.tuned);
    return { steps, repetitions, msPerStep: { stock, tuned }, ratioTunedToStock: Number((tuned.p50 / stock.p50).toFixed(2)), goalMsPerStep: 15 };
  } finally {
    for (const h of Object.values(harnesses)) await h?.close();
    for (const s of Object.values(servers)) await s.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
