import { z } from 'zod';
import { ASK_USER_TOOL } from '../../../contract/run';
import { defineTool } from '../tool';

/**
 * Lets the model ask its user a question. Listed like any tool so the model sees its schema, but
 * never run by a worker: the workflow records the question, waits (durably, for hours if need be)
 * for `POST /api/runs/:id/input`, and hands the answer back as this call's result.
 */
export const askUser = defineTool({
  name: ASK_USER_TOOL,
  description:
    'Ask the user a question and wait for their answer. Use it when you need information or a choice only the user can give; the answer comes back as this tool\'s result.',
  input: z.object({ question: z.string().min(1).max(4000).describe('The question, complete and self-contained') }).strict(),
  risk: 'read',
  async run() {
    throw new Error('ask_user is answered by the run workflow, not executed as an activity');
  },
});
