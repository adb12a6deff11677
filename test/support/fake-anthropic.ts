/**
 * A fake of Anthropic's Messages API over real HTTP, so the real `@anthropic-ai/sdk` is exercised:
 * SSE streaming (message_start … message_stop) with text and tool_use blocks and usage, plain
 * JSON responses, and injected failures (429 with retry-after, 529, 500, 401, an error event in
 * the middle of a stream, a stream that hangs).
 *
 * Tests script it per run: `fake.script(marker, handler)` answers every request whose goal
 * contains `marker`. The handler sees the request and how many assistant turns it already holds.
 *
 * A reply can also be paced as the real API paces it under load (`firstTokenMs`, `tokensPerSecond`):
 * test/support/agent-load.ts scripts a whole realistic workload with it (the `load` bench, issue 26).
 */
import type http from 'node:http';
import { listenLocally, type LocalServer } from './http-server';
import { FakePromptCache, tokensOf, type CountedUsage } from './fake-prompt-cache';
import { FakeRateLimiter, type FakeLimits } from './fake-rate-limits';

export interface FakeToolUse {
  id?: string;
  name: string;
  input: Record<string, unknown>;
}

export interface FakeReply {
  text?: string;
  toolUses?: FakeToolUse[];
  stopReason?: string;
  usage?: { input_tokens: number; output_tokens: number; cache_read_input_tokens?: number; cache_creation_input_tokens?: number };
  /** Characters per text_delta event. */
  chunkChars?: number;
  /** Pause between stream events, to make streams observable mid-flight. */
  delayMs?: number;
  /** Streamed: time from the response's headers to its first content block, as a real model's time to first token. */
  firstTokenMs?: number;
  /** Streamed: text deltas leave at this rate (4 characters a token), each when its last token is due, not all at once. */
  tokensPerSecond?: number;
  /** Stop after this many text characters and send an SSE error event instead of finishing. */
  errorAfterChars?: { chars: number; type: string };
  /** Stop after this many text characters and never answer again (a hung connection). */
  hangAfterChars?: number;
}

export interface FakeFailure {
  status: number;
  type?: string;
  message?: string;
  retryAfterSec?: number;
}

export interface FakeRequest {
  body: {
    model: string;
    messages: { role: string; content: unknown }[];
    system?: string | { type: 'text'; text: string }[];
    tools?: { name: string }[];
    tool_choice?: { type: string };
    stream?: boolean;
    max_tokens: number;
  };
  headers: http.IncomingHttpHeaders;
  /** Assistant messages already in the conversation: 0 on the first call of a run. */
  assistantTurns: number;
  /** The first user message (goal, plus any relay summary). */
  goal: string;
  /** Text of the latest tool results, in order. */
  lastToolResults: { tool_use_id: string; content: string; is_error?: boolean }[];
  /** Epoch ms the request arrived. */
  receivedAt: number;
  /** The client closed the stream before it finished (e.g. the activity was cancelled). */
  abandoned: boolean;
  /** With token counting on: the input as the provider counts it (uncached, cache reads, cache writes). */
  counted?: CountedUsage;
  /** Characters of text streamed so far (streamed replies only). */
  streamedChars?: number;
}

/** A reply, or a promise of one: a test may hold a model call until what it needs has happened. */
export type FakeHandler = (req: FakeRequest) => FakeReply | FakeFailure | Promise<FakeReply | FakeFailure>;

export function isFailure(r: FakeReply | FakeFailure): r is FakeFailure {
  return typeof (r as FakeFailure).status === 'number';
}

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

/** A request the limiter refused with a 429: which call, what it needed, what the bucket held. */
export interface FakeRefusal {
  goal: string;
  assistantTurns: number;
  /** Input tokens it counted toward the input limit (uncached input plus cache writes). */
  input: number;
  /** The `anthropic-ratelimit-*` headers sent with the 429: what was left. */
  remaining: Record<string, string>;
  receivedAt: number;
  /** The same turn of the same run had been sent before (a retried attempt sent again). */
  resent: boolean;
}

export class FakeAnthropic {
  readonly requests: FakeRequest[] = [];
  /** Every 429 the limiter answered, so a test that expects none can say which call it was and by how much. */
  readonly refusals: FakeRefusal[] = [];
  private readonly scripts: { marker: string; handler: FakeHandler }[] = [];
  private readonly failures = new Map<string, FakeFailure[]>();
  private server?: LocalServer;
  url = '';
  apiKey = 'test-key';
  private nextId = 1;
  /** Count tokens from what is sent (4 characters a token) and run the prompt cache, instead of a fixed usage. */
  countTokens = false;
  readonly promptCache = new FakePromptCache();
  limiter?: FakeRateLimiter;
  /** Called as each text delta leaves: the request, its text characters sent so far, `performance.now()` then (the load bench's clock). */
  onTextSent?: (req: FakeRequest, charsSoFar: number, at: number) => void;
  /** Keep every request in `requests` (off for long loads: each holds its whole transcript). */
  keepRequests = true;
  /** Called as each request arrives, whether or not it is kept. */
  onRequest?: (req: FakeRequest) => void;

  /** Enforce rate limits as the provider does (429 + retry-after when exceeded); turns token counting on. */
  setRateLimits(limits: FakeLimits): FakeRateLimiter {
    this.countTokens = true;
    this.limiter = new FakeRateLimiter(limits);
    return this.limiter;
  }

  /** Answer requests whose goal contains `marker` with `handler`. Later scripts win. */
  script(marker: string, handler: FakeHandler): void {
    this.scripts.unshift({ marker, handler });
  }

  /** The next requests for `marker` fail with these, in order, before the script answers. */
  failNext(marker: string, failures: FakeFailure[]): void {
    this.failures.set(marker, [...(this.failures.get(marker) ?? []), ...failures]);
  }

  requestsFor(marker: string): FakeRequest[] {
    return this.requests.filter((r) => r.goal.includes(marker));
  }

  async start(): Promise<void> {
    this.server = await listenLocally((req, res) => void this.handle(req, res));
    this.url = this.server.url;
  }

  async stop(): Promise<void> {
    await this.server?.stop();
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (req.method === 'GET' && req.url?.startsWith('/v1/models')) return this.listModels(req, res);
    if (req.method !== 'POST' || !req.url?.startsWith('/v1/messages')) {
      return this.sendError(res, { status: 404, message: `no route ${req.method} ${req.url}` });
    }
    // The SDK authenticates with `Authorization: Bearer <key>` (older versions: `x-api-key`).
    const presented = req.headers['x-api-key'] ?? /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (presented !== this.apiKey) {
      return this.sendError(res, { status: 401, message: 'invalid x-api-key' });
    }
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as FakeRequest['body'];
    const first = body.messages[0];
    // The goal as text, whether sent as a string or as blocks (a cache breakpoint turns it into blocks).
    const goal =
      typeof first?.content === 'string'
        ? first.content
        : Array.isArray(first?.content)
          ? (first.content as { type: string; text?: string }[]).map((b) => (b.type === 'text' ? (b.text ?? '') : JSON.stringify(b))).join('\n')
          : '';
    const last = body.messages[body.messages.length - 1];
    const lastToolResults = Array.isArray(last?.content)
      ? (last.content as { type: string; tool_use_id: string; content: string; is_error?: boolean }[])
          .filter((b) => b.type === 'tool_result')
          .map((b) => ({ tool_use_id: b.tool_use_id, content: b.content, is_error: b.is_error }))
      : [];
    const request: FakeRequest = {
      body,
      headers: req.headers,
      assistantTurns: body.messages.filter((m) => m.role === 'assistant').length,
      goal,
      lastToolResults,
      receivedAt: Date.now(),
      abandoned: false,
    };
    if (this.keepRequests) this.requests.push(request);
    this.onRequest?.(request);

    for (const [marker, queue] of this.failures) {
      if (goal.includes(marker) && queue.length) return this.sendError(res, queue.shift()!);
    }
    const counting = this.countTokens ? this.promptCache.count(body) : undefined;
    if (counting) request.counted = counting.usage;
    if (counting && this.limiter) {
      const input = counting.usage.input_tokens + counting.usage.cache_creation_input_tokens;
      const admitted = this.limiter.admit({ requests: 1, 'input-tokens': input, 'output-tokens': body.max_tokens });
      if (!admitted.ok) {
        const resent = this.requests.some((r) => r !== request && r.goal === goal && r.assistantTurns === request.assistantTurns);
        this.refusals.push({ goal, assistantTurns: request.assistantTurns, input, remaining: this.limiter.headers(), receivedAt: request.receivedAt, resent });
        return this.sendError(res, { status: 429, message: 'rate limit exceeded', retryAfterSec: admitted.retryAfterSec });
      }
    }
    counting?.commit();
    const script = this.scripts.find((s) => goal.includes(s.marker));
    let reply: FakeReply | FakeFailure = script ? await script.handler(request) : { text: 'Nothing scripted for this goal; done.' };
    if (isFailure(reply)) return this.sendError(res, reply);
    if (counting && !reply.usage) {
      const output = Math.max(1, tokensOf(JSON.stringify([reply.text ?? '', reply.toolUses ?? []])));
      reply = { ...reply, usage: { ...counting.usage, output_tokens: Math.min(output, body.max_tokens) } };
    }
    if (this.limiter && reply.usage) this.limiter.giveBack('output-tokens', body.max_tokens - reply.usage.output_tokens);
    if (body.stream) {
      let finished = false;
      res.on('close', () => {
        if (!finished) request.abandoned = true;
      });
      await this.stream(res, body.model, reply, (chars) => {
        request.streamedChars = chars;
        this.onTextSent?.(request, chars, performance.now());
      });
      finished = res.writableEnded;
      return;
    }
    return this.json(res, body.model, reply);
  }

  private listModels(req: http.IncomingMessage, res: http.ServerResponse): void {
    const presented = req.headers['x-api-key'] ?? /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (presented !== this.apiKey) return this.sendError(res, { status: 401, message: 'invalid x-api-key' });
    const ids = ['claude-sonnet-5-5', 'claude-opus-5-5', 'claude-haiku-4-5'];
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        data: ids.map((id) => ({ type: 'model', id, display_name: id, created_at: '2026-01-01T00:00:00Z' })),
        has_more: false,
        first_id: ids[0],
        last_id: ids[ids.length - 1],
      }),
    );
  }

  /** Every response carries the rate-limit headers while limits are enforced. */
  private rateLimitHeaders(): Record<string, string> {
    return this.limiter?.headers() ?? {};
  }

  private sendError(res: http.ServerResponse, f: FakeFailure): void {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'request-id': `req_fake_${this.nextId++}`, ...this.rateLimitHeaders() };
    if (f.retryAfterSec !== undefined) headers['retry-after'] = String(f.retryAfterSec);
    res.writeHead(f.status, headers);
    res.end(JSON.stringify({ type: 'error', error: { type: f.type ?? ERROR_TYPES[f.status] ?? 'api_error', message: f.message ?? `injected ${f.status}` } }));
  }

  private blocks(reply: FakeReply) {
    const blocks: ({ type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> })[] = [];
    if (reply.text) blocks.push({ type: 'text', text: reply.text });
    for (const t of reply.toolUses ?? []) blocks.push({ type: 'tool_use', id: t.id ?? `toolu_fake_${this.nextId++}`, name: t.name, input: t.input });
    const stopReason = reply.stopReason ?? (reply.toolUses?.length ? 'tool_use' : 'end_turn');
    const usage = reply.usage ?? { input_tokens: 100, output_tokens: 20 };
    return { blocks, stopReason, usage };
  }

  private json(res: http.ServerResponse, model: string, reply: FakeReply): void {
    const { blocks, stopReason, usage } = this.blocks(reply);
    res.writeHead(200, { 'content-type': 'application/json', ...this.rateLimitHeaders() });
    res.end(JSON.stringify({ id: `msg_fake_${this.nextId++}`, type: 'message', role: 'assistant', model, content: blocks, stop_reason: stopReason, stop_sequence: null, usage }));
  }

  private async stream(res: http.ServerResponse, model: string, reply: FakeReply, onText: (charsSoFar: number) => void = () => undefined): Promise<void> {
    const { blocks, stopReason, usage } = this.blocks(reply);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'request-id': `req_fake_${this.nextId++}`, ...this.rateLimitHeaders() });
    const delay = reply.delayMs ?? 0;
    const send = async (event: string, data: unknown) => {
      if (res.destroyed) return;
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    };
    await send('message_start', {
      type: 'message_start',
      message: { id: `msg_fake_${this.nextId++}`, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } },
    });
    await send('ping', { type: 'ping' });
    if (reply.firstTokenMs) await new Promise((r) => setTimeout(r, reply.firstTokenMs));
    // Paced text: each delta waits until its last token is due, counted from the first token (no drift from timers firing late).
    const firstTokenAt = performance.now();
    const pace = async (charsThrough: number) => {
      if (!reply.tokensPerSecond) return;
      const wait = firstTokenAt + (charsThrough / 4 / reply.tokensPerSecond) * 1000 - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    };
    let textSent = 0;
    for (const [index, block] of blocks.entries()) {
      if (block.type === 'text') {
        await send('content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
        const size = reply.chunkChars ?? 8;
        for (let i = 0; i < block.text.length; i += size) {
          if (reply.errorAfterChars && textSent >= reply.errorAfterChars.chars) {
            await send('error', { type: 'error', error: { type: reply.errorAfterChars.type, message: 'injected mid-stream error' } });
            res.end();
            return;
          }
          if (reply.hangAfterChars !== undefined && textSent >= reply.hangAfterChars) return; // never finish
          const piece = block.text.slice(i, i + size);
          await pace(textSent + piece.length);
          await send('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } });
          textSent += piece.length;
          onText(textSent);
        }
        await send('content_block_stop', { type: 'content_block_stop', index });
      } else {
        await send('content_block_start', { type: 'content_block_start', index, content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} } });
        const json = JSON.stringify(block.input);
        const mid = Math.floor(json.length / 2);
        for (const part of [json.slice(0, mid), json.slice(mid)]) {
          await send('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: part } });
        }
        await send('content_block_stop', { type: 'content_block_stop', index });
      }
    }
    await send('message_delta', { type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: usage.output_tokens } });
    await send('message_stop', { type: 'message_stop' });
    res.end();
  }
}
