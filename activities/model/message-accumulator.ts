/**
 * A streamed Messages API answer put together from its raw events (`messages.create({ stream: true })`).
 * The SDK's MessageStream does the same, but emits events and rebuilds its snapshot of the message on
 * every delta (a copy of the block, a new string, a partial parse of a tool's input), which was a large share
 * of a worker's CPU per streamed token under load (docs/benchmarks.md, issue 26). Here each block's text is
 * kept as pieces joined once, and a tool's input JSON is parsed once, when its block stops.
 *
 * Strict where MessageStream was lenient: a stream that ends before `message_stop` (the connection closed
 * mid-message) is an error, never a partial message taken for a whole one.
 */
import Anthropic from '@anthropic-ai/sdk';
import { partialParse } from '@anthropic-ai/sdk/_vendor/partial-json-parser/parser';
import type { AssistantBlock, ModelResponse } from './model-adapter';

type StreamEvent = Anthropic.Messages.RawMessageStreamEvent;

/** A block being streamed: its fixed fields, and its growing text (text, thinking, or a tool's input JSON) in pieces. */
type OpenBlock =
  | { type: 'text'; pieces: string[] }
  | { type: 'tool_use'; id: string; name: string; pieces: string[]; input: Record<string, unknown> }
  | { type: 'thinking'; pieces: string[]; signature: string }
  | { type: 'redacted_thinking'; data: string }
  /** A block Longhaul does not keep (server tools and the like): its events are read and dropped. */
  | { type: 'other' };

/** The message's token counts as the provider sends them: message_start's, then each message_delta's where it has them. */
interface Usage {
  input: number;
  output: number;
  cacheRead?: number | null;
  cacheWrite?: number | null;
}

/** A tool's input from its streamed JSON: `{}` when none came; a cut-off input (max_tokens) as far as it goes, as the SDK reads it. */
function parseToolInput(json: string, initial: Record<string, unknown>): Record<string, unknown> {
  if (json === '') return initial;
  let input: unknown;
  try {
    input = JSON.parse(json);
  } catch {
    input = partialParse(json);
  }
  return (input ?? {}) as Record<string, unknown>;
}

export class MessageAccumulator {
  private started = false;
  private stopped = false;
  private readonly blocks: OpenBlock[] = [];
  /** Blocks whose `content_block_stop` came, by index: their content, final. */
  private readonly done: (AssistantBlock | null)[] = [];
  private stopReason: string | null = null;
  private usage: Usage = { input: 0, output: 0 };

  /** `onText`: each piece of a text block's text, in order, as it arrives. */
  constructor(private readonly onText: (text: string) => void) {}

  add(event: StreamEvent): void {
    if (event.type === 'message_start') {
      if (this.started) throw new Anthropic.AnthropicError('unexpected message_start: the stream had already started a message');
      this.started = true;
      const u = event.message.usage;
      this.usage = { input: u.input_tokens, output: u.output_tokens, cacheRead: u.cache_read_input_tokens, cacheWrite: u.cache_creation_input_tokens };
      this.stopReason = event.message.stop_reason;
      return;
    }
    if (!this.started) throw new Anthropic.AnthropicError(`unexpected ${event.type} before message_start`);
    switch (event.type) {
      case 'content_block_start':
        this.blocks[event.index] = this.open(event.content_block);
        return;
      case 'content_block_delta': {
        const block = this.blocks[event.index];
        const delta = event.delta;
        if (delta.type === 'text_delta' && block?.type === 'text') {
          block.pieces.push(delta.text);
          this.onText(delta.text);
        } else if (delta.type === 'input_json_delta' && block?.type === 'tool_use') block.pieces.push(delta.partial_json);
        else if (delta.type === 'thinking_delta' && block?.type === 'thinking') block.pieces.push(delta.thinking);
        else if (delta.type === 'signature_delta' && block?.type === 'thinking') block.signature = delta.signature;
        return;
      }
      case 'content_block_stop':
        this.done[event.index] = this.close(this.blocks[event.index]);
        return;
      case 'message_delta': {
        this.stopReason = event.delta.stop_reason;
        const u = event.usage;
        // Output tokens so far; the other counters are the message's totals, sent only when they apply.
        this.usage.output = u.output_tokens;
        if (u.input_tokens != null) this.usage.input = u.input_tokens;
        if (u.cache_read_input_tokens != null) this.usage.cacheRead = u.cache_read_input_tokens;
        if (u.cache_creation_input_tokens != null) this.usage.cacheWrite = u.cache_creation_input_tokens;
        return;
      }
      case 'message_stop':
        this.stopped = true;
        return;
    }
  }

  private open(block: Anthropic.Messages.ContentBlock): OpenBlock {
    switch (block.type) {
      case 'text':
        if (block.text) this.onText(block.text);
        return { type: 'text', pieces: block.text ? [block.text] : [] };
      case 'tool_use':
        return { type: 'tool_use', id: block.id, name: block.name, pieces: [], input: (block.input ?? {}) as Record<string, unknown> };
      case 'thinking':
        return { type: 'thinking', pieces: block.thinking ? [block.thinking] : [], signature: block.signature };
      case 'redacted_thinking':
        return { type: 'redacted_thinking', data: block.data };
      default:
        return { type: 'other' };
    }
  }

  private close(block: OpenBlock | undefined): AssistantBlock | null {
    switch (block?.type) {
      case 'text':
        return { type: 'text', text: block.pieces.join('') };
      case 'tool_use':
        return { type: 'tool_use', id: block.id, name: block.name, input: parseToolInput(block.pieces.join(''), block.input) };
      case 'thinking':
        return { type: 'thinking', thinking: block.pieces.join(''), signature: block.signature };
      case 'redacted_thinking':
        return { type: 'redacted_thinking', data: block.data };
      default:
        return null;
    }
  }

  /**
   * The whole message, once `message_stop` came. A stream that ended before (the connection closed
   * mid-message, or nothing came at all) is a connection failure: Temporal retries the call.
   */
  result(): Pick<ModelResponse, 'content' | 'stopReason' | 'usage'> {
    if (!this.stopped) {
      throw new Anthropic.APIConnectionError({ message: this.started ? 'the model stream ended before the message did' : 'the model stream ended before a message started' });
    }
    const content: AssistantBlock[] = [];
    for (let i = 0; i < this.blocks.length; i++) {
      // A block whose stop never came is closed here, as MessageStream's snapshot would have kept it.
      const block = i in this.done ? this.done[i] : this.close(this.blocks[i]);
      if (block) content.push(block);
    }
    const u = this.usage;
    return {
      content,
      stopReason: this.stopReason ?? 'end_turn',
      usage: { inputTokens: u.input, outputTokens: u.output, ...(u.cacheRead && { cacheReadTokens: u.cacheRead }), ...(u.cacheWrite && { cacheWriteTokens: u.cacheWrite }) },
    };
  }
}
