/**
 * The arithmetic of the capacity books: buckets refill continuously up to one minute's worth, a
 * call waits exactly until it fits, owners take turns when capacity is short, and a plan never
 * promises the same capacity twice.
 */
import { fairOrder, planStarts, type Waiter } from '../../shared/capacity/fair-queue';
import { exceedsABucket, fullBuckets, refill, take, timeToFit, type Amounts, type RateLimits } from '../../shared/capacity/token-buckets';

const limits: RateLimits = { rpm: 60, input_tpm: 60_000 };
const need = (input: number): Amounts => ({ rpm: 1, input_tpm: input, output_tpm: 0 });
const waiter = (runId: string, owner: string, input: number, enqueuedMs: number): Waiter => ({ runId, owner, need: need(input), enqueuedMs });

describe('token buckets', () => {
  it('refill at limit per minute, never past one minute of it', () => {
    const empty: Amounts = { rpm: 0, input_tpm: 0, output_tpm: 0 };
    expect(refill(empty, limits, 1000)).toEqual({ rpm: 1, input_tpm: 1000, output_tpm: 0 });
    expect(refill(empty, limits, 10 * 60_000)).toEqual(fullBuckets(limits));
  });

  it('say how long until a call fits and which limit it waits for, debts included', () => {
    expect(timeToFit(fullBuckets(limits), need(10_000), limits)).toEqual({ waitMs: 0, limit: null });
    expect(timeToFit({ rpm: 5, input_tpm: 2000, output_tpm: 0 }, need(5000), limits)).toEqual({ waitMs: 3000, limit: 'input_tpm' });
    expect(timeToFit({ rpm: 5, input_tpm: -1000, output_tpm: 0 }, need(1000), limits)).toEqual({ waitMs: 2000, limit: 'input_tpm' });
    expect(timeToFit({ rpm: 0, input_tpm: 60_000, output_tpm: 0 }, need(1), limits)).toEqual({ waitMs: 1000, limit: 'rpm' });
  });

  it('name a call that could never fit, rather than let it wait forever', () => {
    expect(exceedsABucket(need(60_001), limits)).toBe('input_tpm');
    expect(exceedsABucket(need(60_000), limits)).toBeNull();
    expect(exceedsABucket({ rpm: 1, input_tpm: 1, output_tpm: 10 ** 9 }, limits)).toBeNull(); // output is not limited here
  });
});

describe('the fair queue', () => {
  it('gives owners turns, least recently served first, first come first served within an owner', () => {
    const queue = [waiter('a1', 'alice', 1, 1), waiter('a2', 'alice', 1, 2), waiter('a3', 'alice', 1, 3), waiter('b1', 'bob', 1, 10)];
    expect(fairOrder(queue, new Map([['alice', 100]])).map((w) => w.runId)).toEqual(['b1', 'a1', 'a2', 'a3']);
    expect(fairOrder(queue, new Map([['alice', 100], ['bob', 200]])).map((w) => w.runId)).toEqual(['a1', 'b1', 'a2', 'a3']);
  });

  it('plans each start after the one before it, never promising capacity twice', () => {
    const start = { rpm: 60, input_tpm: 20_000, output_tpm: 0 };
    const ordered = [waiter('r1', 'alice', 15_000, 1), waiter('r2', 'bob', 15_000, 2), waiter('r3', 'alice', 15_000, 3)];
    const plan = planStarts(start, limits, ordered);
    expect(plan.get('r1')).toEqual({ waitMs: 0, limit: null });
    expect(plan.get('r2')).toEqual({ waitMs: 10_000, limit: 'input_tpm' }); // 5,000 left, 10,000 more at 1,000/s
    expect(plan.get('r3')).toEqual({ waitMs: 25_000, limit: 'input_tpm' });
    // Replaying the plan against the buckets: nobody ever takes more than is there.
    let levels: Amounts = start;
    let at = 0;
    for (const w of ordered) {
      const p = plan.get(w.runId)!;
      levels = refill(levels, limits, p.waitMs - at);
      at = p.waitMs;
      levels = take(levels, w.need, limits);
      expect(levels.input_tpm).toBeGreaterThanOrEqual(-1e-6);
    }
  });

  it('lets a lone owner in within one fair share however many runs another owner queued', () => {
    const flood = Array.from({ length: 20 }, (_, i) => waiter(`a${i}`, 'alice', 10_000, i));
    const lone = waiter('b', 'bob', 10_000, 100);
    const plan = planStarts({ rpm: 0, input_tpm: 0, output_tpm: 0 }, limits, fairOrder([...flood, lone], new Map([['alice', 50]])));
    // Bob was never served, so he is first: he waits only for his own 10,000 tokens to refill.
    expect(plan.get('b')!.waitMs).toBe(10_000);
    expect(plan.get('a0')!.waitMs).toBe(20_000);
  });
});
