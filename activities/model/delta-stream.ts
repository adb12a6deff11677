/**
 * A model call's streamed text on its way to the bus, in batches. The provider sends a few tokens at a
 * time (at 50 tokens a second, a delta every ~60 ms per call); each delta published is work for every
 * process that carries it (the live-text writer, a NOTIFY, a socket message per watcher): the largest single
 * cost in the worker's profile under load, though not most of it (docs/benchmarks.md). Batched, a call
 * publishes at most once per DELTA_BATCH_MS: at once when it has published nothing for that long (the
 * first token is not held back), then what arrived meanwhile at the window's end.
 *
 * Text keeps its offsets: batches are contiguous and in order, each the concatenation of the deltas it
 * holds, so whoever resumes by offset sees no gap and no repeat. The caller flushes when the stream
 * stops (answer, failure, cancellation), before anything that says the message ended.
 */

/** The longest a streamed piece of text waits before it is published. */
export const DELTA_BATCH_MS = 25;
/** A batch this long goes at once (a burst of text is not held back to grow). */
export const DELTA_BATCH_CHARS = 2_000;

export interface DeltaStream {
  /** The next piece of streamed text, in order. */
  push(text: string): void;
  /** Publishes what is held now. */
  flush(): void;
  /** Publishes what is held and stops: nothing is published after. */
  close(): void;
}

/** `publish(offset, text)`: a batch, `offset` its first character's place in the message (UTF-16 code units). */
export function createDeltaStream(publish: (offset: number, text: string) => void, opts: { batchMs?: number; batchChars?: number } = {}): DeltaStream {
  const batchMs = opts.batchMs ?? DELTA_BATCH_MS;
  const batchChars = opts.batchChars ?? DELTA_BATCH_CHARS;
  /** Characters published so far: the next batch's offset. */
  let published = 0;
  let held = '';
  /** The end of the current window: until then text is held (0: no window open, the next piece goes at once). */
  let windowEnds = 0;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (held === '') return;
    const text = held;
    held = '';
    publish(published, text);
    published += text.length;
  };

  return {
    push(text) {
      if (closed || text === '') return;
      held += text;
      const now = Date.now();
      if (now >= windowEnds || held.length >= batchChars) {
        flush();
        windowEnds = now + batchMs;
      } else if (!timer) {
        timer = setTimeout(() => {
          flush();
          // The window's end published: the next piece opens a new window at once only after another quiet one.
          windowEnds = Date.now() + batchMs;
        }, windowEnds - now);
      }
    },
    flush,
    close() {
      flush();
      closed = true;
    },
  };
}
