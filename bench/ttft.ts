/**
 * Time to first token as a person sees it: `POST /api/runs` sent → the first model text delta on a
 * WebSocket subscribed to the new run (subscribed as soon as the id is back). The model is the
 * fake Anthropic server over HTTP through the official SDK, streaming its first text at once; the
 * dev server is the tuned one `npm start` runs. Goal (issue 11): p50 ≤ 50 ms.
 */
import { FakeAnthropic } from '../test/support/fake-anthropic';
import { startHarness } from '../test/support/harness';
import { LiveClient, wsUrl } from '../test/support/live-client';
import { summarize } from './env';

export async function ttftBench(opts: { samples?: number } = {}) {
  const samples = opts.samples ?? 30;
  const fake = new FakeAnthropic();
  await fake.start();
  fake.script('[ttft]', () => ({ text: 'First words at once, then the rest of the answer.', chunkChars: 6, delayMs: 5 }));
  const h = await startHarness({ env: { ANTHROPIC_API_KEY: fake.apiKey, ANTHROPIC_BASE_URL: fake.url, LLM_MODEL: 'claude-sonnet-5-5', LOG_LEVEL: 'silent', MAX_CONCURRENT_RUNS_PER_USER: '100' } });
  const socket = await LiveClient.connect(wsUrl(h.api.url));
  const ms: number[] = [];
  try {
    for (let i = 0; i < samples + 3; i++) {
      const sent = performance.now();
      const res = await fetch(`${h.api.url}/api/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ goal: `first token ${i} [ttft]`, approvals: 'none' }) });
      const { id } = (await res.json()) as { id: string };
      socket.subscribe(id, 0);
      await socket.waitForMessage((m) => m.type === 'delta' && m.runId === id, 'the first delta', 30_000);
      if (i >= 3) ms.push(performance.now() - sent); // three warm-up runs
      await h.waitForStatus(id, 'completed');
      socket.unsubscribe(id);
    }
    return { samples, msPostToFirstDelta: summarize(ms), goalP50Ms: 50 };
  } finally {
    socket.terminate();
    await h.close();
    await fake.stop();
  }
}
