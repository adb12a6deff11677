/**
 * An agent's zod schemas as the JSON Schemas its version records: what the API validates a run's input
 * against, and what the model's `final_result` call must match. The Messages API takes only object
 * schemas as a tool's input, so an output that is not an object is asked for as `{ result: … }`.
 */
import { z } from 'zod';
import type { JsonSchema } from '../../contract/agents';

/** The member a non-object output is given under in the `final_result` call. */
export const OUTPUT_RESULT_KEY = 'result';
/** Marks an output schema that was wrapped (`$comment` is standard JSON Schema: ajv and the Messages API accept it). */
export const WRAPPED_OUTPUT_COMMENT = 'longhaul: a non-object output, given as { result }';

/** The zod schema's JSON Schema for what it accepts (without `$schema`); throws for what JSON Schema cannot say (dates, maps, custom checks). */
export function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: 'input' }) as JsonSchema;
  return rest;
}

/** The output's JSON Schema as the `final_result` tool's input: itself when an object schema, else wrapped as `{ result }`. */
export function outputToolSchema(output: JsonSchema): JsonSchema {
  if (output.type === 'object') return output;
  return { type: 'object', $comment: WRAPPED_OUTPUT_COMMENT, properties: { [OUTPUT_RESULT_KEY]: output }, required: [OUTPUT_RESULT_KEY], additionalProperties: false };
}

/** The run's output from a `final_result` call that validated: the call's input, or its `result` when the schema was wrapped. */
export function outputFromResultCall(outputSchema: JsonSchema, input: unknown): unknown {
  if (outputSchema.$comment === WRAPPED_OUTPUT_COMMENT && input !== null && typeof input === 'object') return (input as Record<string, unknown>)[OUTPUT_RESULT_KEY];
  return input;
}
