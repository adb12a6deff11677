/**
 * Runs driven by the real Anthropic SDK talking HTTP + SSE to a fake Messages API: tool calls,
 * usage and cost, idempotency keys on the wire, and error classification with retries.
 */
import type { BusMessage } from '../../shared/bus/bus';
import { CountingServer } from '../support/counting-server';
import { FakeAnthropic } from '../support/fake-anthropic';
import { startHarness, type Harness } from '../support/harness';
import { waitFor } from '../support/wait';

describe('runs with Claude through the real SDK against a fake Messages API', () => {
  const fake = new FakeAnthropic();
  const outside = new CountingServer();
  let h: Harness;

  beforeAll(async () => {
    await fake.start();
    await outside.start();
    h = await startHarness({
      env: {
        ANTHROPIC_API_KEY: fake.apiKey,
        ANTHROPIC_BASE_URL: fake.url,
        LLM_MODEL: 'claude-sonnet-5-5',
        HTTP_TOOL_ALLOWED_HOSTS: outside.host,
      },
    });
  });
  afterAll(async () => {
    await h.close();
    await fake.stop();
    await outside.stop();
  });

  it('runs several tools, feeds results back, records usage and cost, sends idempotency keys', async () => {
    fake.script('[multi]', (req) => {
      switch (req.assistantTurns) {
        case 0:
          return {
            text: 'I will write a note and tell the server.',
            toolUses: [
              { name: 'workspace_write', input: { path: 'note.txt', content: 'hello from the agent' } },
              { name: 'http_request', input: { method: 'POST', url: `${outside.url}/notes`, body: '{"note":"hello"}' } },
            ],
            usage: { input_tokens: 1000, output_tokens: 200 },
          };
        case 1:
          return { text: 'Checking the note.', toolUses: [{ name: 'workspace_read', input: { path: 'note.txt' } }], usage: { input_tokens: 1500, output_tokens: 100 } };
        default:
          return { text: `The note says: ${req.lastToolResults[0]?.content}`, usage: { input_tokens: 2000, output_tokens: 50 } };
      }
    });
    const id = await h.createRun({ goal: 'Leave a note [multi]', approvals: 'none' });
    const run = await h.waitForStatus(id, ['completed', 'failed']);
    expect({ status: run.status, error: run.error }).toEqual({ status: 'completed', error: null });
    expect(run.model).toBe('claude-sonnet-5-5');
    expect(run.result).toBe('The note says: hello from the agent');

    const requests = fake.requestsFor('[multi]');
    expect(requests).toHaveLength(3);
    expect(requests[0]!.body.stream).toBe(true);
    expect(requests[0]!.body.tools!.map((t) => t.name).sort()).toEqual(['ask_user', 'http_request', 'workspace_list', 'workspace_read', 'workspace_write']);
    // Both tool results went back to the model, in tool_use order.
    expect(requests[1]!.lastToolResults).toHaveLength(2);
    expect(requests[1]!.lastToolResults[1]!.content).toContain('"status": 201');

    // Usage: 4500 input, 350 output tokens at $2 / $10 per million (Sonnet 5.5).
    expect(run.usage).toEqual({ inputTokens: 4500, outputTokens: 350, costUsd: expect.closeTo((4500 * 2 + 350 * 10) / 1e6, 10) });

    const events = await h.events(id);
    const toolUse = (events.find((e) => e.type === 'llm.message')!.data.toolCalls as { id: string; name: string }[])[1]!;
    expect(outside.requests).toHaveLength(1);
    expect(outside.requests[0]!.idempotencyKey).toBe(`${id}:turn:1:tool:${toolUse.id}`);
  });

  it('fails at once, with a clear error, when the API key is refused (401 is not retried)', async () => {
    fake.failNext('[auth]', [{ status: 401, message: 'invalid x-api-key' }]);
    const id = await h.createRun({ goal: 'Anything [auth]', approvals: 'none' });
    const run = await h.waitForStatus(id, ['completed', 'failed']);
    expect(run.status).toBe('failed');
    expect(run.error.code).toBe('model_auth_error');
    expect(run.error.message).toMatch(/API key was refused.*401.*invalid x-api-key/);
    expect(fake.requestsFor('[auth]')).toHaveLength(1);
    const types = (await h.events(id)).map((e) => e.type);
    expect(types[types.length - 1]).toBe('run.failed');
  });

  it.each([
    [400, 'model_bad_request'],
    [404, 'model_not_found'],
    [403, 'model_permission_denied'],
  ])('does not retry HTTP %i (%s)', async (status, code) => {
    const marker = `[nonretry-${status}]`;
    fake.failNext(marker, [{ status }]);
    const id = await h.createRun({ goal: `Anything ${marker}`, approvals: 'none' });
    const run = await h.waitForStatus(id, ['completed', 'failed']);
    expect(run.error.code).toBe(code);
    expect(fake.requestsFor(marker)).toHaveLength(1);
  });

  it('retries 429 (waiting as long as retry-after says), 529 and 500, then completes', async () => {
    fake.failNext('[flaky]', [{ status: 429, retryAfterSec: 2 }, { status: 529 }, { status: 500 }]);
    fake.script('[flaky]', () => ({ text: 'Finally done.' }));
    const id = await h.createRun({ goal: 'Be patient [flaky]', approvals: 'none' });
    // While Temporal waits out retry-after, the run says what it is doing and why.
    const detail = `retrying model call (attempt 2 of ${h.config.activities.maxAttempts}): 429 rate limited`;
    await waitFor(async () => (await h.request('GET', `/api/runs/${id}`)).body.statusDetail === detail, {
      what: 'the status detail of a retrying model call',
    });
    const run = await h.waitForStatus(id, ['completed', 'failed']);
    expect({ status: run.status, error: run.error, statusDetail: run.statusDetail }).toEqual({ status: 'completed', error: null, statusDetail: null });
    expect(fake.requestsFor('[flaky]')).toHaveLength(4);
    const retries = (await h.events(id)).filter((e) => e.type === 'llm.retry').map((e) => e.data);
    expect(retries).toEqual([
      { turn: 1, attempt: 2, error: { code: 'rate_limited', status: 429, message: 'injected 429' } },
      { turn: 1, attempt: 3, error: { code: 'overloaded', status: 529, message: 'injected 529' } },
      { turn: 1, attempt: 4, error: { code: 'server_error', status: 500, message: 'injected 500' } },
    ]);
    // The 429 that happened anyway is counted where operators look.
    const capacity = await h.request('GET', '/api/capacity');
    expect(capacity.body.models.find((m: { model: string }) => m.model === 'claude-sonnet-5-5')?.rateLimitedLastHour).toBeGreaterThanOrEqual(1);
    // retry-after: 2 was honoured: the second attempt came at least two seconds after the first.
    const times = (await h.store.effects.get(`${id}:turn:1:model`))!;
    expect(times.attempts).toBe(4);
    const [first, second] = fake.requestsFor('[flaky]').map((r) => r.receivedAt);
    expect(second! - first!).toBeGreaterThanOrEqual(1900);
  });

  it('tells live viewers to drop partial text when a stream breaks mid-message, then retries', async () => {
    let calls = 0;
    fake.script('[midstream]', () => {
      calls += 1;
      return calls === 1
        ? { text: 'This first attempt will break halfway through its sentence.', delayMs: 20, errorAfterChars: { chars: 16, type: 'overloaded_error' } }
        : { text: 'Second attempt, whole.' };
    });
    const seen: BusMessage[] = [];
    const id = await h.createRun({ goal: 'Stream [midstream]', approvals: 'none' });
    const unsubscribe = h.bus.subscribe(id, (m) => seen.push(m));
    const run = await h.waitForStatus(id, ['completed', 'failed']);
    unsubscribe();
    expect(run.status).toBe('completed');
    expect(run.result).toBe('Second attempt, whole.');
    const reset = seen.findIndex((m) => m.type === 'delta.reset');
    expect(seen.slice(0, reset).some((m) => m.type === 'delta')).toBe(true);
    const after = seen.slice(reset + 1).filter((m) => m.type === 'delta') as Extract<BusMessage, { type: 'delta' }>[];
    expect(after.map((d) => d.text).join('')).toBe('Second attempt, whole.');
    expect(after[0]!.offset).toBe(0);
  });
});

