/**
 * History bytes per step while the context grows: each step's tool returns more text than the last
 * (10 KB more per step), so the model's context grows to megabytes while the workflow history
 * should grow by the same ~1.5 KB per step throughout. Goal: ≤ 2 KB/step. Every model and tool call is an
 * ordinary activity (scheduled, started and completed events); the run's bookkeeping is local (a marker each).
 */
import { temporal } from '@temporalio/proto';
import { z } from 'zod';
import { defineTool } from '../activities/tools/tool';
import { FakeAnthropic } from '../test/support/fake-anthropic';
import { startHarness } from '../test/support/harness';
import { activityCalls, type HistoryEvent } from '../test/support/history-calls';
import { summarize } from './env';

export async function historySizeBench(opts: { steps?: number } = {}) {
  const steps = opts.steps ?? 20;
  const fake = new FakeAnthropic();
  await fake.start();
  const chapter = (n: number) => `chapter ${n}\n${'lorem ipsum '.repeat(Math.ceil((n * 10_240) / 12))}`;
  const growing = defineTool({
    name: 'read_chapter',
    description: 'Returns chapter n, n × 10 KB long.',
    input: z.object({ n: z.number().int() }),
    risk: 'read',
    async run({ n }) {
      return chapter(n);
    },
  });
  // The same tool declared quick: an ordinary activity like any other since 2026-12-05 (its figures should match).
  const growingQuick = defineTool({ ...growing, name: 'read_chapter_quick', quick: true });
  const h = await startHarness({ env: { ANTHROPIC_API_KEY: fake.apiKey, ANTHROPIC_BASE_URL: fake.url, LLM_MODEL: 'claude-sonnet-5-5', LOG_LEVEL: 'silent', SEGMENT_MAX_TURNS: '1000' }, extraTools: [growing, growingQuick] });
  for (const [marker, tool] of [['[grow]', 'read_chapter'], ['[grow-quick]', 'read_chapter_quick']] as const) {
    fake.script(marker, (req) =>
      req.assistantTurns < steps ? { text: `Reading chapter ${req.assistantTurns + 1}.`, toolUses: [{ name: tool, input: { n: req.assistantTurns + 1 } }] } : { text: 'Read it all.' },
    );
  }
  try {
    const measure = async (marker: string) => {
      const id = await h.createRun({ goal: `Read the book ${marker}`, approvals: 'none', limits: { maxSteps: steps + 5 } });
      await h.waitForStatus(id, 'completed', { timeoutMs: 300_000 });
      const history = await h.history(id);
      const events = history.events!;
      const size = (e: HistoryEvent) => temporal.api.history.v1.HistoryEvent.encode(e).finish().length;
      const bytes = (from: number, to: number) => events.slice(from, to).reduce((sum, e) => sum + size(e), 0);
      const modelCalls = activityCalls(events).filter((c) => c.type === 'callModel');
      // Bytes added by each step: the events after one model call up to and including the next one's scheduled
      // event. (Histories recorded before 2026-12-05 could hold local model calls, a marker each, or several
      // in one quick-steps marker; the bytes up to a shared marker are spread evenly over its calls.)
      const points = [...new Set(modelCalls.map((c) => c.eventIndex))];
      const perStep: number[] = [];
      for (let p = 1; p < points.length; p++) {
        const calls = modelCalls.filter((c) => c.eventIndex === points[p]).length;
        const share = Math.round(bytes(points[p - 1]! + 1, points[p]! + 1) / calls);
        for (let j = 0; j < calls; j++) perStep.push(share);
      }
      const lastRequest = fake.requestsFor(marker).at(-1)!;
      return {
        historyBytesPerStep: summarize(perStep),
        // Every step's bytes together ÷ steps: what a run's history grows by per step, local and remote steps mixed.
        meanBytesPerStep: Math.round(perStep.reduce((a, b) => a + b, 0) / perStep.length),
        modelCalls: modelCalls.length,
        localModelCalls: modelCalls.filter((c) => c.local).length, // 0 since 2026-12-05
        localToolCalls: activityCalls(events).filter((c) => c.type === 'runTool' && c.local).length, // 0 since 2026-12-05
        firstStepBytes: perStep[0],
        lastStepBytes: perStep[perStep.length - 1],
        totalHistoryBytes: temporal.api.history.v1.History.encode(history).finish().length,
        finalContextBytes: JSON.stringify(lastRequest.body.messages).length,
      };
    };
    return { steps, ordinaryTool: await measure('[grow]'), quickTool: await measure('[grow-quick]'), goalBytesPerStep: 2048 };
  } finally {
    await h.close();
    await fake.stop();
  }
}
