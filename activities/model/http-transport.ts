/**
 * How the model's SDK reaches the provider: a `fetch` over `node:http`/`node:https` with a keep-alive agent, in
 * place of Node's global fetch (undici). The SDK still builds every request and reads every status and error body;
 * a streamed answer's events are read by server-sent-events.ts, from the Node stream under the body (claimNodeBody)
 * rather than through a web stream.
 *
 * Why: a streamed answer is hundreds of small reads, and undici's fetch pays for each in its WebAssembly HTTP
 * parser and the web streams between it and the SDK. Read through `node:http` (its parser is native), the same
 * deltas cost a quarter less CPU: 63–74 µs a delta through the global fetch, 46–52 µs through this, 500 streams at
 * once (`npm run bench -- model-transport`); the load's CPU a streamed token fell 15 % (docs/benchmarks.md, session
 * 17). Its events read from the Node stream itself, 28–38 % less again in the same bench (session 18).
 *
 * What a caller sees the same: an abort (the activity's cancellation, the SDK's request timeout) ends the request
 * or the body being read with an `AbortError`, which the SDK turns into its abort and timeout errors; a refused
 * or dropped connection rejects, and the SDK calls that a connection error; a body cut mid-stream errors the
 * stream; a URL with `user:password@` in it is refused, never sent as Basic auth.
 *
 * Not done: redirects are not followed (the Messages API does not send them), and proxies set for the global
 * fetch do not apply: MODEL_HTTP_CLIENT=fetch is for them. A body the SDK never sends here (a stream, a form)
 * goes through the global fetch.
 */
import http from 'node:http';
import https from 'node:https';
import { Readable, pipeline } from 'node:stream';
import zlib from 'node:zlib';
import type { ClientOptions } from '@anthropic-ai/sdk';

export type Fetch = NonNullable<ClientOptions['fetch']>;

/**
 * How long a connection may sit unused before it is closed, so a request never goes out on one the server is about
 * to close (as undici's default; a shorter `Keep-Alive: timeout` from the server wins, Node's agent reads it).
 */
export const IDLE_CONNECTION_MS = 4_000;

/** Statuses whose responses have no body (a `Response` refuses one). */
const NO_BODY = new Set([101, 204, 205, 304]);

/** The transport MODEL_HTTP_CLIENT names: this one (`node`), or the global fetch (`fetch`: proxies set for it apply). */
export function modelFetch(client: 'node' | 'fetch'): Fetch {
  return client === 'fetch' ? globalThis.fetch : createHttpFetch();
}

/**
 * `ca`: certificate authorities to trust over https instead of Node's own (the tests' self-signed one). A deployment
 * behind a private authority sets NODE_EXTRA_CA_CERTS, which this agent honours as the global fetch does.
 */
export function createHttpFetch(opts: { idleConnectionMs?: number; ca?: string } = {}): Fetch {
  const agentOptions = { keepAlive: true, timeout: opts.idleConnectionMs ?? IDLE_CONNECTION_MS };
  const agents = { http: new http.Agent(agentOptions), https: new https.Agent({ ...agentOptions, ...(opts.ca !== undefined && { ca: opts.ca }) }) };

  return (input, init = {}) => {
    const url = typeof input === 'string' ? new URL(input) : input instanceof URL ? input : undefined;
    const body = init.body ?? undefined;
    const plainBody = body === undefined || typeof body === 'string' || body instanceof Uint8Array;
    if (!url || !plainBody || (url.protocol !== 'http:' && url.protocol !== 'https:')) return fetch(input, init);
    // As fetch does: node:http would send them as Basic auth to whatever the URL names. Said without the URL.
    if (url.username !== '' || url.password !== '') return Promise.reject(new TypeError('a request URL may not hold credentials (user:password@)'));

    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, name) => (headers[name] = value));
    if (body !== undefined && headers['content-length'] === undefined) headers['content-length'] = String(Buffer.byteLength(body));
    const signal = init.signal ?? undefined;

    return new Promise<Response>((resolve, reject) => {
      if (signal?.aborted) return reject(abortError(signal));
      const secure = url.protocol === 'https:';
      const request = (secure ? https : http).request(url, { method: init.method ?? 'GET', headers, agent: secure ? agents.https : agents.http });
      let response: http.IncomingMessage | undefined;
      // The request, and the body once it is being read: both end with an AbortError (the SDK's test for an abort).
      const onAbort = () => {
        const err = abortError(signal!);
        response?.destroy(err);
        request.destroy(err);
        reject(err);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = () => signal?.removeEventListener('abort', onAbort);
      request.on('error', (err) => {
        done();
        reject(err);
      });
      request.on('response', (res) => {
        response = res;
        res.on('close', done);
        const status = res.statusCode ?? 0;
        const responseHeaders = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          if (value !== undefined) responseHeaders.set(name, Array.isArray(value) ? value.join(', ') : value);
        }
        const empty = NO_BODY.has(status) || init.method === 'HEAD';
        // Read to its end unseen; a socket error in it has a listener (nothing reads this body to hear it).
        if (empty) res.on('error', () => undefined).resume();
        resolve(new Response(empty ? null : webBodyOver(decoded(res)), { status, statusText: res.statusMessage, headers: responseHeaders }));
      });
      request.end(body);
    });
  };
}

/** Response bodies this transport made, and the Node stream under each, until a reader takes one or the other. */
const nodeStreams = new WeakMap<ReadableStream<Uint8Array>, { source: Readable; taken: 'web' | 'node' | null }>();

/**
 * The Node stream under a body this transport made, for a reader that reads it directly (server-sent-events.ts:
 * no web stream's promises a chunk); undefined for any other body, or one whose web stream was read from. Once
 * taken, the web stream has nothing more to give.
 */
export function claimNodeBody(body: ReadableStream<Uint8Array>): Readable | undefined {
  const entry = nodeStreams.get(body);
  if (!entry || entry.taken !== null) return undefined;
  entry.taken = 'node';
  return entry.source;
}

/**
 * A web stream over `source`, joined to it only when first read, so that a reader taking the Node stream itself
 * (claimNodeBody) finds it untouched. Until then an error is held by the stream (`errored`), not thrown: a socket
 * that fails before anyone reads must not take the process down.
 */
function webBodyOver(source: Readable): ReadableStream<Uint8Array> {
  source.on('error', () => undefined);
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const entry = nodeStreams.get(body)!;
        if (entry.taken === 'node') return controller.error(new TypeError('the body is being read as a Node stream'));
        entry.taken = 'web';
        // A body that failed before this first read: Node 20 and 22 would give a web stream over it that simply ends.
        if (!reader && source.destroyed && !source.readableEnded) return controller.error(source.errored ?? new Error('the response body was closed before it was read'));
        reader ??= (Readable.toWeb(source) as ReadableStream<Uint8Array>).getReader();
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      cancel(reason) {
        source.destroy(reason instanceof Error ? reason : undefined);
      },
    },
    // Nothing is pulled before a read asks for it.
    { highWaterMark: 0 },
  );
  nodeStreams.set(body, { source, taken: null });
  return body;
}

/** The body as sent, or decompressed when the server compressed it (the SDK asks for no encoding; a proxy might). */
function decoded(res: http.IncomingMessage): Readable {
  const decompress = { gzip: zlib.createGunzip, 'x-gzip': zlib.createGunzip, deflate: zlib.createInflate, br: zlib.createBrotliDecompress }[String(res.headers['content-encoding'] ?? '').trim().toLowerCase()];
  if (!decompress) return res;
  // Joined both ways: the response's error ends the decompressor, and a reader that gives up on the decompressor
  // (destroys it) ends the response, and so its connection.
  return pipeline(res, decompress(), () => undefined);
}

/** An AbortError, as fetch gives: the signal's own reason when it is one (a timeout's), else a new one. */
function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name === 'AbortError') return reason;
  return new DOMException('This operation was aborted', 'AbortError');
}
