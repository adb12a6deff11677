/**
 * `longhaul run --watch` / `watch`: a run of an agent with an output schema prints its structured output
 * when it completes (the reason a script runs it), and says when it was upgraded; a run without output prints none.
 */
import { printWatch } from '../../client/cli/print-watch';
import type { LonghaulClient, WatchItem } from '../../client';
import type { RunEvent } from '../../contract/events';

const usage = { inputTokens: 1, outputTokens: 1, costUsd: 0.01 };

function clientWith(events: RunEvent[]): LonghaulClient {
  return {
    runs: {
      async *watch(): AsyncGenerator<WatchItem> {
        for (const event of events) yield { type: 'event', event } as WatchItem;
      },
    },
  } as unknown as LonghaulClient;
}

async function printed(events: RunEvent[]): Promise<{ code: number; out: string[] }> {
  const out: string[] = [];
  const code = await printWatch(clientWith(events), 'run_1', { json: false, out: (l) => out.push(l), write: (t) => out.push(t), err: () => undefined });
  return { code, out };
}

describe('printing a watched run', () => {
  it('prints the structured output of a completed run, as JSON', async () => {
    const { code, out } = await printed([
      { seq: 1, at: '2026-12-06T00:00:00Z', type: 'run.upgraded', data: { agent: 'invoice_checker', from: 'a1', to: 'b2', turn: 2 } },
      { seq: 2, at: '2026-12-06T00:00:01Z', type: 'run.completed', data: { turns: 2, usage, output: { approved: true, reason: 'matches' } } },
    ]);
    expect(code).toBe(0);
    expect(out).toEqual(['↑ agent invoice_checker upgraded from a1 to b2', '✔ completed after 2 turns ($0.0100)', JSON.stringify({ approved: true, reason: 'matches' }, null, 2)]);
  });

  it('prints no output for a run that has none', async () => {
    const { out } = await printed([{ seq: 1, at: '2026-12-06T00:00:01Z', type: 'run.completed', data: { turns: 1, usage } }]);
    expect(out).toEqual(['✔ completed after 1 turns ($0.0100)']);
  });
});
