/** The bare workflow's activities: a model that answers at once (a tool call until `steps`), and a tool. */
export interface BareActivities {
  model(args: { turn: number; steps: number }): Promise<{ done: boolean }>;
  tool(args: { turn: number }): Promise<string>;
}

export const bareActivities: BareActivities = {
  async model({ turn, steps }) {
    return { done: turn > steps };
  },
  async tool({ turn }) {
    return `listed for turn ${turn}`;
  },
};
