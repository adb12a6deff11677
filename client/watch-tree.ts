/**
 * `runs.watch(id, { children: true })`: follow a run and the child runs its sub-agents start, as one async
 * iterator. Each run is followed by its own `watchRun` (so each resumes by itself with no gap and no duplicate);
 * a child is followed from its first event as soon as its parent's `subagent.started` names it, and its items
 * come wrapped in a `child` item that says whose they are. Children's children are followed the same way.
 *
 * A child's items come before its parent's `subagent.completed` / `subagent.failed` for it: the parent's
 * stream waits (at most CHILD_ENDING_MS) for the child's to deliver the child's own ending, so what is printed
 * reads in the order it happened. It ends when the watched run ends; a child its parent did not see end (the
 * parent failed or was cancelled first) is stopped with it.
 */
import type { Http } from './http';
import { watchRun, type WatchItem, type WatchOptions } from './watch';

/** An item of a child run (a sub-agent's), or of a child's child: `depth` 1 for the watched run's children. */
export interface ChildWatchItem {
  type: 'child';
  /** The child run the item is of. */
  runId: string;
  /** The run that started it (the watched run for depth 1). */
  parentRunId: string;
  /** The sub-agent it runs. */
  agent: string;
  depth: number;
  item: WatchItem;
}

/** How long a parent's item saying a child ended waits for the child's stream to deliver that ending. */
const CHILD_ENDING_MS = 10_000;

/** A child run being followed: stopped when its parent ends without having seen it end. */
interface Followed {
  stop: AbortController;
  ended: boolean;
  done: Promise<void>;
}

export async function* watchTree(http: Http, runId: string, opts: WatchOptions = {}): AsyncGenerator<WatchItem | ChildWatchItem> {
  const queue: (WatchItem | ChildWatchItem)[] = [];
  let wake: (() => void) | undefined;
  let finished = false;
  let failure: unknown;
  const everything = new AbortController();
  const stopAll = () => everything.abort();
  opts.signal?.addEventListener('abort', stopAll, { once: true });

  const push = (item: WatchItem | ChildWatchItem) => {
    queue.push(item);
    wake?.();
  };
  // A child's stream that fails (not a drop: those it resumes itself) ends the whole watch with its error.
  const fail = (err: unknown) => {
    failure ??= err;
    everything.abort();
  };

  async function follow(id: string, label: Omit<ChildWatchItem, 'type' | 'runId' | 'item'> | null, signal: AbortSignal): Promise<void> {
    const children = new Map<string, Followed>();
    const depth = label?.depth ?? 0;
    try {
      const own = label ? { signal, retryMs: opts.retryMs } : { ...opts, signal };
      for await (const item of watchRun(http, id, own)) {
        const e = item.type === 'event' ? item.event : undefined;
        if (e?.type === 'subagent.completed' || e?.type === 'subagent.failed') {
          const child = children.get(e.data.childRunId);
          if (child) {
            child.ended = true;
            await untilEnded(child, signal);
          }
        }
        push(label ? { type: 'child', runId: id, ...label, item } : item);
        if (e?.type === 'subagent.started' && !children.has(e.data.childRunId)) {
          const stop = new AbortController();
          signal.addEventListener('abort', () => stop.abort(), { once: true });
          const done = follow(e.data.childRunId, { parentRunId: id, agent: e.data.agent, depth: depth + 1 }, stop.signal).catch(fail);
          children.set(e.data.childRunId, { stop, ended: false, done });
        }
      }
    } finally {
      for (const child of children.values()) if (!child.ended) child.stop.abort();
      await Promise.all([...children.values()].map((c) => c.done));
    }
  }

  /** The child's stream has delivered its ending (or the wait is over: a child that recorded none is let go). */
  async function untilEnded(child: Followed, signal: AbortSignal): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, CHILD_ENDING_MS)));
    const stopped = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    await Promise.race([child.done, late, stopped]);
    clearTimeout(timer);
    child.stop.abort();
  }

  const all = follow(runId, null, everything.signal).then(
    () => undefined,
    (err: unknown) => {
      failure ??= err;
    },
  );
  void all.finally(() => {
    finished = true;
    wake?.();
  });
  try {
    for (;;) {
      while (queue.length) yield queue.shift()!;
      if (finished) {
        if (failure !== undefined && !opts.signal?.aborted) throw failure;
        return;
      }
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  } finally {
    opts.signal?.removeEventListener('abort', stopAll);
    everything.abort();
    await all;
  }
}
