/**
 * A run survives its worker: the worker process is killed in the middle of a streamed model call,
 * a new worker process starts, and the run carries on and completes — each turn paid for once it
 * completed, every event once, seq gap-free.
 */
import { FakeAnthropic } from '../support/fake-anthropic';
import { startHarness, type Harness } from '../support/harness';
import { startWorkerProcess, type ChildHandle } from '../support/processes';
import { waitFor } from '../support/wait';

describe('a worker killed mid-run', () => {
  const fake = new FakeAnthropic();
  let h: Harness;
  const workers: ChildHandle[] = [];

  beforeAll(async () => {
    await fake.start();
    h = await startHarness({
      noWorker: true,
      env: { ANTHROPIC_API_KEY: fake.apiKey, ANTHROPIC_BASE_URL: fake.url, LLM_MODEL: 'claude-sonnet-5-5', ACTIVITY_HEARTBEAT_TIMEOUT_SEC: '2' },
    });
  });
  afterAll(async () => {
    for (const w of workers) await w.kill();
    await h.close();
    await fake.stop();
  });

  it('resumes on a replacement worker and completes', async () => {
    fake.script('[restart]', (req) => {
      if (req.assistantTurns === 0) return { text: 'Listing first.', toolUses: [{ name: 'workspace_list', input: {} }] };
      if (req.assistantTurns === 1) return { text: 'A long, slow second thought that streams for a while. '.repeat(6), chunkChars: 6, delayMs: 40 };
      return { text: 'unexpected' };
    });
    workers.push(await startWorkerProcess(h.env, { plain: true }));
    const id = await h.createRun({ goal: 'Survive a crash [restart]', approvals: 'none' });

    // Kill the worker while the second model call is streaming.
    await waitFor(() => fake.requestsFor('[restart]').length >= 2, { what: 'the second model call to start' });
    await waitFor(() => (fake.requestsFor('[restart]')[1]!.streamedChars ?? 0) >= 30, { what: 'a few tokens of the second call to flow' });
    await workers[0]!.kill('SIGKILL');

    workers.push(await startWorkerProcess(h.env, { plain: true }));
    const run = await h.waitForStatus(id, ['completed', 'failed']);
    expect({ status: run.status, error: run.error }).toEqual({ status: 'completed', error: null });

    const requests = fake.requestsFor('[restart]');
    expect(requests.map((r) => r.assistantTurns)).toEqual([0, 1, 1]);
    expect(requests[1]!.abandoned).toBe(true);

    const events = await h.events(id);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.filter((e) => e.type === 'llm.message')).toHaveLength(2);
    expect(events.filter((e) => e.type === 'tool.completed')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'llm.retry').map((e) => e.data)).toEqual([
      { turn: 2, attempt: 2, error: { code: 'interrupted', message: 'the previous attempt ended without an answer (its worker stopped or it timed out)' } },
    ]);
  });
});
