/**
 * An offline, deterministic stand-in for Claude, used when no ANTHROPIC_API_KEY is set so that
 * `npm start` shows a real run end to end: it streams text and drives several tool calls
 * (list, write, read the workspace) before finishing. Runs show their model as "demo".
 */
import type { AssistantBlock, MessageParam, ModelAdapter, ModelRequest, ModelResponse } from './model-adapter';

export { DEMO_MODEL } from '../../contract/run';

function lastToolCalled(messages: MessageParam[]): string | undefined {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.role !== 'assistant' || typeof m.content === 'string') continue;
    const toolUse = [...m.content].reverse().find((b) => b.type === 'tool_use');
    if (toolUse && toolUse.type === 'tool_use') return toolUse.name;
  }
  return undefined;
}

function firstUserText(messages: MessageParam[]): string {
  const first = messages[0];
  if (!first) return '';
  if (typeof first.content === 'string') return first.content;
  const text = first.content.find((b) => b.type === 'text');
  return text && text.type === 'text' ? text.text : '';
}

function lastToolResultText(messages: MessageParam[]): string {
  const last = messages[messages.length - 1];
  if (!last || typeof last.content === 'string') return '';
  const result = last.content.find((b) => b.type === 'tool_result');
  if (!result || result.type !== 'tool_result') return '';
  return typeof result.content === 'string' ? result.content : JSON.stringify(result.content);
}

/** Small stable hash, so tool_use ids differ between turns without randomness. */
function stableId(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

export class DemoModel implements ModelAdapter {
  constructor(private readonly opts: { msPerWord?: number } = {}) {}

  async complete(req: ModelRequest): Promise<ModelResponse> {
    const content = req.toolChoice === 'none' ? this.summarize(req.messages) : this.nextStep(req.messages);
    const text = content.filter((b) => b.type === 'text').map((b) => (b as { text: string }).text).join('');
    await this.stream(text, req);
    const inputChars = JSON.stringify(req.messages).length + req.system.length;
    return {
      content,
      stopReason: content.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn',
      usage: { inputTokens: Math.ceil(inputChars / 4), outputTokens: Math.ceil(JSON.stringify(content).length / 4) },
    };
  }

  private nextStep(messages: MessageParam[]): AssistantBlock[] {
    const goal = firstUserText(messages).replace(/^Goal:\s*/, '').split('\n')[0]!.slice(0, 500);
    const id = `toolu_demo_${stableId(JSON.stringify(messages))}`;
    switch (lastToolCalled(messages)) {
      case undefined:
        return [
          { type: 'text', text: "I'm the offline demo model. I'll start by looking at what is already in this run's workspace." },
          { type: 'tool_use', id, name: 'workspace_list', input: {} },
        ];
      case 'workspace_list':
        return [
          { type: 'text', text: "Next I'll write the goal and a short plan into plan.md, so the work is written down." },
          {
            type: 'tool_use',
            id,
            name: 'workspace_write',
            input: {
              path: 'plan.md',
              content: `# Plan\n\nGoal: ${goal}\n\n1. Survey the workspace\n2. Write this plan down\n3. Read it back to check it was saved\n`,
            },
          },
        ];
      case 'workspace_write':
        return [
          { type: 'text', text: 'Let me read plan.md back to make sure it was saved.' },
          { type: 'tool_use', id, name: 'workspace_read', input: { path: 'plan.md' } },
        ];
      default: {
        const saved = lastToolResultText(messages);
        return [
          {
            type: 'text',
            text:
              `Done. I surveyed the workspace, wrote plan.md (${saved.length} characters) and read it back. ` +
              'This run used the offline demo model; set ANTHROPIC_API_KEY to run the same workflow with Claude.',
          },
        ];
      }
    }
  }

  private summarize(messages: MessageParam[]): AssistantBlock[] {
    return [
      {
        type: 'text',
        text: `Summary so far: ${messages.length} messages exchanged; the last tool used was ${lastToolCalled(messages) ?? 'none'}.`,
      },
    ];
  }

  private async stream(text: string, req: ModelRequest): Promise<void> {
    const words = text.match(/\S+\s*/g) ?? [];
    const delay = this.opts.msPerWord ?? 25;
    for (const word of words) {
      if (req.signal.aborted) throw req.signal.reason ?? new Error('aborted');
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      req.onText(word);
    }
  }
}
