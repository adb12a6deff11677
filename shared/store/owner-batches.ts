/**
 * One owner's concurrent requests, written together: while a batch of an owner's items is being written, the
 * owner's next items wait here (in memory, holding no database connection) and go as the next batch, in arrival
 * order. An owner's writes that serialise anyway (the queue cap's lock) then cost one lock, one count and one
 * commit a batch rather than one each, and a storm of one owner's starts takes one pooled connection, not all of
 * them (each waiting on the lock while holding its own, the API's other queries waiting for one).
 *
 * A batch that fails is written again item by item (`writeAlone`), so one bad item fails alone; a failure of the
 * database fails each of them as it would have.
 */
export class OwnerBatches<Item, Result> {
  private readonly waiting = new Map<string, { item: Item; resolve: (r: Result) => void; reject: (err: unknown) => void }[]>();

  constructor(
    /** Writes one owner's batch in one transaction; a result per item, in order. */
    private readonly write: (owner: string, items: Item[]) => Promise<Result[]>,
    /** Writes one item alone: a failed batch's items, each. */
    private readonly writeAlone: (item: Item) => Promise<Result>,
    private readonly maxBatch: number,
  ) {}

  add(owner: string, item: Item): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      const queue = this.waiting.get(owner);
      if (queue) return void queue.push({ item, resolve, reject });
      this.waiting.set(owner, [{ item, resolve, reject }]);
      void this.drain(owner);
    });
  }

  /** Writes the owner's waiting items a batch at a time until none wait. */
  private async drain(owner: string): Promise<void> {
    const queue = this.waiting.get(owner)!;
    while (queue.length > 0) {
      const batch = queue.splice(0, this.maxBatch);
      try {
        const results = await this.write(owner, batch.map((b) => b.item));
        batch.forEach((b, i) => b.resolve(results[i]!));
      } catch (err) {
        if (batch.length === 1) batch[0]!.reject(err);
        // One at a time: all at once, each would take a pooled connection to wait on the same owner's lock.
        else for (const b of batch) await this.writeAlone(b.item).then(b.resolve, b.reject);
      }
    }
    this.waiting.delete(owner);
  }
}
