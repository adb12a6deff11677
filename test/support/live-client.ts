/**
 * A WebSocket client for the live protocol (docs/api.md), strict about the guarantees: it records
 * any event out of seq order or repeated, and any delta that leaves a gap or repeats text.
 */
import WebSocket from 'ws';
import type { EventType, RunEvent, RunEventOf } from '../../contract/events';
import { waitFor } from './wait';

export type ServerMessage =
  | { type: 'snapshot'; runId: string; progress: any }
  | { type: 'event'; runId: string; event: RunEvent }
  | { type: 'delta'; runId: string; turn: number; offset: number; text: string }
  | { type: 'delta.reset'; runId: string; turn: number }
  | { type: 'runs.changed'; runId: string; status: string; lastSeq: number }
  | { type: 'runs.resync' }
  | { type: 'error'; code: string; message: string; runId?: string };

export class LiveClient {
  readonly messages: ServerMessage[] = [];
  /** Protocol violations seen: out-of-order or repeated events, gaps or repeats in text. */
  readonly violations: string[] = [];
  private readonly lastSeq = new Map<string, number>();
  private readonly text = new Map<string, string>();
  private readonly arrivals = new Set<{ predicate: (m: ServerMessage) => boolean; resolve: (arrived: { message: ServerMessage; at: number }) => void }>();
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => this.onMessage(JSON.parse(data.toString()) as ServerMessage));
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static connect(url: string, opts: { token?: string; cookie?: string; origin?: string; autoPong?: boolean } = {}): Promise<LiveClient> {
    const headers: Record<string, string> = {};
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.cookie) headers.cookie = opts.cookie;
    const ws = new WebSocket(url, { headers, origin: opts.origin, autoPong: opts.autoPong ?? true });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new LiveClient(ws)));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => reject(Object.assign(new Error(`handshake refused: ${res.statusCode} ${body}`), { status: res.statusCode, body })));
      });
      ws.once('error', reject);
    });
  }

  /** `after`: the last seq already seen (0 for everything). */
  subscribe(runId: string, after = 0): void {
    this.lastSeq.set(runId, after);
    this.ws.send(JSON.stringify({ type: 'subscribe', runId, after }));
  }

  /** Joins the user's runs feed: `runs.changed` for every run the user may see. */
  watchRuns(): void {
    this.ws.send(JSON.stringify({ type: 'watch-runs' }));
  }

  /** The statuses the runs feed reported for a run, in order. */
  runChanges(runId: string): string[] {
    return this.messages.filter((m): m is Extract<ServerMessage, { type: 'runs.changed' }> => m.type === 'runs.changed' && m.runId === runId).map((m) => m.status);
  }

  unsubscribe(runId: string): void {
    this.ws.send(JSON.stringify({ type: 'unsubscribe', runId }));
  }

  /**
   * The next message matching `predicate` and `performance.now()` when it arrived — taken in the socket's
   * message handler, for benchmarks (waitForMessage checks every 50 ms, too coarse to time with).
   */
  arrival(predicate: (m: ServerMessage) => boolean): Promise<{ message: ServerMessage; at: number }> {
    return new Promise((resolve) => this.arrivals.add({ predicate, resolve }));
  }

  private onMessage(msg: ServerMessage): void {
    const at = performance.now();
    for (const waiter of [...this.arrivals]) {
      if (!waiter.predicate(msg)) continue;
      this.arrivals.delete(waiter);
      waiter.resolve({ message: msg, at });
    }
    this.messages.push(msg);
    if (msg.type === 'event') {
      const last = this.lastSeq.get(msg.runId) ?? 0;
      if (msg.event.seq !== last + 1) this.violations.push(`event seq ${msg.event.seq} after ${last}`);
      this.lastSeq.set(msg.runId, Math.max(last, msg.event.seq));
    } else if (msg.type === 'delta') {
      const key = `${msg.runId}:${msg.turn}`;
      const have = this.text.get(key) ?? '';
      if (msg.offset !== have.length) this.violations.push(`delta for turn ${msg.turn} at offset ${msg.offset}, have ${have.length} chars`);
      this.text.set(key, have.slice(0, msg.offset) + msg.text);
    } else if (msg.type === 'delta.reset') {
      this.text.delete(`${msg.runId}:${msg.turn}`);
    }
  }

  events(runId: string): RunEvent[] {
    return this.messages.filter((m): m is Extract<ServerMessage, { type: 'event' }> => m.type === 'event' && m.runId === runId).map((m) => m.event);
  }

  seq(runId: string): number {
    return this.lastSeq.get(runId) ?? 0;
  }

  /** The model text assembled from deltas for a turn. */
  streamed(runId: string, turn: number): string {
    return this.text.get(`${runId}:${turn}`) ?? '';
  }

  async waitForMessage(predicate: (m: ServerMessage) => boolean, what: string, timeoutMs = 30_000): Promise<ServerMessage> {
    let found: ServerMessage | undefined;
    await waitFor(() => (found = this.messages.find(predicate)) !== undefined, { timeoutMs, what });
    return found!;
  }

  async waitForEvent<T extends EventType>(runId: string, type: T, timeoutMs = 30_000): Promise<RunEventOf<T>> {
    const m = await this.waitForMessage((x) => x.type === 'event' && x.runId === runId && x.event.type === type, `${type} on the socket`, timeoutMs);
    return (m as Extract<ServerMessage, { type: 'event' }>).event as RunEventOf<T>;
  }

  close(): void {
    this.ws.close();
  }

  terminate(): void {
    this.ws.terminate();
  }
}

export function wsUrl(httpUrl: string, query = ''): string {
  return `${httpUrl.replace(/^http/, 'ws')}/ws${query}`;
}
