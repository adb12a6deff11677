/**
 * Model capacity and prompt caching, against the fake Messages API over HTTP (the real SDK), with
 * the fake enforcing an input-tokens-per-minute limit the way the provider does (a token bucket,
 * 429 + retry-after when a call does not fit) and counting tokens from what is sent.
 *
 * 1. Utilisation: 20 runs of one user × 10 turns × ~4,000 input tokens per call (prompt caching
 *    off, so every call counts its whole prompt) against an input TPM limit that makes the work
 *    take minutes; a second user's single run arrives mid-way. Utilisation = the time the work
 *    needs at exactly the limit (its tokens beyond the bucket's first full minute, at the refill
 *    rate) ÷ the time it took; 429s; how long the second user waited for their first call, next
 *    to one fair share (their call's tokens at half the refill rate, two users sharing).
 * 2. Caching: the same 40-turn run with prompt caching on and off, interleaved; the ratio of
 *    their input cost (uncached input, cache writes at 1.25×, cache reads at 0.1×).
 */
import { FakeAnthropic, type FakeRequest } from '../test/support/fake-anthropic';
import { startHarness, type Harness } from '../test/support/harness';
import { waitFor } from '../test/support/wait';

const MODEL = 'claude-sonnet-5-5';
const INPUT_PRICE = 2; // USD per million input tokens, Sonnet 5.5
const ALICE = 'alice-token-0123456789';
const BOB = 'bob-token-0123456789ab';

const countedInput = (r: FakeRequest) => (r.counted ? r.counted.input_tokens + r.counted.cache_creation_input_tokens : 0);

/** A run that writes a small file each turn for `turns - 1` turns, then answers. */
function scriptTurns(fake: FakeAnthropic, marker: string, turns: number): void {
  fake.script(marker, (req) =>
    req.assistantTurns < turns - 1
      ? { toolUses: [{ name: 'workspace_write', input: { path: `t${req.assistantTurns}.txt`, content: `turn ${req.assistantTurns}: ${'notes '.repeat(40)}` } }] }
      : { text: 'done' },
  );
}

async function utilisation(opts: { runs: number; turns: number; inputTpm: number; padChars: number }) {
  const fake = new FakeAnthropic();
  await fake.start();
  const limiter = fake.setRateLimits({ 'input-tokens': opts.inputTpm });
  scriptTurns(fake, '[cap-', opts.turns);
  let h: Harness | undefined;
  try {
    h = await startHarness({
      database: 'postgres',
      env: {
        ANTHROPIC_API_KEY: fake.apiKey,
        ANTHROPIC_BASE_URL: fake.url,
        LLM_MODEL: MODEL,
        LOG_LEVEL: 'silent',
        API_TOKENS: `${ALICE}:alice,${BOB}:bob`,
        MODEL_RATE_LIMITS: JSON.stringify({ [MODEL]: { inputTpm: opts.inputTpm } }),
        PROMPT_CACHING: 'false',
        MAX_CONCURRENT_RUNS_PER_USER: String(opts.runs + 5),
        SEGMENT_MAX_TURNS: '1000',
      },
    });
    h.defaultToken = ALICE;
    const pad = 'lorem '.repeat(Math.ceil(opts.padChars / 6));
    const started = Date.now();
    const alice = await Promise.all(Array.from({ length: opts.runs }, (_, i) => h!.createRun({ goal: `[cap-a${i}] ${pad}`, approvals: 'none' })));
    const total = opts.runs * opts.turns;
    await waitFor(() => fake.requestsFor('[cap-a').length >= total / 2, { timeoutMs: 30 * 60_000, intervalMs: 200 });
    const bobCreated = Date.now();
    const before = fake.requests.length;
    const bob = await h.createRun({ goal: `[cap-bob] ${pad}`, approvals: 'none' }, { token: BOB });
    for (const id of alice) await h.waitForStatus(id, ['completed', 'failed'], { timeoutMs: 30 * 60_000 });
    await h.waitForStatus(bob, ['completed', 'failed'], { token: BOB, timeoutMs: 30 * 60_000 });

    const calls = fake.requestsFor('[cap-');
    const answered = calls.filter((r) => r.counted);
    const tokens = answered.reduce((n, r) => n + countedInput(r), 0);
    const lastAt = Math.max(...answered.map((r) => r.receivedAt));
    const tookMs = lastAt - started;
    const perMs = opts.inputTpm / 60_000;
    const idealMs = Math.max(0, tokens - opts.inputTpm) / perMs;
    const bobFirst = calls.find((r) => r.goal.includes('[cap-bob]'))!;
    const aliceBeforeBob = fake.requests.slice(before, fake.requests.indexOf(bobFirst)).length;
    const fairShareMs = countedInput(bobFirst) / (perMs / 2);
    return {
      runs: opts.runs,
      turnsPerRun: opts.turns,
      inputTpm: opts.inputTpm,
      calls: answered.length,
      meanInputTokensPerCall: Math.round(tokens / answered.length),
      tookSec: Number((tookMs / 1000).toFixed(1)),
      idealSec: Number((idealMs / 1000).toFixed(1)),
      utilisation: Number((idealMs / tookMs).toFixed(3)),
      rateLimited429s: limiter.refused,
      secondUser: {
        waitForFirstCallMs: bobFirst.receivedAt - bobCreated,
        oneFairShareMs: Math.round(fairShareMs),
        otherUsersCallsBeforeIt: aliceBeforeBob,
      },
      goals: { utilisation: '>= 0.9', rateLimited429s: 0, secondUser: 'first call within one fair share' },
    };
  } finally {
    await h?.close();
    await fake.stop();
  }
}

async function caching(opts: { turns: number; repetitions: number }) {
  const fake = new FakeAnthropic();
  await fake.start();
  fake.countTokens = true;
  scriptTurns(fake, '[cache-', opts.turns);
  const harnesses: Record<'on' | 'off', Harness | undefined> = { on: undefined, off: undefined };
  try {
    for (const mode of ['on', 'off'] as const) {
      harnesses[mode] = await startHarness({
        env: {
          ANTHROPIC_API_KEY: fake.apiKey,
          ANTHROPIC_BASE_URL: fake.url,
          LLM_MODEL: MODEL,
          LOG_LEVEL: 'silent',
          PROMPT_CACHING: mode === 'on' ? 'true' : 'false',
          SEGMENT_MAX_TURNS: '1000',
          DEFAULT_MAX_STEPS: String(opts.turns + 5),
        },
      });
    }
    const inputUsd: Record<'on' | 'off', number[]> = { on: [], off: [] };
    for (let i = 0; i < opts.repetitions; i++) {
      for (const mode of ['on', 'off'] as const) {
        const h = harnesses[mode]!;
        const id = await h.createRun({ goal: `[cache-${mode}-${i}] keep notes for ${opts.turns} turns`, approvals: 'none' });
        const run = await h.waitForStatus(id, ['completed', 'failed'], { timeoutMs: 10 * 60_000 });
        const u = run.usage as { inputTokens: number; cacheReadTokens?: number; cacheWriteTokens?: number };
        inputUsd[mode].push((u.inputTokens * INPUT_PRICE + (u.cacheWriteTokens ?? 0) * INPUT_PRICE * 1.25 + (u.cacheReadTokens ?? 0) * INPUT_PRICE * 0.1) / 1e6);
      }
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    return {
      turns: opts.turns,
      repetitions: opts.repetitions,
      inputCostUsd: { cached: Number(mean(inputUsd.on).toFixed(6)), uncached: Number(mean(inputUsd.off).toFixed(6)) },
      ratioCachedToUncached: Number((mean(inputUsd.on) / mean(inputUsd.off)).toFixed(3)),
      goal: '<= 0.3',
    };
  } finally {
    for (const h of Object.values(harnesses)) await h?.close();
    await fake.stop();
  }
}

export async function capacityBench() {
  return {
    caching: await caching({ turns: 40, repetitions: 2 }),
    utilisation: await utilisation({ runs: 20, turns: 10, inputTpm: 200_000, padChars: 12_000 }),
  };
}
