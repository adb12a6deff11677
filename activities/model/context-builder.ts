/**
 * Rebuilds what the model sees from the database: the goal, the latest relay summary (if the
 * run has handed off), then every turn since — each assistant message followed by its tool
 * results in tool_use order. The workflow never carries any of this.
 */
import type { Store } from '../../shared/store';
import type { StoredMessage } from '../../shared/store/messages';
import type { RunRecord } from '../../shared/store/runs';
import type Anthropic from '@anthropic-ai/sdk';
import type { UserMessageContent } from '../follow-up-activities';
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

/** Runs a worker remembers: what a model call reads of a run (its goal, input, agent) never changes once it is created. */
const REMEMBERED_RUNS = 1000;

/** Longhaul's own word to the model between turns (MessageKind `instruction`), joining before the turn it is stored at. */
export interface InstructionContent {
  text: string;
}

/** What the model's first message starts with: the run's structured input as JSON when it has one, else its goal. */
export function openingOf(run: { goal: string; input: unknown }): string {
  return run.input === null || run.input === undefined ? `Goal: ${run.goal}` : `Input: ${JSON.stringify(run.input)}`;
}

/** A run's opening line, as the database has it; an unknown run is an error. */
async function readOpening(store: Store, runId: string): Promise<string> {
  const run = await store.runs.get(runId);
  if (!run) throw new Error(`unknown run ${runId}`);
  return openingOf(run);
}

/**
 * Reads each run once, remembering the latest runs': a model call needs its goal or input and agent every turn,
 * which never change. Only those: the rest of the record (status, version, usage) is as it was at the first read.
 */
export function createRunReader(store: Store): (runId: string) => Promise<RunRecord> {
  const runs = new Map<string, RunRecord>();
  return async (runId) => {
    let run = runs.get(runId);
    if (run === undefined) {
      run = await store.runs.get(runId);
      if (!run) throw new Error(`unknown run ${runId}`);
      if (runs.size >= REMEMBERED_RUNS) runs.delete(runs.keys().next().value!);
      runs.set(runId, run);
    }
    return run;
  };
}

/**
 * The conversation so far. `given.opening`: its first line, from the run the caller has read already
 * (see openingOf); absent: read from the database.
 */
export async function buildContext(store: Store, runId: string, given?: { opening: string }): Promise<MessageParam[]> {
  let opening = given?.opening ?? (await readOpening(store, runId));
  // The latest summary, and the messages from its recent turns on (all of them before the first hand-off).
  const { summary, rows } = await store.messages.conversation(runId, ['assistant', 'tool_result', 'user', 'instruction']);
  const summaryContent = summary?.content as SummaryContent | undefined;
  if (summaryContent) {
    opening +=
      `\n\nThis run has been going for a while and was handed off to you. ` +
      `Summary of the work so far (through turn ${summaryContent.throughTurn}):\n${summaryContent.text}`;
  }
  return conversation(opening, rows);
}

type UserBlock = Anthropic.Messages.TextBlockParam | Anthropic.Messages.ToolResultBlockParam;

/** A follow-up message as the model reads it. */
function followUpText(m: UserMessageContent): string {
  return `[Follow-up message from ${m.by}]\n${m.text}`;
}

/**
 * The turns as alternating user and assistant messages: before each assistant turn, one user
 * message holding what came since the last — the goal (first), the previous turn's tool results
 * in tool_use order, then any follow-up messages and Longhaul's instructions that joined before this turn.
 */
function conversation(opening: string, rows: StoredMessage[]): MessageParam[] {
  const results = new Map<string, ToolResultContent>();
  const followUps: { turn: number; text: string }[] = [];
  for (const row of rows) {
    if (row.kind === 'tool_result' && row.toolUseId) results.set(row.toolUseId, row.content as ToolResultContent);
    if (row.kind === 'user') followUps.push({ turn: row.turn, text: followUpText(row.content as UserMessageContent) });
    if (row.kind === 'instruction') followUps.push({ turn: row.turn, text: (row.content as InstructionContent).text });
  }
  const followUpsUpTo = (turn: number): UserBlock[] => {
    const due = followUps.filter((f) => f.turn <= turn);
    followUps.splice(0, followUps.length, ...followUps.filter((f) => f.turn > turn));
    return due.map((f) => ({ type: 'text', text: f.text }));
  };

  const messages: MessageParam[] = [];
  let waiting: UserBlock[] = [{ type: 'text', text: opening }];
  const flush = () => {
    // The goal alone stays a plain string, as runs without follow-ups have always sent it.
    const only = waiting.length === 1 ? waiting[0]! : undefined;
    if (waiting.length) messages.push({ role: 'user', content: only?.type === 'text' && only.text === opening ? opening : waiting });
    waiting = [];
  };
  for (const row of rows.filter((r) => r.kind === 'assistant').sort((a, b) => a.turn - b.turn)) {
    waiting.push(...followUpsUpTo(row.turn));
    flush();
    const blocks = row.content as AssistantBlock[];
    messages.push({ role: 'assistant', content: blocks.length ? blocks : [{ type: 'text', text: '(no content)' }] });
    for (const use of blocks.filter((b): b is Extract<AssistantBlock, { type: 'tool_use' }> => b.type === 'tool_use')) {
      const result = results.get(use.id);
      waiting.push({ type: 'tool_result', tool_use_id: use.id, content: result?.content ?? MISSING_RESULT, is_error: result ? result.isError : true });
    }
  }
  waiting.push(...followUpsUpTo(Number.MAX_SAFE_INTEGER));
  flush();
  return messages;
}
