/**
 * History bytes per step while the context grows: each step's tool returns more text than the last
 * (10 KB more per step), so the model's context grows to megabytes while the workflow history
 * should grow by the same ~1.5 KB per step throughout. Goal: ≤ 2 KB/step. A step that runs locally
 * (fast steps: a marker, no task events) costs less than one that goes through the server.
 */
import { temporal } from '@temporalio/proto';
import { z } from 'zod';
import { defineTool } from '../activities/tools/tool';
import { FakeAnthropic } from '../test/support/fake-anthropic';
import { startHarness } from '../test/support/harness';
import { summarize } from './env';

export async function historySizeBench(opts: { steps?: number } = {}) {
  const steps = opts.steps ?? 20;
  const fake = new FakeAnthropic();
  await fake.start();
  const growing = defineTool({
    name: 'read_chapter',
    description: 'Returns chapter n, n × 10 KB long.',
    input: z.object({ n: z.number().int() }),
    risk: 'read',
    async run({ n }) {
      return `chapter ${n}\n${'lorem ipsum '.repeat(Math.ceil((n * 10_240) / 12))}`;
    },
  });
  const h = await startHarness({ env: { ANTHROPIC_API_KEY: fake.apiKey, ANTHROPIC_BASE_URL: fake.url, LLM_MODEL: 'claude-sonnet-5-5', LOG_LEVEL: 'silent', SEGMENT_MAX_TURNS: '1000' }, extraTools: [growing] });
  fake.script('[grow]', (req) =>
    req.assistantTurns < steps ? { text: `Reading chapter ${req.assistantTurns + 1}.`, toolUses: [{ name: 'read_chapter', input: { n: req.assistantTurns + 1 } }] } : { text: 'Read it all.' },
  );
  try {
    const id = await h.createRun({ goal: 'Read the book [grow]', approvals: 'none', limits: { maxSteps: steps + 5 } });
    await h.waitForStatus(id, 'completed', { timeoutMs: 300_000 });
    const history = await h.history(id);
    // Bytes added by each step: from one model call to the next — its scheduled event when it ran as an
    // ordinary activity, its marker when it ran locally (fast steps).
    const events = history.events!;
    const size = (e: (typeof events)[number]) => temporal.api.history.v1.HistoryEvent.encode(e).finish().length;
    const localActivityType = (e: (typeof events)[number]): string | undefined => {
      const marker = e.markerRecordedEventAttributes;
      if (marker?.markerName !== 'core_local_activity') return undefined;
      const data = marker.details?.data?.payloads?.[0]?.data;
      return data ? (JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type: string }).activity_type : undefined;
    };
    const modelCalls = events
      .map((e, i) => ({ e, i }))
      .filter(({ e }) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'callModel' || localActivityType(e) === 'callModel');
    const modelScheduled = modelCalls.map(({ i }) => i);
    const localModelCalls = modelCalls.filter(({ e }) => e.markerRecordedEventAttributes).length;
    const perStep: number[] = [];
    for (let k = 0; k + 1 < modelScheduled.length; k++) {
      perStep.push(events.slice(modelScheduled[k], modelScheduled[k + 1]).reduce((sum, e) => sum + size(e), 0));
    }
    const lastRequest = fake.requestsFor('[grow]').at(-1)!;
    return {
      steps,
      historyBytesPerStep: summarize(perStep),
      // Every step's bytes together ÷ steps: what a run's history grows by per step, local and remote steps mixed.
      meanBytesPerStep: Math.round(perStep.reduce((a, b) => a + b, 0) / perStep.length),
      modelCalls: modelCalls.length,
      localModelCalls,
      firstStepBytes: perStep[0],
      lastStepBytes: perStep[perStep.length - 1],
      totalHistoryBytes: temporal.api.history.v1.History.encode(history).finish().length,
      finalContextBytes: JSON.stringify(lastRequest.body.messages).length,
      goalBytesPerStep: 2048,
    };
  } finally {
    await h.close();
    await fake.stop();
  }
}
