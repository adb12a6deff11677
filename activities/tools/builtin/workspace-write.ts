import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { defineTool, ToolError } from '../tool';
import { TEMP_PREFIX } from '../../../shared/workspaces/workspace-sync';

export const workspaceWrite = defineTool({
  name: 'workspace_write',
  description: "Create or replace a UTF-8 text file in this run's workspace. `path` is relative to the workspace.",
  input: z
    .object({
      path: z.string().min(1).max(1024).describe('Relative path of the file to write'),
      content: z.string().describe('The full new content of the file'),
    })
    .strict(),
  risk: 'write',
  // Writing the same content to the same path twice leaves the same file: safe to re-run.
  idempotent: true,
  async run(input, ctx) {
    const bytes = Buffer.byteLength(input.content, 'utf8');
    const { maxFileBytes, maxTotalBytes } = ctx.workspace.limits;
    if (bytes > maxFileBytes) throw new ToolError(`content is ${bytes} bytes, over the ${maxFileBytes}-byte file limit`);
    const file = await ctx.workspace.resolve(input.path);
    const previous = await fs.stat(file).then((s) => (s.isFile() ? s.size : 0), () => 0);
    const total = (await ctx.workspace.totalBytes()) - previous + bytes;
    if (total > maxTotalBytes) throw new ToolError(`the workspace would hold ${total} bytes, over its ${maxTotalBytes}-byte limit`);
    await fs.mkdir(path.dirname(file), { recursive: true });
    // Write-then-rename, so a crash never leaves a half-written file behind.
    const tmp = path.join(path.dirname(file), `${TEMP_PREFIX}${path.basename(file)}-${process.pid}`);
    await fs.writeFile(tmp, input.content, 'utf8');
    await fs.rename(tmp, file);
    return { path: input.path, bytes };
  },
});
