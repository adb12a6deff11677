/**
 * The capacity books under a clock read before the lock: a process reads its clock, then waits for the books'
 * row lock while another process, whose clock reading is later, saves them first. The books must not go back
 * to the earlier time, or the next reader refills the time between twice and admits a call into capacity the
 * provider never had (a 429 under load, when waiting for locks takes longest).
 */
import type { RateLimits } from '../../shared/capacity/token-buckets';
import { take } from '../../shared/capacity/token-buckets';
import type { Store } from '../../shared/store';
import { openTestStore } from '../support/test-store';

const MODEL = 'clock-model';
/** One input token a millisecond. */
const limits: RateLimits = { input_tpm: 60_000 };
const need = (input: number) => ({ rpm: 0, input_tpm: input, output_tpm: 0 });

describe.each(['sqlite', 'postgres'] as const)('capacity books read with a stale clock on %s', (dialect) => {
  let store: Store;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ store, close } = await openTestStore(dialect));
  });
  afterAll(async () => {
    await close();
  });

  /** One admission: the books as of `atMs`, less `input`, saved as of `atMs` — as model-admission.ts does. */
  const admitAt = (atMs: number, input: number) =>
    store.transaction(async (tx) => {
      const books = await tx.capacity.books(MODEL, limits, atMs);
      await tx.capacity.saveBooks(MODEL, { ...books, levels: take(books.levels, need(input), limits) }, atMs);
      return books.levels.input_tpm;
    });
  const levelAt = (atMs: number) => store.transaction(async (tx) => (await tx.capacity.books(MODEL, limits, atMs)).levels.input_tpm);

  it('never refills the same time twice when a transaction with an earlier clock saves after a later one', async () => {
    expect(await admitAt(10_000, 60_000)).toBe(60_000); // opened full, emptied at 10 s
    expect(await admitAt(20_000, 10_000)).toBe(10_000); // 10 s later: 10,000 back, all taken
    // Read its clock at 15 s, got the lock after the one at 20 s: nothing has refilled for it, and it takes nothing.
    expect(await admitAt(15_000, 0)).toBe(0);
    // At 20 s the bucket is still empty; it refills from 20 s, not from 15 s again.
    expect(await levelAt(20_000)).toBe(0);
    expect(await levelAt(21_000)).toBe(1000);
  });
});
