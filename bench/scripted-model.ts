/** The benches' in-process model: calls `workspace_list` until the run has taken `steps` turns, then answers. Instant. */
import type { ModelAdapter, ModelRequest, ModelResponse } from '../activities/model/model-adapter';

export class ScriptedModel implements ModelAdapter {
  constructor(private readonly steps: number) {}
  async complete(req: ModelRequest): Promise<ModelResponse> {
    const turns = req.messages.filter((m) => m.role === 'assistant').length;
    if (turns >= this.steps) return { content: [{ type: 'text', text: 'done' }], stopReason: 'end_turn', usage: { inputTokens: 10, outputTokens: 2 } };
    return { content: [{ type: 'tool_use', id: `toolu_${turns + 1}`, name: 'workspace_list', input: {} }], stopReason: 'tool_use', usage: { inputTokens: 10, outputTokens: 2 } };
  }
}
