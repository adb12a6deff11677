/**
 * What Longhaul says to the model besides the run's own conversation: the system prompt every call
 * sends, and the instruction that asks for the relay's hand-off summary.
 */
import type { MessageParam } from './model-adapter';

export const SYSTEM_PROMPT = [
  'You are an autonomous agent run by Longhaul. Work toward the goal using the tools you have.',
  "Files you create live in this run's private workspace.",
  'Some tool calls need a human to approve them; a rejected call comes back as an error with the reason.',
  'When the goal is met, answer with a short final report and no tool calls.',
].join('\n');

export const SUMMARY_INSTRUCTION = [
  'This run is about to be handed to a fresh context. Write the handoff summary your successor will',
  'start from: the goal, what has been done and found (keep every fact, number, name and file the',
  'remaining work needs), what failed and why, and the next steps. Plain prose or a short list; no tool calls.',
].join(' ');

/** Appends a user instruction without breaking the user/assistant alternation. */
export function withInstruction(messages: MessageParam[], instruction: string): MessageParam[] {
  const last = messages[messages.length - 1];
  if (last?.role === 'user') {
    const content = typeof last.content === 'string' ? [{ type: 'text' as const, text: last.content }] : last.content;
    return [...messages.slice(0, -1), { role: 'user', content: [...content, { type: 'text', text: instruction }] }];
  }
  return [...messages, { role: 'user', content: instruction }];
}
