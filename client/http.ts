/**
 * One HTTP call to the API with the client's auth, returning parsed JSON or throwing a
 * LonghaulError with the server's code. Plain `fetch`, so it runs in Node (18+) and in browsers.
 */
import type { ApiErrorBody } from '../contract/errors';
import { LonghaulError } from './errors';

export interface ClientOptions {
  /** Where the API is: `http://127.0.0.1:3000` (no trailing path). In a browser, '' means this origin. */
  baseUrl: string;
  /** A bearer token (API_TOKENS), or a function asked before each call. */
  token?: string | (() => string | undefined);
  /** Headers sent with every call (e.g. `X-Longhaul-Client`). */
  headers?: Record<string, string>;
  /** Another fetch (tests, proxies). Defaults to the global one. */
  fetch?: typeof fetch;
  /** Told when the server answers 401, before the error is thrown (a UI asks the user to sign in). */
  onUnauthorized?: () => void;
}

export class Http {
  constructor(private readonly opts: ClientOptions) {}

  url(path: string): string {
    return `${this.opts.baseUrl.replace(/\/$/, '')}${path}`;
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    const token = typeof this.opts.token === 'function' ? this.opts.token() : this.opts.token;
    return { ...(this.opts.headers ?? {}), ...(token ? { authorization: `Bearer ${token}` } : {}), ...extra };
  }

  fetch(url: string, init: RequestInit): Promise<Response> {
    const f = this.opts.fetch ?? globalThis.fetch;
    return f(url, init).catch((err: unknown) => {
      if ((err as { name?: string }).name === 'AbortError') throw err;
      throw new LonghaulError(0, 'network_error', `could not reach ${this.opts.baseUrl || 'the server'}: ${err instanceof Error ? err.message : String(err)}`);
    });
  }

  /** Throws the API's error for a non-2xx response. */
  async failure(res: Response): Promise<LonghaulError> {
    if (res.status === 401) this.opts.onUnauthorized?.();
    const text = await res.text().catch(() => '');
    try {
      const { error } = JSON.parse(text) as ApiErrorBody;
      return new LonghaulError(res.status, error.code, error.message, error.details);
    } catch {
      return new LonghaulError(res.status, 'unexpected_response', `HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`);
    }
  }

  async json<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, opts: { body?: unknown; headers?: Record<string, string>; query?: Record<string, string | number | undefined> } = {}): Promise<T> {
    const query = Object.entries(opts.query ?? {}).filter((e): e is [string, string | number] => e[1] !== undefined);
    const search = query.length ? `?${new URLSearchParams(query.map(([k, v]): [string, string] => [k, String(v)])).toString()}` : '';
    const headers = this.headers(opts.body === undefined ? opts.headers : { 'content-type': 'application/json', ...opts.headers });
    const res = await this.fetch(this.url(`${path}${search}`), { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
    if (!res.ok) throw await this.failure(res);
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }
}
