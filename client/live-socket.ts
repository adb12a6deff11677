/**
 * One WebSocket shared by everything that follows runs (a page, a dashboard): it authenticates with
 * a single-use ticket, reconnects on its own (backing off), and resubscribes each run from the last
 * seq delivered — so after a drop, a server restart or a 4008 "too slow", followers resume with no
 * gap and no duplicate. Uses the platform's WebSocket (browsers, Node 22+) or one passed in.
 *
 * Except when the credential it was opened with ended: a close with 4401 (a key revoked or expired, a session
 * signed out or expired, a JWT past its `exp`), or a ticket refused with 401. Trying again with it is refused every
 * time, so the socket stops at once, its state is `unauthorized`, and `onError` hears a LonghaulError with status
 * 401 (`unauthorized` for a close; the ticket's own code, e.g. `key_revoked`, for a refused ticket).
 * `reconnectNow()` starts it again, once there is a new credential.
 */
import type { LiveMessage } from '../contract/api';
import { WS_CLOSE_CREDENTIAL_ENDED } from '../contract/errors';
import { LonghaulError } from './errors';

/** `unauthorized`: the credential ended; no reconnect until `reconnectNow()`. */
export type ConnectionState = 'connecting' | 'live' | 'reconnecting' | 'offline' | 'unauthorized';
export type LiveHandler = (msg: LiveMessage) => void;
/**
 * The runs feed: a run the user may see changed (`runId`), or `null` — anything may have changed
 * (the socket reconnected, or the server lost its own feed): re-read what you show.
 */
export type RunsChangeHandler = (change: Extract<LiveMessage, { type: 'runs.changed' }> | null) => void;

/** The part of the WebSocket API this uses (the browser's, Node's, or the `ws` package's). */
export interface SocketLike {
  readyState: number;
  send(data: string): void;
  close(): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: unknown) => void) | null;
}
export type SocketConstructor = new (url: string) => SocketLike;

const OPEN = 1;

interface Follow {
  after: number;
  handlers: Set<LiveHandler>;
}

export class LiveSocket {
  private ws?: SocketLike;
  private readonly follows = new Map<string, Follow>();
  private readonly runsHandlers = new Set<RunsChangeHandler>();
  private state: ConnectionState = 'connecting';
  private readonly stateListeners = new Set<(s: ConnectionState) => void>();
  private readonly errorListeners = new Set<(err: LonghaulError) => void>();
  private ended?: LonghaulError;
  private attempts = 0;
  private started = false;
  private closed = false;
  private timer?: ReturnType<typeof setTimeout>;

  constructor(
    private readonly opts: {
      /** A fresh single-use ticket (POST /api/ws-ticket). */
      ticket: () => Promise<string>;
      /** The socket URL for a ticket. */
      url: (ticket: string) => string;
      WebSocket?: SocketConstructor;
    },
  ) {}

  get connectionState(): ConnectionState {
    return this.state;
  }

  onState(listener: (s: ConnectionState) => void): () => void {
    this.stateListeners.add(listener);
    listener(this.state);
    return () => this.stateListeners.delete(listener);
  }

  /** Why the socket stopped for good (its credential ended), while it is `unauthorized`. */
  get error(): LonghaulError | undefined {
    return this.ended;
  }

  /** Told when the credential ended and the socket stopped (at once, if it already has). Returns the stop. */
  onError(listener: (err: LonghaulError) => void): () => void {
    this.errorListeners.add(listener);
    if (this.ended) listener(this.ended);
    return () => this.errorListeners.delete(listener);
  }

  /** Follow a run from `after`; every message for it goes to `handler`. Returns the unfollow. */
  subscribe(runId: string, after: number, handler: LiveHandler): () => void {
    let follow = this.follows.get(runId);
    if (!follow) {
      follow = { after, handlers: new Set() };
      this.follows.set(runId, follow);
      this.send({ type: 'subscribe', runId, after });
    }
    follow.handlers.add(handler);
    this.ensureStarted();
    return () => {
      follow.handlers.delete(handler);
      if (follow.handlers.size === 0) {
        this.follows.delete(runId);
        this.send({ type: 'unsubscribe', runId });
      }
    };
  }

  /**
   * Hear of every change to the runs the user may see (created, moved on, waiting, ended), for
   * lists and inboxes. Returns the stop.
   */
  watchRuns(handler: RunsChangeHandler): () => void {
    this.runsHandlers.add(handler);
    if (this.runsHandlers.size === 1) this.send({ type: 'watch-runs' });
    this.ensureStarted();
    return () => {
      this.runsHandlers.delete(handler);
      if (this.runsHandlers.size === 0) this.send({ type: 'unwatch-runs' });
    };
  }

  /** Try right away (the user asked, the network came back, or there is a new credential after `unauthorized`). */
  reconnectNow(): void {
    if (this.ws || this.closed) return;
    this.attempts = 0;
    this.ended = undefined;
    void this.connect();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.ws?.close();
    this.ws = undefined;
  }

  private ensureStarted(): void {
    if (this.started) return;
    this.started = true;
    void this.connect();
  }

  private setState(s: ConnectionState): void {
    if (s === this.state) return;
    this.state = s;
    for (const l of this.stateListeners) l(s);
  }

  private send(msg: unknown): void {
    if (this.ws?.readyState === OPEN) this.ws.send(JSON.stringify(msg));
  }

  private async connect(): Promise<void> {
    clearTimeout(this.timer);
    if (this.closed) return;
    this.setState(this.attempts === 0 ? 'connecting' : 'reconnecting');
    let ticket: string;
    try {
      ticket = await this.opts.ticket();
    } catch (err) {
      if (err instanceof LonghaulError && err.status === 401) return this.end(err);
      return this.retry();
    }
    const Socket = this.opts.WebSocket ?? (globalThis as unknown as { WebSocket: SocketConstructor }).WebSocket;
    const ws = new Socket(this.opts.url(ticket));
    this.ws = ws;
    ws.onopen = () => {
      this.attempts = 0;
      this.setState('live');
      for (const [runId, follow] of this.follows) ws.send(JSON.stringify({ type: 'subscribe', runId, after: follow.after }));
      if (this.runsHandlers.size > 0) {
        ws.send(JSON.stringify({ type: 'watch-runs' }));
        // Whatever changed while there was no socket was not heard: have every watcher re-read.
        for (const h of this.runsHandlers) h(null);
      }
    };
    ws.onmessage = (e) => {
      const msg = JSON.parse(String(e.data)) as LiveMessage;
      if (msg.type === 'runs.changed' || msg.type === 'runs.resync') {
        for (const h of this.runsHandlers) h(msg.type === 'runs.changed' ? msg : null);
        return;
      }
      const runId = msg.runId;
      if (!runId) return;
      const follow = this.follows.get(runId);
      if (!follow) return;
      if (msg.type === 'event') follow.after = Math.max(follow.after, msg.event.seq);
      for (const h of follow.handlers) h(msg);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      const { code, reason } = (ev ?? {}) as { code?: unknown; reason?: unknown };
      if (code === WS_CLOSE_CREDENTIAL_ENDED) {
        const why = typeof reason === 'string' && reason ? reason : 'the credential this socket was opened with no longer works';
        return this.end(new LonghaulError(401, 'unauthorized', why));
      }
      this.retry();
    };
  }

  /** The credential ended: no more tries with it. */
  private end(err: LonghaulError): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.ended = err;
    this.setState('unauthorized');
    for (const l of this.errorListeners) l(err);
  }

  private retry(): void {
    if (this.closed) return;
    this.attempts += 1;
    this.setState(this.attempts > 5 ? 'offline' : 'reconnecting');
    const delay = Math.min(10_000, 500 * 2 ** Math.min(this.attempts - 1, 5));
    this.timer = setTimeout(() => void this.connect(), delay);
  }
}
