/** Claude through the official SDK, streaming. SDK retries are off: Temporal owns retries. */
import Anthropic from '@anthropic-ai/sdk';
import { withCacheBreakpoints } from './cache-breakpoints';
import type { AssistantBlock, ModelAdapter, ModelRequest, ModelResponse } from './model-adapter';
import { limitsFromHeaders, remainingFromHeaders } from './rate-limit-headers';

export class AnthropicModel implements ModelAdapter {
  private readonly client: Anthropic;

  constructor(opts: { apiKey: string; baseUrl?: string; requestTimeoutMs?: number }) {
    this.client = new Anthropic({
      apiKey: opts.apiKey,
      baseURL: opts.baseUrl,
      maxRetries: 0,
      timeout: opts.requestTimeoutMs ?? 10 * 60_000,
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

  async complete(req: ModelRequest): Promise<ModelResponse> {
    const prompt = req.promptCaching ? withCacheBreakpoints(req.system, req.messages) : { system: req.system, messages: req.messages };
    const stream = this.client.messages.stream(
      {
        model: req.model,
        max_tokens: req.maxTokens,
        system: prompt.system,
        messages: prompt.messages,
        tools: req.tools,
        ...(req.toolChoice === 'none' && { tool_choice: { type: 'none' as const } }),
      },
      { signal: req.signal },
    );
    stream.on('text', (delta) => req.onText(delta));
    const message = await stream.finalMessage();
    const content: AssistantBlock[] = [];
    for (const block of message.content) {
      if (block.type === 'text') content.push({ type: 'text', text: block.text });
      else if (block.type === 'tool_use') {
        content.push({ type: 'tool_use', id: block.id, name: block.name, input: (block.input ?? {}) as Record<string, unknown> });
      } else if (block.type === 'thinking') content.push({ type: 'thinking', thinking: block.thinking, signature: block.signature });
      else if (block.type === 'redacted_thinking') content.push({ type: 'redacted_thinking', data: block.data });
    }
    const u = message.usage;
    return {
      content,
      stopReason: message.stop_reason ?? 'end_turn',
      usage: {
        inputTokens: u.input_tokens,
        outputTokens: u.output_tokens,
        ...(u.cache_read_input_tokens && { cacheReadTokens: u.cache_read_input_tokens }),
        ...(u.cache_creation_input_tokens && { cacheWriteTokens: u.cache_creation_input_tokens }),
      },
      remaining: remainingFromHeaders(stream.response?.headers),
      limits: limitsFromHeaders(stream.response?.headers),
    };
  }
}
