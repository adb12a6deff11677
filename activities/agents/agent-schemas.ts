/**
 * An agent's zod schemas as the JSON Schemas its version records: what the API validates a run's input
 * against, and what the model's `final_result` call must match (stored as it is; output-tool.ts offers a
 * non-object one wrapped as `{ result: … }`).
 */
import { z } from 'zod';
import type { JsonSchema } from '../../contract/agents';

/** The zod schema's JSON Schema for what it accepts (without `$schema`); throws for what JSON Schema cannot say (dates, maps, custom checks). */
export function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: 'input' }) as JsonSchema;
  return rest;
}
