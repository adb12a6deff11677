/**
 * A worker process with the test tools, whose `slow_step` also records an effect with an outside system (a
 * CountingServer at LOAD_EFFECTS_URL) under the call's idempotency key once its work is done: the load's tool calls
 * leave a trace that can be counted by key, so a test or bench that kills workers or cuts the database under the load
 * can tell that each call's effect happened once. Same name, input and timing as the plain `slow_step`: the workload
 * of test/support/agent-load.ts runs unchanged.
 */
import { z } from 'zod';
import { defineTool } from '../../activities/tools/tool';
import { redactText } from '../../shared/redact';
import { runWorkerProcess } from '../../worker/run-worker-process';
import { testTools } from './test-tools';

const effectsUrl = process.env.LOAD_EFFECTS_URL;
if (!effectsUrl) throw new Error('LOAD_EFFECTS_URL is not set: the effect-recording slow_step needs the counting server');

const slowStepWithEffect = defineTool({
  name: 'slow_step',
  description: 'Works for `ms` milliseconds, heartbeating, then records its effect (idempotent by key).',
  input: z.object({ ms: z.number().int().min(0), label: z.string().optional() }),
  risk: 'read',
  idempotent: true,
  async run(input, ctx) {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, input.ms);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(ctx.signal.reason ?? new Error('aborted'));
      });
    });
    const res = await fetch(effectsUrl, { method: 'POST', headers: { 'Idempotency-Key': ctx.idempotencyKey }, body: JSON.stringify({ label: input.label }), signal: ctx.signal });
    if (!res.ok) throw new Error(`the effect was refused: ${res.status}`);
    return `slow step ${input.label ?? ''} done after ${input.ms}ms`;
  },
});

runWorkerProcess({ extraTools: [...testTools().filter((t) => t.name !== 'slow_step'), slowStepWithEffect] }).then(
  () => process.exit(0),
  (err) => {
    console.error(redactText(err instanceof Error ? (err.stack ?? err.message) : String(err)));
    process.exit(1);
  },
);
