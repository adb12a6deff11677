/**
 * The model the `steps` bench's baselines (bare workflows, LangGraph) ask each turn, on the same
 * transport as Longhaul's: answered in process at once, or by the fake Anthropic server over HTTP
 * through the official SDK (streamed, as Longhaul's adapter asks).
 */
import Anthropic from '@anthropic-ai/sdk';

export interface BenchModel {
  /** Whether turn `turn` of a `steps`-step run answers (true) or asks for a tool (false). */
  done(turn: number, steps: number): Promise<boolean>;
}

export const inProcessModel: BenchModel = {
  async done(turn, steps) {
    return turn > steps;
  },
};

/** Marker in the one user message the baselines send; the fake answers by the turn and steps it names. */
export const HTTP_BASELINE_MARKER = '[steps-baseline]';

export function httpModel(baseURL: string, apiKey: string): BenchModel {
  const client = new Anthropic({ baseURL, apiKey, maxRetries: 0 });
  return {
    async done(turn, steps) {
      const message = await client.messages
        .stream({
          model: 'claude-sonnet-5-5',
          max_tokens: 1024,
          messages: [{ role: 'user', content: `${HTTP_BASELINE_MARKER} turn=${turn} steps=${steps}` }],
          tools: [{ name: 'workspace_list', description: 'List files.', input_schema: { type: 'object', properties: {} } }],
        })
        .finalMessage();
      return message.stop_reason !== 'tool_use';
    },
  };
}
