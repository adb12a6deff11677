/** Claude through the official SDK, streaming. SDK retries are off: Temporal owns retries. */
import Anthropic from '@anthropic-ai/sdk';
import type { AssistantBlock, ModelAdapter, ModelRequest, ModelResponse } from './model-adapter';

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

  async complete(req: ModelRequest): Promise<ModelResponse> {
    const stream = this.client.messages.stream(
      {
        model: req.model,
        max_tokens: req.maxTokens,
        system: req.system,
        messages: req.messages,
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
    return {
      content,
      stopReason: message.stop_reason ?? 'end_turn',
      usage: { inputTokens: message.usage.input_tokens, outputTokens: message.usage.output_tokens },
    };
  }
}
