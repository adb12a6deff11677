/**
 * One WebSocket for the whole page, shared by every view that follows a run. It authenticates with
 * a single-use ticket, reconnects on its own (backing off), and resubscribes each run with the last
 * seq the page has — so after a drop, a server restart or a 4008 "too slow", the page resumes with
 * no gap and no duplicate.
 */
import { api } from './api';
import type { ServerMessage } from './types';

export type ConnectionState = 'connecting' | 'live' | 'reconnecting' | 'offline';
type Handler = (msg: ServerMessage) => void;

interface Sub {
  after: number;
  handlers: Set<Handler>;
}

class LiveConnection {
  private ws?: WebSocket;
  private readonly subs = new Map<string, Sub>();
  private state: ConnectionState = 'connecting';
  private readonly stateListeners = new Set<(s: ConnectionState) => void>();
  private attempts = 0;
  private started = false;
  private timer?: ReturnType<typeof setTimeout>;

  get connectionState(): ConnectionState {
    return this.state;
  }

  onState(listener: (s: ConnectionState) => void): () => void {
    this.stateListeners.add(listener);
    listener(this.state);
    return () => this.stateListeners.delete(listener);
  }

  /** Follow a run from `after`. The page tells us each seq it has seen through `advance`. */
  subscribe(runId: string, after: number, handler: Handler): () => void {
    let sub = this.subs.get(runId);
    if (!sub) {
      sub = { after, handlers: new Set() };
      this.subs.set(runId, sub);
      this.send({ type: 'subscribe', runId, after });
    }
    sub.handlers.add(handler);
    this.ensureStarted();
    return () => {
      sub.handlers.delete(handler);
      if (sub.handlers.size === 0) {
        this.subs.delete(runId);
        this.send({ type: 'unsubscribe', runId });
      }
    };
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
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  private async connect(): Promise<void> {
    clearTimeout(this.timer);
    this.setState(this.attempts === 0 ? 'connecting' : 'reconnecting');
    let ticket: string;
    try {
      ticket = (await api<{ ticket: string }>('POST', '/api/ws-ticket')).ticket;
    } catch {
      return this.retry();
    }
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws?ticket=${encodeURIComponent(ticket)}`;
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.onopen = () => {
      this.attempts = 0;
      this.setState('live');
      for (const [runId, sub] of this.subs) ws.send(JSON.stringify({ type: 'subscribe', runId, after: sub.after }));
    };
    ws.onmessage = (e) => {
      const msg = JSON.parse(String(e.data)) as ServerMessage;
      const runId = msg.runId;
      if (!runId) return;
      const sub = this.subs.get(runId);
      if (!sub) return;
      if (msg.type === 'event') sub.after = Math.max(sub.after, msg.event.seq);
      for (const h of sub.handlers) h(msg);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      this.retry();
    };
  }

  private retry(): void {
    this.attempts += 1;
    this.setState(this.attempts > 5 ? 'offline' : 'reconnecting');
    const delay = Math.min(10_000, 500 * 2 ** Math.min(this.attempts - 1, 5));
    this.timer = setTimeout(() => void this.connect(), delay);
  }

  /** Try right away (the user clicked "reconnect", or the tab came back online). */
  reconnectNow(): void {
    if (this.ws) return;
    this.attempts = 0;
    void this.connect();
  }
}

export const live = new LiveConnection();
addEventListener('online', () => live.reconnectNow());
