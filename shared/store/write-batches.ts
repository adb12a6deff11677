/**
 * Concurrent requests written together: while a batch is being written, the next requests wait here (in memory,
 * holding no database connection) and go as the next batch, in arrival order. Writes that would each cost their own
 * statements then cost one batch's, whoever's they are, on one pooled connection, not one each (each waiting for the
 * pool while the API's other queries wait too): a storm of starts spread over many owners commits as few
 * transactions as one owner's (`Store.queueRun`), and the starts made clear their owed marks in one statement
 * (api/owed-starts.ts).
 *
 * A batch that fails is written again item by item (`writeAlone`), so one bad item fails alone; a failure of the
 * database fails each of them as it would have.
 */
export class WriteBatches<Item, Result> {
  private readonly waiting: { item: Item; resolve: (r: Result) => void; reject: (err: unknown) => void }[] = [];
  private draining = false;
  private drained: Promise<void> = Promise.resolve();

  constructor(
    /** Writes one batch in one transaction; a result per item, in order. */
    private readonly write: (items: Item[]) => Promise<Result[]>,
    /** Writes one item alone: a failed batch's items, each. */
    private readonly writeAlone: (item: Item) => Promise<Result>,
    private readonly maxBatch: number,
  ) {}

  add(item: Item): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (this.draining) return;
      this.draining = true;
      this.drained = this.drain();
    });
  }

  /** Resolves once every item added so far is written (or has failed). */
  async written(): Promise<void> {
    while (this.draining) await this.drained;
  }

  /**
   * Writes the waiting items a batch at a time until none wait. The flag is cleared in the same step as the last
   * look at the queue: an item added by a caller the last batch's results woke starts a new drain.
   */
  private async drain(): Promise<void> {
    while (this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.maxBatch);
      try {
        const results = await this.write(batch.map((b) => b.item));
        batch.forEach((b, i) => b.resolve(results[i]!));
      } catch (err) {
        if (batch.length === 1) batch[0]!.reject(err);
        // One at a time: all at once, each would take a pooled connection, those of one owner to wait on its lock.
        else for (const b of batch) await this.writeAlone(b.item).then(b.resolve, b.reject);
      }
    }
    this.draining = false;
  }
}
