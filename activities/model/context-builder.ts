/**
 * Rebuilds what the model sees from the database: the goal, the latest relay summary (if the
 * run has handed off), then every turn since — each assistant message followed by its tool
 * results in tool_use order. The workflow never carries any of this.
 */
import type { Store } from '../../shared/store';
import type { StoredMessage } from '../../shared/store/messages';
import type { AssistantBlock, MessageParam } from './model-adapter';

export interface ToolResultContent {
  content: string;
  isError: boolean;
}

export interface SummaryContent {
  text: string;
  /** The summary covers turns up to and including this one. */
  throughTurn: number;
  /** Turns after `throughTurn - recentTurns` are replayed verbatim after the summary. */
  recentFromTurn: number;
}

export const MISSING_RESULT = 'This tool call did not complete (no result was recorded).';

export async function buildContext(store: Store, runId: string): Promise<MessageParam[]> {
  const run = await store.runs.get(runId);
  if (!run) throw new Error(`unknown run ${runId}`);
  const summary = await store.messages.latest(runId, 'summary');
  const summaryContent = summary?.content as SummaryContent | undefined;

  let opening = `Goal: ${run.goal}`;
  if (summaryContent) {
    opening +=
      `\n\nThis run has been going for a while and was handed off to you. ` +
      `Summary of the work so far (through turn ${summaryContent.throughTurn}):\n${summaryContent.text}`;
  }
  const rows = await store.messages.list(runId, {
    fromTurn: summaryContent?.recentFromTurn ?? 0,
    kinds: ['assistant', 'tool_result'],
  });
  return [{ role: 'user', content: opening }, ...turnsToMessages(rows)];
}

function turnsToMessages(rows: StoredMessage[]): MessageParam[] {
  const results = new Map<string, ToolResultContent>();
  for (const row of rows) {
    if (row.kind === 'tool_result' && row.toolUseId) results.set(row.toolUseId, row.content as ToolResultContent);
  }
  const messages: MessageParam[] = [];
  for (const row of rows.filter((r) => r.kind === 'assistant').sort((a, b) => a.turn - b.turn)) {
    const blocks = row.content as AssistantBlock[];
    messages.push({ role: 'assistant', content: blocks.length ? blocks : [{ type: 'text', text: '(no content)' }] });
    const toolUses = blocks.filter((b): b is Extract<AssistantBlock, { type: 'tool_use' }> => b.type === 'tool_use');
    if (toolUses.length === 0) continue;
    messages.push({
      role: 'user',
      content: toolUses.map((use) => {
        const result = results.get(use.id);
        return {
          type: 'tool_result' as const,
          tool_use_id: use.id,
          content: result?.content ?? MISSING_RESULT,
          is_error: result ? result.isError : true,
        };
      }),
    });
  }
  return messages;
}
