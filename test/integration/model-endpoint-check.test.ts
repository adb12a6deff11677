/**
 * A worker checks its model endpoint and key once at start (`models.list`) and says in one clear
 * line when they do not work — with the host it tried, and never the key. Also: a model name that
 * would find an object's own member in a lookup table is priced like any unknown model, not NaN.
 */
import { Writable } from 'node:stream';
import { loadConfig } from '../../shared/config';
import { createLogger } from '../../shared/logger';
import { PricingTable } from '../../shared/pricing';
import { checkModelEndpoint } from '../../worker/check-model-endpoint';
import { FakeAnthropic } from '../support/fake-anthropic';
import { freePort } from '../support/ports';

function capturingLogger() {
  const lines: { level: number; msg: string; [k: string]: unknown }[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: createLogger({ level: 'info', destination }), lines };
}

describe('the model endpoint check at worker start', () => {
  const fake = new FakeAnthropic();
  beforeAll(() => fake.start());
  afterAll(() => fake.stop());

  it('passes quietly when the endpoint answers and takes the key', async () => {
    const { logger, lines } = capturingLogger();
    expect(await checkModelEndpoint(loadConfig({ ANTHROPIC_API_KEY: fake.apiKey, ANTHROPIC_BASE_URL: fake.url }), logger)).toBe(true);
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
  });

  it('logs one error line naming the host and the refusal when the key is wrong, without the key', async () => {
    const { logger, lines } = capturingLogger();
    const wrongKey = 'sk-wrong-key-that-must-not-be-logged';
    expect(await checkModelEndpoint(loadConfig({ ANTHROPIC_API_KEY: wrongKey, ANTHROPIC_BASE_URL: fake.url }), logger)).toBe(false);
    const errors = lines.filter((l) => l.level >= 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.msg).toContain(`model endpoint check failed at ${new URL(fake.url).host}: 401`);
    expect(JSON.stringify(lines)).not.toContain(wrongKey);
  });

  it('names the host it could not reach', async () => {
    const { logger, lines } = capturingLogger();
    const closed = `127.0.0.1:${await freePort()}`;
    expect(await checkModelEndpoint(loadConfig({ ANTHROPIC_API_KEY: 'k', ANTHROPIC_BASE_URL: `http://${closed}` }), logger)).toBe(false);
    expect(lines.filter((l) => l.level >= 50).map((l) => l.msg)).toEqual([expect.stringContaining(`model endpoint check failed at ${closed}: ${closed}: Connection error`)]);
  });

  it('prices names like constructor and __proto__ as unknown models, never NaN', () => {
    const pricing = new PricingTable();
    for (const model of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      const usage = pricing.usageFor(model, { inputTokens: 1000, outputTokens: 100 });
      expect([model, Number.isFinite(usage.costUsd), pricing.has(model)]).toEqual([model, true, false]);
      expect(usage.costUsd).toBeCloseTo((1000 * 10 + 100 * 50) / 1e6, 12); // the dearest model's rates
    }
  });
});
