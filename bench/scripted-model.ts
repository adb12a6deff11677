/**
 * The benches' in-process model: calls `workspace_list` until the run has taken `steps` turns, then answers. Instant.
 * A goal marked `[writes]` writes a file first, so the run's workspace holds something (its tool calls then go to the
 * worker holding it).
 */
import type { ModelAdapter, ModelRequest, ModelResponse } from '../activities/model/model-adapter';

/** In a goal: the run's first step writes a file. */
export const WRITES_MARKER = '[writes]';

export class ScriptedModel implements ModelAdapter {
  constructor(private readonly steps: number) {}
  async complete(req: ModelRequest): Promise<ModelResponse> {
    const turns = req.messages.filter((m) => m.role === 'assistant').length;
    if (turns === 0 && JSON.stringify(req.messages[0]).includes(WRITES_MARKER)) {
      return { content: [{ type: 'tool_use', id: 'toolu_1', name: 'workspace_write', input: { path: 'notes.txt', content: 'notes' } }], stopReason: 'tool_use', usage: { inputTokens: 10, outputTokens: 2 } };
    }
    if (turns >= this.steps) return { content: [{ type: 'text', text: 'done' }], stopReason: 'end_turn', usage: { inputTokens: 10, outputTokens: 2 } };
    return { content: [{ type: 'tool_use', id: `toolu_${turns + 1}`, name: 'workspace_list', input: {} }], stopReason: 'tool_use', usage: { inputTokens: 10, outputTokens: 2 } };
  }
}
