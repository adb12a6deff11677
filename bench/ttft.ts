/**
 * Time to first token as a person sees it: `POST /api/runs` sent → the first of the model's text on a
 * WebSocket subscribed to the new run (subscribed as soon as the id is back). The model is the
 * fake Anthropic server over HTTP through the official SDK, sending its whole answer at once; the
 * dev server is the tuned one `npm start` runs. Goal (issue 22, the model call an ordinary activity): p50 ≤ 60 ms.
 */
import { FakeAnthropic } from '../test/support/fake-anthropic';
import { startHarness } from '../test/support/harness';
import { LiveClient, wsUrl, type ServerMessage } from '../test/support/live-client';
import { summarize } from './env';

export async function ttftBench(opts: { samples?: number } = {}) {
  const samples = opts.samples ?? 30;
  const fake = new FakeAnthropic();
  await fake.start();
  // The whole answer at once: the figure is Longhaul's own latency, not the fake's pacing between SSE events.
  fake.script('[ttft]', () => ({ text: 'First words at once, then the rest of the answer.', chunkChars: 6, delayMs: 0 }));
  const h = await startHarness({ env: { ANTHROPIC_API_KEY: fake.apiKey, ANTHROPIC_BASE_URL: fake.url, LLM_MODEL: 'claude-sonnet-5-5', LOG_LEVEL: 'silent', MAX_CONCURRENT_RUNS_PER_USER: '100' } });
  const socket = await LiveClient.connect(wsUrl(h.api.url));
  const ms: number[] = [];
  try {
    for (let i = 0; i < samples + 3; i++) {
      const sent = performance.now();
      const res = await fetch(`${h.api.url}/api/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ goal: `first token ${i} [ttft]`, approvals: 'none' }) });
      const { id } = (await res.json()) as { id: string };
      // The first of the model's text on the socket: a delta, or — when the whole answer was in before the
      // subscription went live — the turn's final message, which carries it. Timed where the socket hands the
      // message over (a polling wait would add up to its interval).
      const isText = (m: ServerMessage) => (m.type === 'delta' || (m.type === 'event' && m.event.type === 'llm.message')) && m.runId === id;
      const firstText = socket.arrival(isText);
      socket.subscribe(id, 0);
      const { at } = await Promise.race([firstText, socket.waitForMessage(isText, 'the first text', 30_000).then(() => firstText)]);
      if (i >= 3) ms.push(at - sent); // three warm-up runs
      await h.waitForStatus(id, 'completed');
      socket.unsubscribe(id);
    }
    return { samples, msPostToFirstDelta: summarize(ms), goalP50Ms: 60 };
  } finally {
    socket.terminate();
    await h.close();
    await fake.stop();
  }
}
