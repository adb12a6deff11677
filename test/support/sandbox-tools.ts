/**
 * Tools that show what a sandboxed call keeps of its meaning (test/integration/tool-sandbox.test.ts): output, a
 * ToolError, a ToolUnavailableError, heartbeats, the worker definition's deps, a tool that never answers, one that
 * blocks its event loop (one of them after leaving its pid in the workspace), and the poison that kills its process.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { defineTool, ToolError, ToolUnavailableError, type ToolDefinition } from '../../activities/tools/tool';
import { poisonTool } from './poison-tool';

export const SANDBOX_DEPS = { greeting: 'hello from the definition' };

export function sandboxTools(): ToolDefinition<any>[] {
  return [
    defineTool({
      name: 'describe_call',
      description: 'Returns what it was given, as JSON.',
      input: z.object({ n: z.number() }),
      risk: 'read',
      async run(input, ctx) {
        return { n: input.n, runId: ctx.runId, key: ctx.idempotencyKey, owner: ctx.run.owner, deps: ctx.deps, files: await ctx.workspace.list() };
      },
    }),
    defineTool({
      name: 'big_output',
      description: 'Answers with a megabyte of text (more than the IPC socket takes in one write).',
      input: z.object({}),
      risk: 'read',
      async run() {
        return 'x'.repeat(1024 * 1024);
      },
    }),
    defineTool({
      name: 'refuse',
      description: 'Fails as a tool failure the model should see.',
      input: z.object({}),
      risk: 'read',
      async run() {
        throw new ToolError('refused: bad path');
      },
    }),
    defineTool({
      name: 'backend_gone',
      description: 'The system behind it went away.',
      input: z.object({}),
      risk: 'read',
      async run() {
        throw new ToolUnavailableError('backend went away');
      },
    }),
    defineTool({
      name: 'beats',
      description: 'Heartbeats twice, then answers.',
      input: z.object({}),
      risk: 'read',
      async run(_input, ctx) {
        ctx.heartbeat({ step: 1 });
        ctx.heartbeat({ step: 2 });
        return 'beat twice';
      },
    }),
    defineTool({
      name: 'hangs',
      description: 'Never answers.',
      input: z.object({}),
      risk: 'read',
      run: () => new Promise(() => setInterval(() => undefined, 1000)),
    }),
    defineTool({
      name: 'blocks',
      description: 'Blocks its event loop for good.',
      input: z.object({}),
      risk: 'read',
      async run() {
        for (;;);
      },
    }),
    defineTool({
      name: 'blocks_saying_pid',
      description: 'Writes its process id to sandbox.pid in the workspace, then blocks its event loop for good.',
      input: z.object({}),
      risk: 'read',
      async run(_input, ctx) {
        fs.writeFileSync(path.join(ctx.workspace.root, 'sandbox.pid'), String(process.pid));
        for (;;);
      },
    }),
    poisonTool(),
  ];
}
