/**
 * The model's HTTP transport (activities/model/http-transport.ts): the SDK's `fetch` over node:http. What the
 * global fetch gave the SDK must still come out of it: the request as built, the status and headers, a body read as
 * it arrives (a buffered stream would hold every token back), aborts as AbortErrors, kept-alive connections that
 * are closed once idle but never while a slow answer is still coming, and failures the SDK classifies as before.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import type http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import Anthropic from '@anthropic-ai/sdk';
import { AnthropicModel } from '../../activities/model/anthropic-model';
import { classifyModelError } from '../../activities/model/classify-error';
import { createHttpFetch, modelFetch } from '../../activities/model/http-transport';
import type { ModelRequest } from '../../activities/model/model-adapter';
import { FailureType } from '../../contract/failures';
import { loadConfig } from '../../shared/config';
import { createModelResolver } from '../../worker/activity-deps';
import { listenLocally, type LocalServer } from '../support/http-server';

/** What the server saw of a request. */
interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  port: number;
}

describe('the model’s fetch over node:http', () => {
  let server: LocalServer;
  let respond: (req: http.IncomingMessage, res: http.ServerResponse) => void = (_req, res) => res.end();
  const seen: Seen[] = [];
  /** Client ports whose connection the server saw close. */
  const closed = new Set<number>();
  const watched = new WeakSet<Socket>();

  beforeAll(async () => {
    server = await listenLocally((req, res) => {
      const chunks: Buffer[] = [];
      const port = req.socket.remotePort!;
      if (!watched.has(req.socket)) {
        watched.add(req.socket);
        req.socket.on('close', () => closed.add(port));
      }
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString(), port });
        respond(req, res);
      });
    });
  });
  afterAll(() => server.stop());
  beforeEach(() => (seen.length = 0));

  const waitFor = async (condition: () => boolean, what: string, withinMs = 5_000) => {
    const deadline = Date.now() + withinMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };

  it('sends the request as built and hands back the status, the headers and a body read as it arrives', async () => {
    let readFirst: () => void = () => undefined;
    const firstRead = new Promise<void>((resolve) => (readFirst = resolve));
    respond = (_req, res) => {
      res.writeHead(201, { 'x-answer': 'yes' });
      res.write('first ');
      // The rest only once the client has read the first piece: a transport that buffered the body would wait here for ever.
      void firstRead.then(() => res.end('second'));
    };
    const res = await createHttpFetch()(`${server.url}/v1/messages?beta=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'sk-test' },
      body: JSON.stringify({ hello: 'wörld' }),
    });
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/v1/messages?beta=true', body: '{"hello":"wörld"}' });
    expect(seen[0]!.headers).toMatchObject({ 'content-type': 'application/json', 'x-api-key': 'sk-test', 'content-length': String(Buffer.byteLength('{"hello":"wörld"}')) });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-answer')).toBe('yes');
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(Buffer.from(first.value!).toString()).toBe('first ');
    readFirst();
    let rest = '';
    for (let next = await reader.read(); !next.done; next = await reader.read()) rest += Buffer.from(next.value).toString();
    expect(rest).toBe('second');
  });

  it('keeps a connection for the next call, closes it once idle, and never cuts a slow body that pauses longer than that', async () => {
    const fetchOver = createHttpFetch({ idleConnectionMs: 100 });
    respond = (_req, res) => res.end('ok');
    await (await fetchOver(`${server.url}/one`)).text();
    await (await fetchOver(`${server.url}/two`)).text();
    expect(seen[1]!.port).toBe(seen[0]!.port);
    // Within 2 s: Node's agent would close it anyway at 4 s, from the server's own `Keep-Alive: timeout=5`.
    await waitFor(() => closed.has(seen[0]!.port), 'the idle connection to close', 2_000);

    respond = (_req, res) => {
      res.write('before the pause, ');
      setTimeout(() => res.end('and after it'), 400);
    };
    expect(await (await fetchOver(`${server.url}/slow`)).text()).toBe('before the pause, and after it');
    expect(seen[2]!.port).not.toBe(seen[0]!.port);
  });

  it('ends with an AbortError when aborted: before the answer, and while its body is being read', async () => {
    respond = () => undefined; // never answers
    const early = new AbortController();
    const pending = createHttpFetch()(`${server.url}/never`, { signal: early.signal });
    await waitFor(() => seen.length === 1, 'the request to arrive');
    early.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });

    respond = (_req, res) => res.write('a part, then nothing');
    const late = new AbortController();
    const res = await createHttpFetch()(`${server.url}/held`, { signal: late.signal });
    const reader = res.body!.getReader();
    await reader.read();
    late.abort();
    await expect(reader.read()).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('decompresses a compressed body, and gives a bodiless status no body', async () => {
    respond = (_req, res) => {
      res.writeHead(200, { 'content-encoding': 'gzip' });
      res.end(zlib.gzipSync('unzipped'));
    };
    expect(await (await createHttpFetch()(`${server.url}/gz`)).text()).toBe('unzipped');
    respond = (_req, res) => {
      res.writeHead(204);
      res.end();
    };
    const empty = await createHttpFetch()(`${server.url}/empty`);
    expect(empty.status).toBe(204);
    expect(empty.body).toBeNull();
  });

  it('over https: answers from a server whose certificate it trusts, and refuses one it does not', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'transport-tls-'));
    const [key, cert] = [path.join(dir, 'key.pem'), path.join(dir, 'cert.pem')];
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const tls = https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, (_req, res) => res.end('over tls'));
    await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
    const url = `https://127.0.0.1:${(tls.address() as AddressInfo).port}/`;
    try {
      expect(await (await createHttpFetch({ ca: fs.readFileSync(cert, 'utf8') })(url)).text()).toBe('over tls');
      await expect(createHttpFetch()(url)).rejects.toMatchObject({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    } finally {
      tls.closeAllConnections();
      await new Promise((resolve) => tls.close(resolve));
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a URL with credentials in it, as fetch does, and sends nothing', async () => {
    const refused = createHttpFetch()(`http://user:SECRET@127.0.0.1:${server.port}/`);
    await expect(refused).rejects.toThrow('a request URL may not hold credentials');
    await expect(refused).rejects.not.toThrow(/SECRET/);
    expect(seen).toHaveLength(0);
  });

  it('MODEL_HTTP_CLIENT=fetch hands the SDK the global fetch, which proxies set for it apply to', () => {
    expect(modelFetch('fetch')).toBe(globalThis.fetch);
    expect(modelFetch('node')).not.toBe(globalThis.fetch);
  });

  it('the worker’s model calls take the transport MODEL_HTTP_CLIENT names', async () => {
    respond = (_req, res) => {
      res.writeHead(529, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }));
    };
    const viaGlobalFetch = jest.spyOn(globalThis, 'fetch');
    try {
      for (const client of ['node', 'fetch'] as const) {
        viaGlobalFetch.mockClear();
        const config = loadConfig({ ANTHROPIC_API_KEY: 'sk-test', ANTHROPIC_BASE_URL: server.url, MODEL_HTTP_CLIENT: client });
        const call = createModelResolver(config)('claude-test').complete({ model: 'claude-test', system: 's', messages: [{ role: 'user', content: 'hi' }], tools: [], maxTokens: 10, signal: new AbortController().signal, onText: () => undefined });
        await expect(call).rejects.toBeInstanceOf(Anthropic.APIError);
        expect([client, viaGlobalFetch.mock.calls.length]).toEqual([client, client === 'fetch' ? 1 : 0]);
      }
      expect(seen).toHaveLength(2);
    } finally {
      viaGlobalFetch.mockRestore();
    }
  });

  describe('through the SDK, failures classified as before', () => {
    const request = (): ModelRequest => ({ model: 'claude-test', system: 'sys', messages: [{ role: 'user', content: 'hi' }], tools: [], maxTokens: 10, signal: new AbortController().signal, onText: () => undefined });
    const failureOf = (model: AnthropicModel) => model.complete(request()).then(() => new Error('answered'), (e: unknown) => e);

    it('an error status with its body: the provider’s status, message and retry-after', async () => {
      respond = (_req, res) => {
        res.writeHead(529, { 'content-type': 'application/json', 'retry-after': '7' });
        res.end(JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded right now' } }));
      };
      const err = await failureOf(new AnthropicModel({ apiKey: 'sk-test', baseUrl: server.url }));
      expect(err).toBeInstanceOf(Anthropic.APIError);
      expect((err as InstanceType<typeof Anthropic.APIError>).status).toBe(529);
      const failure = classifyModelError(err);
      expect(failure).toMatchObject({ type: FailureType.ModelOverloaded, nonRetryable: false, nextRetryDelay: 7_000 });
      expect(failure.message).toContain('Overloaded right now');
    });

    it('a refused connection: a connection error, retried', async () => {
      const gone = await listenLocally((_req, res) => res.end());
      await gone.stop();
      const err = await failureOf(new AnthropicModel({ apiKey: 'sk-test', baseUrl: gone.url }));
      expect(err).toBeInstanceOf(Anthropic.APIConnectionError);
      expect(classifyModelError(err, '127.0.0.1')).toMatchObject({ type: FailureType.ModelConnectionError, nonRetryable: false });
    });

    it('the SDK’s own request timeout: a connection timeout, retried', async () => {
      respond = () => undefined; // never answers
      const err = await failureOf(new AnthropicModel({ apiKey: 'sk-test', baseUrl: server.url, requestTimeoutMs: 200 }));
      expect(err).toBeInstanceOf(Anthropic.APIConnectionTimeoutError);
      expect(classifyModelError(err)).toMatchObject({ type: FailureType.ModelConnectionError, nonRetryable: false });
    });
  });
});
