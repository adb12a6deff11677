/**
 * Model capacity computed, not discovered: the fake Messages API enforces an input-tokens-per-
 * minute limit with a token bucket (429 + retry-after when a call does not fit) and reports what
 * is left on every response. Two worker processes on Postgres share one set of books with the
 * same limit. Many runs of one user and a late run of another: no call is ever refused, runs wait
 * on timers (model.throttled) instead, the late user's run is served in its turn rather than after
 * the whole queue, and when someone else drains the key the books follow the provider's count.
 * Also: prompt caching, and cache tokens priced at their own rates.
 */
import { FakeAnthropic } from '../support/fake-anthropic';
import { startHarness, type Harness } from '../support/harness';
import { startWorkerProcess, type ChildHandle } from '../support/processes';
import { testTools } from '../support/test-tools';
import { waitFor } from '../support/wait';

const ALICE = 'alice-token-0123456789';
const BOB = 'bob-token-0123456789ab';
const MODEL = 'claude-sonnet-5-5';
const INPUT_TPM = 9000;

describe('model capacity on Postgres', () => {
  const fake = new FakeAnthropic();
  let h: Harness;
  let second: ChildHandle;

  beforeAll(async () => {
    await fake.start();
    fake.setRateLimits({ 'input-tokens': INPUT_TPM });
    // Three tool turns, then an answer; each turn adds a few hundred characters of new context.
    fake.script('[load', (req) =>
      req.assistantTurns < 3
        ? { toolUses: [{ name: 'workspace_write', input: { path: `t${req.assistantTurns}.txt`, content: `${req.goal} `.repeat(12) } }] }
        : { text: 'done' },
    );
    h = await startHarness({
      database: 'postgres',
      // The same tools as the worker process below: every worker of a deployment offers the same tools.
      extraTools: testTools(),
      env: {
        ANTHROPIC_API_KEY: fake.apiKey,
        ANTHROPIC_BASE_URL: fake.url,
        LLM_MODEL: MODEL,
        API_TOKENS: `${ALICE}:alice,${BOB}:bob`,
        MODEL_RATE_LIMITS: JSON.stringify({ [MODEL]: { inputTpm: INPUT_TPM } }),
        MAX_CONCURRENT_RUNS_PER_USER: '20',
      },
    });
    h.defaultToken = ALICE;
    // A second worker process: reservations race across processes, not only inside one.
    second = await startWorkerProcess(h.env);
  });
  afterAll(async () => {
    await second?.kill();
    await h.close();
    await fake.stop();
  });

  const capacityOf = async () => (await h.request('GET', '/api/capacity')).body.models.find((m: { model: string }) => m.model === MODEL);

  it('follows the provider when someone else drains the key, then shares what is left fairly with no 429s', async () => {
    // The first call writes the shared prefix (tools, system) to the cache and opens the books.
    const prime = await h.createRun({ goal: 'say hi [prime]', approvals: 'none' });
    await h.waitForStatus(prime, 'completed');

    // Someone else uses the same key: the provider's bucket drops behind Longhaul's back.
    const before = await capacityOf();
    fake.limiter!.drainTo({ 'input-tokens': 600 });
    const probe = await h.createRun({ goal: 'say hi again [probe]', approvals: 'none' });
    await h.waitForStatus(probe, 'completed');
    const after = await capacityOf();
    expect(before.available.inputTpm).toBeGreaterThan(INPUT_TPM / 2);
    // The probe's response said how little is left; the books believe it over their own count.
    expect(after.available.inputTpm).toBeLessThan(INPUT_TPM / 3);

    // Alice floods the queue; once most of her runs wait for capacity, Bob starts one run.
    const alice = await Promise.all(Array.from({ length: 8 }, (_, i) => h.createRun({ goal: `alice ${i} [load-a${i}]`, approvals: 'none' })));
    await waitFor(async () => (await capacityOf()).runsWaiting >= 5, { timeoutMs: 60_000, what: 'five of alice’s runs waiting for capacity' });
    const arrivedAt = fake.requests.length;
    const bob = await h.createRun({ goal: 'bob alone [load-bob]', approvals: 'none' }, { token: BOB });

    for (const id of alice) await h.waitForStatus(id, 'completed', { timeoutMs: 120_000 });
    await h.waitForStatus(bob, 'completed', { token: BOB, timeoutMs: 120_000 });

    // Not one call was refused: every call waited for room instead (a refusal names the call and what was left).
    expect(fake.refusals).toEqual([]);
    expect(fake.limiter!.refused).toBe(0);
    const throttled = (await Promise.all(alice.map((id) => h.events(id)))).flat().filter((e) => e.type === 'model.throttled');
    expect(throttled.length).toBeGreaterThan(0);
    for (const e of throttled) expect(e.data).toMatchObject({ limit: 'input_tpm', waitMs: expect.any(Number) });

    // Bob's first call came in his turn: at most the calls already granted went before it, not the queue.
    const afterArrival = fake.requests.slice(arrivedAt);
    const bobFirst = afterArrival.findIndex((r) => r.goal.includes('[load-bob]'));
    expect(bobFirst).toBeGreaterThanOrEqual(0);
    expect(bobFirst).toBeLessThanOrEqual(3);

    const report = await capacityOf();
    expect(report).toMatchObject({ limits: { rpm: null, inputTpm: INPUT_TPM, outputTpm: null }, runsWaiting: 0, rateLimitedLastHour: 0 });
    const metrics = await h.request('GET', '/metrics');
    expect(metrics.body).toContain(`longhaul_model_rate_limit{model="${MODEL}",limit="inputTpm"} ${INPUT_TPM}`);
    expect(metrics.body).toContain(`longhaul_model_rate_limited_last_hour{model="${MODEL}"} 0`);
  });

  it('marks the stable prefix for caching, reads it back on later turns, and prices cache tokens at their own rates', async () => {
    const id = await h.createRun({ goal: 'cache me [load-cache]', approvals: 'none' });
    const run = await h.waitForStatus(id, 'completed');
    const calls = fake.requestsFor('[load-cache]');
    expect(calls).toHaveLength(4);
    // From the second turn on, everything the previous call sent is read from the cache.
    for (const call of calls.slice(1)) expect(call.counted!.cache_read_input_tokens).toBeGreaterThan(call.counted!.input_tokens + call.counted!.cache_creation_input_tokens);
    const sum = (pick: (c: NonNullable<(typeof calls)[number]['counted']>) => number) => calls.reduce((n, c) => n + pick(c.counted!), 0);
    expect(run.usage).toMatchObject({
      inputTokens: sum((c) => c.input_tokens),
      cacheReadTokens: sum((c) => c.cache_read_input_tokens),
      cacheWriteTokens: sum((c) => c.cache_creation_input_tokens),
    });
    // Sonnet 5.5: $2 input, $10 output, cache writes 1.25× and reads 0.1× the input rate, per million.
    const { inputTokens, outputTokens, cacheReadTokens, cacheWriteTokens } = run.usage;
    expect(run.usage.costUsd).toBeCloseTo((inputTokens * 2 + outputTokens * 10 + cacheWriteTokens * 2.5 + cacheReadTokens * 0.2) / 1e6, 12);
    // The spend report adds up the same calls.
    const usage = (await h.request('GET', '/api/usage')).body;
    expect(usage.user).toBe('alice');
    expect(usage.totalUsd).toBeGreaterThanOrEqual(run.usage.costUsd);
    const refused = await h.request('GET', '/api/usage?user=bob');
    expect([refused.status, refused.body.error.code]).toEqual([403, 'forbidden']);
  });
});
