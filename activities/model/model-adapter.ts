/**
 * The one seam between Longhaul and a language model. Messages use Anthropic's wire shapes,
 * since Anthropic is the provider; the demo model speaks them too.
 */
import type Anthropic from '@anthropic-ai/sdk';
import type { ProviderRemaining } from './rate-limit-headers';

export type MessageParam = Anthropic.Messages.MessageParam;
export type ToolSchema = Anthropic.Messages.Tool;

/**
 * A block of an assistant message as stored and sent back. Thinking blocks are kept verbatim,
 * signature included: models that think between tool calls require them back unchanged.
 */
export type AssistantBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> }
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'redacted_thinking'; data: string };

export interface ModelRequest {
  model: string;
  system: string;
  messages: MessageParam[];
  tools: ToolSchema[];
  /** 'none': the model must answer in text (used for relay summaries). */
  toolChoice?: 'auto' | 'none';
  maxTokens: number;
  signal: AbortSignal;
  /** Called with each piece of streamed text, in order. */
  onText: (delta: string) => void;
  /** Mark the stable prefix (tools, system, the transcript up to the previous turn) for prompt caching. */
  promptCaching?: boolean;
}

export interface ModelResponse {
  content: AssistantBlock[];
  stopReason: string;
  /** `inputTokens`: uncached input; the cache's reads and writes apart. */
  usage: { inputTokens: number; outputTokens: number; cacheReadTokens?: number; cacheWriteTokens?: number };
  /** What the provider says is left of its rate limits after this call (absent: it did not say). */
  remaining?: ProviderRemaining;
  /** The per-minute limits the provider says the key has. */
  limits?: ProviderRemaining;
}

export interface ModelAdapter {
  complete(req: ModelRequest): Promise<ModelResponse>;
  /** Where calls go (`api.anthropic.com`), named in connection errors; absent for in-process models. */
  readonly host?: string;
}
