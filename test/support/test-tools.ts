/** Tools that exist only in tests, for crashes, drains, stalls and in-doubt effects. */
import { z } from 'zod';
import { defineTool, type ToolDefinition } from '../../activities/tools/tool';

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason ?? new Error('aborted'));
    });
  });
}

export function testTools(): ToolDefinition<any>[] {
  return [
    defineTool({
      name: 'slow_step',
      description: 'Works for `ms` milliseconds, heartbeating.',
      input: z.object({ ms: z.number().int().min(0), label: z.string().optional() }),
      risk: 'read',
      async run(input, ctx) {
        await sleep(input.ms, ctx.signal);
        return `slow step ${input.label ?? ''} done after ${input.ms}ms`;
      },
    }),
    defineTool({
      name: 'hang',
      description: 'Never finishes on its own; stops only when cancelled.',
      input: z.object({}),
      risk: 'read',
      async run(_input, ctx) {
        await sleep(24 * 3600 * 1000, ctx.signal);
        return 'unreachable';
      },
    }),
    defineTool({
      name: 'charge_card',
      description: 'A payment API without idempotency support: a re-sent request charges twice.',
      input: z.object({ url: z.string(), cents: z.number().int() }),
      risk: 'write',
      async run(input, ctx) {
        // Deliberately no Idempotency-Key: this tool cannot be re-sent safely.
        const res = await fetch(input.url, { method: 'POST', body: JSON.stringify({ cents: input.cents, key: ctx.idempotencyKey }), signal: ctx.signal });
        return `charged: ${res.status}`;
      },
    }),
    defineTool({
      name: 'quick_effect',
      description: 'Records an effect with an outside system that deduplicates by Idempotency-Key; quick.',
      input: z.object({ url: z.string() }),
      risk: 'read',
      idempotent: true,
      quick: true,
      async run(input, ctx) {
        const res = await fetch(input.url, { method: 'POST', headers: { 'Idempotency-Key': ctx.idempotencyKey }, body: '{}', signal: ctx.signal });
        return `recorded: ${res.status}`;
      },
    }),
    defineTool({
      name: 'quick_charge',
      description: 'Charges a card through an API that does not deduplicate; quick, and not safe to re-send.',
      input: z.object({ url: z.string() }),
      risk: 'write',
      quick: true,
      async run(input, ctx) {
        const res = await fetch(input.url, { method: 'POST', body: '{}', signal: ctx.signal });
        return `charged: ${res.status}`;
      },
    }),
    defineTool({
      name: 'quick_fail',
      description: 'Fails at once; quick.',
      input: z.object({}),
      risk: 'read',
      quick: true,
      async run() {
        throw new Error('quick_fail always fails');
      },
    }),
    defineTool({
      name: 'big_text',
      description: 'Returns `bytes` bytes of text.',
      input: z.object({ bytes: z.number().int().min(0) }),
      risk: 'read',
      async run(input) {
        return 'y'.repeat(input.bytes);
      },
    }),
  ];
}
