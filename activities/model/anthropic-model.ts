/** Claude through the official SDK, streaming. SDK retries are off: Temporal owns retries. */
import Anthropic, { APIError } from '@anthropic-ai/sdk';
import { withCacheBreakpoints } from './cache-breakpoints';
import { createHttpFetch, type Fetch } from './http-transport';
import { MessageAccumulator } from './message-accumulator';
import type { ModelAdapter, ModelRequest, ModelResponse } from './model-adapter';
import { limitsFromHeaders, remainingFromHeaders } from './rate-limit-headers';
import { readServerSentEvents } from './server-sent-events';

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
   * Reads the raw event stream itself (server-sent-events.ts) and puts the message together itself
   * (message-accumulator.ts), rather than through the SDK's Stream and MessageStream: their promises an event,
   * and MessageStream's events and per-delta snapshots, cost more CPU than the rest of a token's way through the
   * worker's model call. The SDK still builds the request and turns an error status into its error.
   */
  async complete(req: ModelRequest): Promise<ModelResponse> {
    const prompt = req.promptCaching ? withCacheBreakpoints(req.system, req.messages) : { system: req.system, messages: req.messages };
    const response = await this.client.messages
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
      .asResponse();
    const message = new MessageAccumulator(req.onText);
    try {
      await readServerSentEvents(response, (event, data) => {
        // As the SDK reads its stream: pings and unnamed events are skipped, an `error` event is the provider's error.
        // Unlike the SDK, an event with no data line, or an empty name, counts as none (the standard's rule; the
        // API sends neither): such an `error` event leaves the message unfinished, itself a retryable failure.
        if (event === null || event === 'ping') return;
        if (event === 'error') throw streamError(data, response.headers);
        if (data !== '') message.add(JSON.parse(data) as RawStreamEvent);
      });
    } catch (err) {
      // The activity's cancellation (or the SDK's abort) ended the read: an abort, as the SDK reports one.
      if (req.signal.aborted) throw new Anthropic.APIUserAbortError();
      throw err;
    }
    if (req.signal.aborted) throw new Anthropic.APIUserAbortError();
    return { ...message.result(), remaining: remainingFromHeaders(response.headers), limits: limitsFromHeaders(response.headers) };
  }
}

type RawStreamEvent = Anthropic.Messages.RawMessageStreamEvent;

/** An `error` event inside a successful response (e.g. `overloaded_error` mid-message), as the SDK's own error. */
function streamError(data: string, headers: Headers): APIError {
  let body: object | string = data;
  try {
    body = JSON.parse(data) as object;
  } catch {
    // not JSON: its text is the error
  }
  return new APIError(undefined, body, undefined, headers);
}
