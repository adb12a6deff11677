/** Claude through the official SDK, streaming. SDK retries are off: Temporal owns retries. */
import Anthropic from '@anthropic-ai/sdk';
import { withCacheBreakpoints } from './cache-breakpoints';
import { createHttpFetch, type Fetch } from './http-transport';
import { MessageAccumulator } from './message-accumulator';
import type { ModelAdapter, ModelRequest, ModelResponse } from './model-adapter';
import { limitsFromHeaders, remainingFromHeaders } from './rate-limit-headers';

export class AnthropicModel implements ModelAdapter {
  private readonly client: Anthropic;

  /** `fetch`: how requests reach the provider; node:http by default (http-transport.ts). */
  constructor(opts: { apiKey: string; baseUrl?: string; requestTimeoutMs?: number; fetch?: Fetch }) {
    this.client = new Anthropic({
      apiKey: opts.apiKey,
      baseURL: opts.baseUrl,
      maxRetries: 0,
      timeout: opts.requestTimeoutMs ?? 10 * 60_000,
      // Over node:http, not the global fetch: a quarter less CPU a streamed delta (http-transport.ts).
      fetch: opts.fetch ?? createHttpFetch(),
    });
  }

  /** The host calls go to, for error messages that say where a connection failed. */
  get host(): string {
    return new URL(this.client.baseURL).host;
  }

  /** Lists the models the key may use: one cheap call that proves the endpoint and the key work. */
  async check(): Promise<string[]> {
    const page = await this.client.models.list({ limit: 100 });
    return page.data.map((m) => m.id);
  }

  /**
   * Reads the raw stream and puts the message together itself (message-accumulator.ts), rather than through
   * the SDK's MessageStream, whose events and per-delta snapshots cost more CPU than the rest of a token's
   * way through the worker's model call.
   */
  async complete(req: ModelRequest): Promise<ModelResponse> {
    const prompt = req.promptCaching ? withCacheBreakpoints(req.system, req.messages) : { system: req.system, messages: req.messages };
    const { data: stream, response } = await this.client.messages
      .create(
        {
          model: req.model,
          max_tokens: req.maxTokens,
          system: prompt.system,
          messages: prompt.messages,
          tools: req.tools,
          ...(req.toolChoice === 'none' && { tool_choice: { type: 'none' as const } }),
          stream: true,
        },
        { signal: req.signal },
      )
      .withResponse();
    const message = new MessageAccumulator(req.onText);
    for await (const event of stream) message.add(event);
    // A cancelled call's stream ends quietly (the SDK swallows the abort): it must not read as an answer.
    if (req.signal.aborted) throw new Anthropic.APIUserAbortError();
    return { ...message.result(), remaining: remainingFromHeaders(response.headers), limits: limitsFromHeaders(response.headers) };
  }
}
