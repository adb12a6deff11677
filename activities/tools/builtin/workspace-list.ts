import { z } from 'zod';
import { defineTool } from '../tool';

export const workspaceList = defineTool({
  name: 'workspace_list',
  description: "List the files in this run's workspace, with their sizes in bytes.",
  input: z.object({}).strict(),
  risk: 'read',
  quick: true,
  async run(_input, ctx) {
    const files = await ctx.workspace.list();
    return { files };
  },
});
