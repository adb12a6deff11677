/**
 * `runs.watch(id, { after })`: follow one run as an async iterator. It reads the SSE stream, and
 * when the connection drops it reconnects by itself from the last event seq it delivered, so the
 * caller sees every event once, in order, with no gap. Token deltas are reassembled into the text
 * of each turn: a piece the caller already has is not repeated (a reconnect starts with the text so
 * far), and when a model call is retried (`delta.reset`, or an `llm.retry` event caught up after a
 * reconnect) the partial text is discarded and the caller told so. Ends after the run's final
 * event, when the signal aborts, or with a LonghaulError the server gave (401, 404) — or `run_access_ended`
 * (403) when the caller's roles changed so that they may no longer see the run: its feed has stopped, so
 * the watch ends rather than reconnect. A credential that ended (key revoked, session signed out) ends
 * the stream; the reconnect is refused with its 401 (`key_revoked`, `session_expired`, …), which ends the watch.
 */
import type { LiveMessage, RunView } from '../contract/api';
import { isRunEnding, type RunEvent } from '../contract/events';
import { routePath } from '../contract/paths';
import { isTransient, LonghaulError } from './errors';
import type { Http } from './http';
import { readSse } from './sse';

export type WatchItem =
  /** The run as it is when (re)connected. */
  | { type: 'snapshot'; run: RunView }
  /** A transcript event, each seq once, in order. */
  | { type: 'event'; event: RunEvent }
  /** New text of turn `turn`'s message: `delta` is what was added, `text` all of it so far. */
  | { type: 'text'; turn: number; delta: string; text: string }
  /** The model call of `turn` is being retried: forget its text so far. */
  | { type: 'text.reset'; turn: number }
  /** The connection dropped; the watcher reconnects by itself from the last seq. */
  | { type: 'reconnecting'; attempt: number; reason: string };

export interface WatchOptions {
  /** Deliver events with seq greater than this (0: from the start). */
  after?: number;
  signal?: AbortSignal;
  /** Keep following after the run's final event (a later follow-up may continue it). Default false. */
  follow?: boolean;
  /** Backoff between reconnects, ms: first and most. */
  retryMs?: { initial: number; max: number };
  /**
   * Follow the child runs its sub-agents start too (and theirs), each from its first event, as `child` items
   * labelled with the child's run id and agent (see watch-tree.ts). Children started before `after` are not
   * followed. Default false.
   */
  children?: boolean;
}

/** Reassembles token deltas into per-turn text. */
class TurnTexts {
  private readonly texts = new Map<number, string>();

  add(turn: number, offset: number, piece: string): WatchItem | undefined {
    const current = this.texts.get(turn) ?? '';
    if (offset > current.length) return undefined; // a gap: the turn's final message will carry the whole text
    const added = piece.slice(current.length - offset);
    if (!added) return undefined;
    const text = current + added;
    this.texts.set(turn, text);
    return { type: 'text', turn, delta: added, text };
  }

  reset(turn: number): WatchItem {
    this.texts.delete(turn);
    return { type: 'text.reset', turn };
  }

  /**
   * The turn's message is final: whatever of its text did not arrive as deltas (a watcher that joined after
   * the turn streamed, or a gap) comes now, so every turn's text is delivered whole, once.
   */
  finish(turn: number, text: string): WatchItem | undefined {
    const current = this.texts.get(turn) ?? '';
    this.texts.delete(turn);
    if (!text.startsWith(current) || text.length === current.length) return undefined;
    return { type: 'text', turn, delta: text.slice(current.length), text };
  }
}

export async function* watchRun(http: Http, runId: string, opts: WatchOptions = {}): AsyncGenerator<WatchItem> {
  let after = opts.after ?? 0;
  const texts = new TurnTexts();
  const retry = opts.retryMs ?? { initial: 250, max: 5000 };
  let attempt = 0;
  for (;;) {
    if (opts.signal?.aborted) return;
    let reason: string;
    // One controller per connection: however the watch ends (final event, caller stops, error), the
    // stream is closed rather than left open, holding a socket (and a CLI process) alive.
    const connection = new AbortController();
    const stop = () => connection.abort();
    opts.signal?.addEventListener('abort', stop, { once: true });
    try {
      const res = await http.fetch(http.url(`${routePath('streamRun', { id: runId })}?after=${after}`), {
        headers: http.headers({ accept: 'text/event-stream' }),
        signal: connection.signal,
      });
      if (!res.ok) throw await http.failure(res);
      if (!res.body) throw new LonghaulError(res.status, 'unexpected_response', 'the stream has no body');
      for await (const sse of readSse(res.body)) {
        const msg = JSON.parse(sse.data) as LiveMessage;
        attempt = 0; // the connection works
        switch (msg.type) {
          case 'snapshot':
            yield { type: 'snapshot', run: msg.progress };
            break;
          case 'event': {
            const e = msg.event;
            if (e.seq <= after) break; // already delivered before a reconnect
            after = e.seq;
            if (e.type === 'llm.retry') yield texts.reset(e.data.turn);
            if (e.type === 'llm.message') {
              const rest = texts.finish(e.data.turn, e.data.text);
              if (rest) yield rest;
            }
            yield { type: 'event', event: e };
            if (isRunEnding(e.type) && !opts.follow) return;
            break;
          }
          case 'delta': {
            const item = texts.add(msg.turn, msg.offset, msg.text);
            if (item) yield item;
            break;
          }
          case 'delta.reset':
            yield texts.reset(msg.turn);
            break;
          case 'error':
            throw liveError(msg);
        }
      }
      reason = 'the stream ended';
    } catch (err) {
      if (opts.signal?.aborted) return;
      if (!isTransient(err) && !isDroppedStream(err)) throw err;
      reason = err instanceof Error ? err.message : String(err);
    } finally {
      opts.signal?.removeEventListener('abort', stop);
      connection.abort();
    }
    attempt += 1;
    yield { type: 'reconnecting', attempt, reason };
    await sleep(Math.min(retry.max, retry.initial * 2 ** Math.min(attempt - 1, 10)), opts.signal);
  }
}

/**
 * A live error as the client's. `run_access_ended` is final (403, not retried: reconnecting would only be refused);
 * the others are status 0, so the watch reconnects and the server's answer to that decides.
 */
function liveError(msg: Extract<LiveMessage, { type: 'error' }>): LonghaulError {
  if (msg.code === 'run_access_ended') return new LonghaulError(403, 'run_access_ended', msg.message);
  return new LonghaulError(0, msg.code === 'run_not_found' ? 'run_not_found' : 'internal', msg.message);
}

/** A body that broke mid-read (connection reset, server gone): worth reconnecting. By name, not class: fetch's errors may come from another realm. */
function isDroppedStream(err: unknown): boolean {
  const e = err as { name?: unknown; message?: unknown } | null;
  return e?.name === 'TypeError' || /terminated|socket|ECONNRESET|aborted|network/i.test(String(e?.message ?? ''));
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
