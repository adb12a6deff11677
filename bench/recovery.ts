/**
 * Recovery time: a worker is SIGKILLed in the middle of a streamed model call while a replacement
 * worker is already running. Measured: kill → the retry starting on the replacement (the run moves
 * again), and kill → that turn completing. Goal: ≤ heartbeat timeout + 2 s.
 */
import { FakeAnthropic } from '../test/support/fake-anthropic';
import { startHarness } from '../test/support/harness';
import { startWorkerProcess, type ChildHandle } from '../test/support/processes';
import { waitFor } from '../test/support/wait';
import { summarize } from './env';

export async function recoveryBench(opts: { trials?: number; heartbeatSec?: number } = {}) {
  const trials = opts.trials ?? 5;
  const heartbeatSec = opts.heartbeatSec ?? 5;
  const fake = new FakeAnthropic();
  await fake.start();
  const h = await startHarness({
    noWorker: true,
    env: { ANTHROPIC_API_KEY: fake.apiKey, ANTHROPIC_BASE_URL: fake.url, LLM_MODEL: 'claude-sonnet-5-5', ACTIVITY_HEARTBEAT_TIMEOUT_SEC: String(heartbeatSec), ACTIVITY_MAX_ATTEMPTS: '10', LOG_LEVEL: 'silent' },
  });
  fake.script('[recovery]', (req) =>
    // ~12 s of streaming: long enough to start the replacement worker and kill the first one mid-stream.
    req.assistantTurns === 0 ? { text: 'A slow, steady answer that streams for a while. '.repeat(25), chunkChars: 6, delayMs: 60 } : { text: 'unexpected' },
  );
  const workers: ChildHandle[] = [await startWorkerProcess(h.env, { plain: true })];
  const toRetry: number[] = [];
  const toTurn: number[] = [];
  try {
    for (let i = 0; i < trials; i++) {
      const id = await h.createRun({ goal: `Recover #${i} [recovery]`, approvals: 'none' });
      await waitFor(() => fake.requestsFor(`#${i} [recovery]`).length === 1, { what: 'the stream to start' });
      await new Promise((r) => setTimeout(r, 300));
      workers.push(await startWorkerProcess(h.env, { plain: true }));
      // Kill whichever worker is streaming: the older one polled first; kill both but the newest.
      const victims = workers.splice(0, workers.length - 1);
      const killedAt = Date.now();
      for (const w of victims) await w.kill('SIGKILL');
      const retry = await h.waitForEvent(id, 'llm.retry', () => true, 120_000);
      toRetry.push(Date.parse(retry.at) - killedAt);
      const message = await h.waitForEvent(id, 'llm.message', () => true, 120_000);
      toTurn.push(Date.parse(message.at) - killedAt);
      await h.waitForStatus(id, 'completed', { timeoutMs: 60_000 });
    }
  } finally {
    for (const w of workers) await w.kill('SIGKILL');
    await h.close();
    await fake.stop();
  }
  return {
    heartbeatTimeoutSec: heartbeatSec,
    goalMs: heartbeatSec * 1000 + 2000,
    killToRetryStartedMs: summarize(toRetry),
    killToTurnCompletedMs: summarize(toTurn),
    note: 'kill → turn completed includes regenerating the whole ~12 s stream on the replacement',
  };
}
