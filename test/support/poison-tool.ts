/**
 * A tool that kills the worker process running it, every time: the poison of issue 26's "faults under load".
 * Declared safe to retry, so each attempt is retried on another worker, which it kills too, until the run
 * gives it up. Kept out of testTools(): an in-process harness offering it would let a script kill jest.
 */
import { z } from 'zod';
import { defineTool, type ToolDefinition } from '../../activities/tools/tool';

export const POISON_TOOL = 'poison';

export function poisonTool(): ToolDefinition<any> {
  return defineTool({
    name: POISON_TOOL,
    description: 'Kills the worker process that runs it (a tool that crashes its process).',
    input: z.object({}),
    risk: 'read',
    idempotent: true,
    async run() {
      process.kill(process.pid, 'SIGKILL');
      return 'unreachable';
    },
  });
}
