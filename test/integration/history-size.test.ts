/**
 * Small histories: the conversation lives in the database, so the workflow history grows by about
 * the same few hundred bytes per step whether a tool returns 20 bytes or 200 KB.
 */
import { temporal } from '@temporalio/proto';
import { z } from 'zod';
import { defineTool } from '../../activities/tools/tool';
import { FakeAnthropic } from '../support/fake-anthropic';
import { startHarness, type Harness } from '../support/harness';

const BIG = 200 * 1024;

describe('workflow history stays small whatever the context size', () => {
  const fake = new FakeAnthropic();
  let h: Harness;
  const bigOutput = defineTool({
    name: 'big_output',
    description: 'Returns a large document.',
    input: z.object({ part: z.number() }),
    risk: 'read',
    async run(input) {
      return `part ${input.part}: ${'x'.repeat(BIG)}`;
    },
  });

  beforeAll(async () => {
    await fake.start();
    h = await startHarness({
      env: { ANTHROPIC_API_KEY: fake.apiKey, ANTHROPIC_BASE_URL: fake.url, LLM_MODEL: 'claude-sonnet-5-5' },
      extraTools: [bigOutput],
    });
    const steps = (goal: string) => Number(/steps=(\d+)/.exec(goal)![1]);
    fake.script('[big]', (req) =>
      req.assistantTurns < steps(req.goal)
        ? { text: `Reading part ${req.assistantTurns}.`, toolUses: [{ name: 'big_output', input: { part: req.assistantTurns } }] }
        : { text: 'Read everything.' },
    );
  });
  afterAll(async () => {
    await h.close();
    await fake.stop();
  });

  async function historyBytes(id: string): Promise<number> {
    const history = await h.history(id);
    return temporal.api.history.v1.History.encode(history).finish().length;
  }

  it('grows by under 2 KB per step while each step carries a 200 KB tool result', async () => {
    const short = await h.createRun({ goal: 'Read [big] steps=1', approvals: 'none' });
    const long = await h.createRun({ goal: 'Read [big] steps=6', approvals: 'none' });
    for (const id of [short, long]) expect((await h.waitForStatus(id, ['completed', 'failed'])).status).toBe('completed');

    const perStep = ((await historyBytes(long)) - (await historyBytes(short))) / 5;
    process.stderr.write(`history growth per step with a ${BIG}-byte tool result: ${Math.round(perStep)} bytes\n`);
    expect(perStep).toBeLessThan(2048);

    // The 200 KB really flowed: stored in the database and sent to the model in full.
    const results = await h.store.messages.list(long, { kinds: ['tool_result'] });
    expect(results).toHaveLength(6);
    for (const r of results) expect((r.content as { content: string }).content.length).toBeGreaterThan(BIG);
    const lastRequest = fake.requestsFor('steps=6').at(-1)!;
    expect(JSON.stringify(lastRequest.body.messages).length).toBeGreaterThan(6 * BIG);
  });
});
