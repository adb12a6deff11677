/**
 * Requests written together (shared/store/write-batches.ts): those that come while a batch is written go as the
 * next one, in order; a batch that fails is written again item by item; an item added by a caller a batch's results
 * woke is not left behind; `written` waits for all.
 */
import { WriteBatches } from '../../shared/store/write-batches';

/** A writer that records each batch and answers each item with itself doubled; `fail` items fail their batch. */
function recorder(fail: (n: number) => boolean = () => false) {
  const batches: number[][] = [];
  const write = async (items: number[]) => {
    batches.push(items);
    await new Promise((r) => setTimeout(r, 5));
    if (items.length > 1 && items.some(fail)) throw new Error('the batch failed');
    if (items.length === 1 && fail(items[0]!)) throw new Error(`item ${items[0]} failed`);
    return items.map((n) => n * 2);
  };
  return { batches, write, alone: async (n: number) => (await write([n]))[0]! };
}

describe('write batches', () => {
  it('writes what comes while a batch is written as the next batch, in order, at most the maximum each', async () => {
    const { batches, write, alone } = recorder();
    const batcher = new WriteBatches(write, alone, 3);
    const results = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => batcher.add(n)));
    expect(results).toEqual([2, 4, 6, 8, 10, 12]);
    expect(batches).toEqual([[1], [2, 3, 4], [5, 6]]);
  });

  it('writes a failed batch again item by item, so only the bad item fails', async () => {
    const { batches, write, alone } = recorder((n) => n === 3);
    const batcher = new WriteBatches(write, alone, 10);
    const results = await Promise.allSettled([1, 2, 3, 4].map((n) => batcher.add(n)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(batches).toEqual([[1], [2, 3, 4], [2], [3], [4]]);
  });

  it('writes an item that a caller adds when its own result arrives, and `written` waits for it', async () => {
    const { batches, write, alone } = recorder();
    const batcher = new WriteBatches(write, alone, 10);
    let followed: Promise<number> | undefined;
    void batcher.add(1).then(() => (followed = batcher.add(7)));
    await new Promise((r) => setTimeout(r, 1));
    await batcher.written();
    await new Promise((r) => setImmediate(r));
    expect(followed).toBeDefined();
    await batcher.written();
    expect(batches).toEqual([[1], [7]]);
    expect(await followed).toBe(14);
  });
});
