/**
 * Where a call marks Anthropic prompt-cache breakpoints, so a long run reads most of its context
 * from the cache. The prefix order is tools → system → messages; three breakpoints (of the four
 * allowed) cover it:
 *   - the system prompt: caches tools and system, the same for every call;
 *   - the end of the previous turn (the user message before the newest one): exactly the prefix
 *     the previous call wrote, so this call reads it;
 *   - the end of the newest message: written now, read by the next call.
 * Pure: takes the request's parts, returns them marked; the stored transcript is not touched.
 */
import type Anthropic from '@anthropic-ai/sdk';
import type { MessageParam } from './model-adapter';

const EPHEMERAL = { type: 'ephemeral' } as const;

type Block = Anthropic.Messages.ContentBlockParam;

/** Blocks that may carry `cache_control` (thinking blocks may not). */
function markable(block: Block): boolean {
  return block.type !== 'thinking' && block.type !== 'redacted_thinking';
}

function markLastBlock(message: MessageParam): MessageParam {
  const blocks: Block[] = typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : [...message.content];
  for (let i = blocks.length - 1; i >= 0; i--) {
    const block = blocks[i]!;
    if (!markable(block)) continue;
    blocks[i] = { ...block, cache_control: EPHEMERAL } as Block;
    return { ...message, content: blocks } as MessageParam;
  }
  return message;
}

export function withCacheBreakpoints(system: string, messages: MessageParam[]): { system: Anthropic.Messages.TextBlockParam[]; messages: MessageParam[] } {
  const marked = [...messages];
  const userIndexes = marked.flatMap((m, i) => (m.role === 'user' ? [i] : []));
  const last = marked.length - 1;
  const previousTurnEnd = userIndexes.filter((i) => i < last).pop();
  if (previousTurnEnd !== undefined) marked[previousTurnEnd] = markLastBlock(marked[previousTurnEnd]!);
  if (last >= 0) marked[last] = markLastBlock(marked[last]!);
  return { system: [{ type: 'text', text: system, cache_control: EPHEMERAL }], messages: marked };
}
