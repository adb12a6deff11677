/**
 * An outside system for side-effect tests: records every request with its Idempotency-Key and,
 * like a well-behaved API, applies each key once (a repeat gets the first response back).
 * Requests can be held open to let a test kill a worker while a call is in flight.
 */
import type http from 'node:http';
import { listenLocally, type LocalServer } from './http-server';

export interface SeenRequest {
  method: string;
  path: string;
  idempotencyKey: string | undefined;
  body: string;
}

export class CountingServer {
  readonly requests: SeenRequest[] = [];
  /** Effects applied: one per distinct idempotency key (or per request without one). */
  readonly applied: SeenRequest[] = [];
  private readonly responses = new Map<string, string>();
  private server?: LocalServer;
  private holdMatching?: (r: SeenRequest) => boolean;
  /** Milliseconds to wait before answering each request (e.g. random, to widen crash windows). */
  responseDelay: () => number = () => 0;
  private readonly held: (() => void)[] = [];
  url = '';
  host = '';

  /** Requests matching `predicate` wait until `release()`; the server has seen them already. */
  hold(predicate: (r: SeenRequest) => boolean): void {
    this.holdMatching = predicate;
  }

  release(): void {
    this.holdMatching = undefined;
    for (const go of this.held.splice(0)) go();
  }

  heldCount(): number {
    return this.held.length;
  }

  async start(): Promise<void> {
    this.server = await listenLocally((req, res) => void this.handle(req, res));
    this.host = `127.0.0.1:${this.server.port}`;
    this.url = this.server.url;
  }

  async stop(): Promise<void> {
    this.release();
    await this.server?.stop();
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const seen: SeenRequest = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      idempotencyKey: req.headers['idempotency-key'] as string | undefined,
      body: Buffer.concat(chunks).toString('utf8'),
    };
    this.requests.push(seen);
    if (this.holdMatching?.(seen)) await new Promise<void>((resolve) => this.held.push(resolve));
    const delay = this.responseDelay();
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    if (res.destroyed) return;
    const key = seen.idempotencyKey;
    if (key && this.responses.has(key)) {
      res.writeHead(200, { 'content-type': 'application/json', 'idempotent-replayed': 'true' });
      res.end(this.responses.get(key));
      return;
    }
    this.applied.push(seen);
    const body = JSON.stringify({ ok: true, effect: this.applied.length, path: seen.path });
    if (key) this.responses.set(key, body);
    res.writeHead(seen.method === 'POST' ? 201 : 200, { 'content-type': 'application/json' });
    res.end(body);
  }
}
