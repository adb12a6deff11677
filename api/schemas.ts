/** Request shapes, validated with zod; failures become 400s that name the field. */
import { z } from 'zod';
import { RUN_STATUSES, type RunStatus } from '../workflows/types';
import { ApiError } from './errors';

export const createRunBody = z
  .object({
    goal: z.string().refine((g) => g.trim().length > 0, 'goal must not be empty'),
    model: z.string().min(1).max(100).optional(),
    approvals: z.enum(['none', 'write', 'all']).optional(),
    limits: z
      .object({
        maxSteps: z.number().int().positive().optional(),
        maxCostUsd: z.number().positive().finite().optional(),
        maxDurationSec: z.number().int().positive().optional(),
      })
      .strict()
      .optional(),
    approvalTimeoutSec: z.number().int().positive().optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
export type CreateRunBody = z.infer<typeof createRunBody>;

export const decisionBody = z
  .object({
    decision: z.enum(['approve', 'reject']),
    comment: z.string().max(2000).optional(),
  })
  .strict();

export const inputBody = z.object({ text: z.string().min(1, 'text must not be empty') }).strict();

const intParam = (name: string, min: number, max: number, def: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined) return def;
      if (!/^\d+$/.test(v)) {
        ctx.addIssue({ code: 'custom', message: `${name} must be a whole number` });
        return z.NEVER;
      }
      const n = Number(v);
      if (n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `${name} must be between ${min} and ${max}` });
        return z.NEVER;
      }
      return n;
    });

export const listRunsQuery = z
  .object({
    status: z
      .string()
      .optional()
      .transform((v, ctx) => {
        if (v === undefined || v === '') return undefined;
        const statuses = v.split(',').map((s) => s.trim());
        const bad = statuses.filter((s) => !(RUN_STATUSES as readonly string[]).includes(s));
        if (bad.length) {
          ctx.addIssue({ code: 'custom', message: `unknown status ${bad.join(', ')}; use one of ${RUN_STATUSES.join(', ')}` });
          return z.NEVER;
        }
        return statuses as RunStatus[];
      }),
    limit: intParam('limit', 1, 100, 20),
    cursor: z.string().max(500).optional(),
  })
  .strict();

export const approvalsQuery = z.object({ status: z.literal('pending').optional() }).strict();

export const eventsQuery = z
  .object({
    after: intParam('after', 0, Number.MAX_SAFE_INTEGER, 0),
    limit: intParam('limit', 1, 1000, 100),
  })
  .strict();

/** Parses or throws a 400 naming every problem. */
export function parseOr400<T extends z.ZodType>(schema: T, value: unknown, code: string): z.output<T> {
  const parsed = schema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  const summary = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
  throw new ApiError(400, code, summary, issues);
}
