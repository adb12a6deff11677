/** The bare workflow's activities: a model (a tool call until `steps`, then an answer), and a tool that does nothing. */
import type { BenchModel } from '../bench-model';

export interface BareActivities {
  model(args: { turn: number; steps: number }): Promise<{ done: boolean }>;
  tool(args: { turn: number }): Promise<string>;
}

export function bareActivities(model: BenchModel): BareActivities {
  return {
    async model({ turn, steps }) {
      return { done: await model.done(turn, steps) };
    },
    async tool({ turn }) {
      return `listed for turn ${turn}`;
    },
  };
}
