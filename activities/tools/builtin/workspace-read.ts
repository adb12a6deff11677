import fs from 'node:fs/promises';
import { z } from 'zod';
import { defineTool, ToolError } from '../tool';

export const workspaceRead = defineTool({
  name: 'workspace_read',
  description: "Read a UTF-8 text file from this run's workspace. `path` is relative to the workspace.",
  input: z.object({ path: z.string().min(1).max(1024).describe('Relative path of the file to read') }).strict(),
  risk: 'read',
  quick: true,
  async run(input, ctx) {
    const file = await ctx.workspace.resolve(input.path);
    let stat;
    try {
      stat = await fs.stat(file);
    } catch {
      throw new ToolError(`no such file: ${input.path}`);
    }
    if (!stat.isFile()) throw new ToolError(`not a file: ${input.path}`);
    if (stat.size > ctx.workspace.limits.maxFileBytes) {
      throw new ToolError(`file is ${stat.size} bytes, over the ${ctx.workspace.limits.maxFileBytes}-byte read limit`);
    }
    return fs.readFile(file, 'utf8');
  },
});
