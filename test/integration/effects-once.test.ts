/**
 * Side effects happen once and paid model responses are paid for once, even when Temporal retries
 * an activity after its work was done (here: the completion is "lost" by an interceptor that
 * fails the first attempt after it finished, the way a worker dying at that instant would).
 */
import type { ActivityInboundCallsInterceptor, WorkerInterceptors } from '@temporalio/worker';
import { z } from 'zod';
import { defineTool } from '../../activities/tools/tool';
import { FakeAnthropic } from '../support/fake-anthropic';
import { startHarness, type Harness } from '../support/harness';

/** Fails attempt 1 of the named activity *after* it completed, for runs whose id is in `runs`. */
function loseFirstCompletion(activityType: string, runs: Set<string>): WorkerInterceptors {
  return {
    activity: [
      (ctx) => ({
        inbound: {
          async execute(input, next) {
            const result = await next(input);
            const args = input.args[0] as { runId?: string };
            if (ctx.info.activityType === activityType && ctx.info.attempt === 1 && args.runId && runs.has(args.runId)) {
              throw new Error(`simulated crash after ${activityType} finished`);
            }
            return result;
          },
        } satisfies ActivityInboundCallsInterceptor,
      }),
    ],
  };
}

describe('effects happen once', () => {
  const fake = new FakeAnthropic();
  const sabotaged = new Set<string>();
  let executions = 0;
  const countedTool = defineTool({
    name: 'count_effect',
    description: 'Performs an effect that must happen once.',
    input: z.object({ label: z.string() }),
    risk: 'write',
    async run(input) {
      executions += 1;
      return `effect ${input.label} done`;
    },
  });

  let toolHarness: Harness;
  let modelHarness: Harness;

  beforeAll(async () => {
    await fake.start();
    const env = { ANTHROPIC_API_KEY: fake.apiKey, ANTHROPIC_BASE_URL: fake.url, LLM_MODEL: 'claude-sonnet-5-5' };
    toolHarness = await startHarness({ env, extraTools: [countedTool], interceptors: loseFirstCompletion('runTool', sabotaged) });
    modelHarness = await startHarness({ env, interceptors: loseFirstCompletion('callModel', sabotaged) });
  });
  afterAll(async () => {
    await toolHarness.close();
    await modelHarness.close();
    await fake.stop();
  });

  it('does not run a completed tool again when its activity is retried', async () => {
    fake.script('[tool-once]', (req) =>
      req.assistantTurns === 0 ? { toolUses: [{ name: 'count_effect', input: { label: 'A' } }] } : { text: `Result: ${req.lastToolResults[0]?.content}` },
    );
    const id = await toolHarness.createRun({ goal: 'Do it once [tool-once]', approvals: 'none' });
    sabotaged.add(id);
    const run = await toolHarness.waitForStatus(id, ['completed', 'failed']);
    expect(run.status).toBe('completed');
    expect(run.result).toBe('Result: effect A done');
    expect(executions).toBe(1);

    // The activity really was attempted twice; the second attempt found the ledger entry.
    const history = await toolHarness.history(id);
    const toolAttempts = history.events!.filter((e) => e.activityTaskStartedEventAttributes && e.activityTaskStartedEventAttributes.attempt === 2);
    expect(toolAttempts.length).toBeGreaterThanOrEqual(1);
    const events = await toolHarness.events(id);
    expect(events.filter((e) => e.type === 'tool.started')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'tool.completed')).toHaveLength(1);
  });

  it('does not pay for a completed model response twice when its activity is retried', async () => {
    fake.script('[model-once]', () => ({ text: 'One paid answer.', usage: { input_tokens: 1000, output_tokens: 100 } }));
    const id = await modelHarness.createRun({ goal: 'Answer once [model-once]', approvals: 'none' });
    sabotaged.add(id);
    const run = await modelHarness.waitForStatus(id, ['completed', 'failed']);
    expect(run.status).toBe('completed');
    expect(fake.requestsFor('[model-once]')).toHaveLength(1);
    expect(run.usage.inputTokens).toBe(1000);
    const ledger = await modelHarness.store.effects.get(`${id}:turn:1:model`);
    expect(ledger).toMatchObject({ status: 'completed', attempts: 1 });
    const events = await modelHarness.events(id);
    expect(events.filter((e) => e.type === 'llm.message')).toHaveLength(1);
  });
});
