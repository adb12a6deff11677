/**
 * The final result of an agent with an output schema: the `final_result` tool the model is offered, and
 * how a call of it is checked against the version's stored schema. An object schema is the tool's input
 * as it is; any other (a string, an array, a union) is wrapped as `{ result: … }`, since the Messages API
 * takes only object schemas for a tool's input.
 */
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import { OUTPUT_TOOL, type JsonSchema } from '../../contract/agents';
import type { ToolSchema } from '../model/model-adapter';
import { TimeLimitExceeded, withinTimeLimit } from '../../shared/time-limit';

/** Whether the output schema is offered wrapped as `{ result: … }` (it is not an object schema). */
export function wrapsOutput(schema: JsonSchema): boolean {
  return schema.type !== 'object';
}

function withoutDialect(schema: JsonSchema): JsonSchema {
  const { $schema: _dialect, ...rest } = schema;
  return rest;
}

/** The schema as compiled: without its dialect or `$id` (two versions may give the same `$id`; neither is fetched or shared). */
function compiled(schema: JsonSchema): JsonSchema {
  const { $id: _id, ...rest } = withoutDialect(schema);
  return rest;
}

/**
 * The longest one check of a result may take: the model writes the value, and a string made to make a
 * pattern of the schema backtrack would otherwise hold the worker (its heartbeats, every other call) for minutes.
 */
export const OUTPUT_CHECK_LIMIT_MS = 1000;

/** The tool through which the model gives its final result. */
export function outputTool(schema: JsonSchema): ToolSchema {
  const bare = withoutDialect(schema);
  const input = wrapsOutput(schema) ? { type: 'object', properties: { result: bare }, required: ['result'], additionalProperties: false } : bare;
  return {
    name: OUTPUT_TOOL,
    description: 'Give the final result of the run. Call this once the work is done; the run ends when the result is valid.',
    input_schema: input as ToolSchema['input_schema'],
  };
}

/** One validation error as the model (and the API) are told it: where, and what is wrong. */
export interface OutputError {
  path: string;
  message: string;
}

export type OutputCheck = { valid: true; output: unknown } | { valid: false; errors: OutputError[] };

/** Checks `final_result` calls against one stored output schema (compiled once). */
export type OutputChecker = (toolInput: unknown) => OutputCheck;

const ajv = new Ajv2020({ allErrors: true, strict: false, addUsedSchema: false });

function describe(e: ErrorObject): OutputError {
  const path = e.instancePath || '/';
  if (e.keyword === 'additionalProperties') return { path, message: `must not have property "${String(e.params.additionalProperty)}"` };
  if (e.keyword === 'required') return { path, message: `must have property "${String(e.params.missingProperty)}"` };
  return { path, message: e.message ?? e.keyword };
}

/** A checker for one version's output schema. Throws if the schema does not compile (a bad publish). */
export function outputChecker(schema: JsonSchema): OutputChecker {
  const validate: ValidateFunction = ajv.compile(compiled(schema));
  const wrapped = wrapsOutput(schema);
  return (toolInput) => {
    const input = toolInput as Record<string, unknown> | null;
    if (wrapped && (typeof input !== 'object' || input === null || !('result' in input))) {
      return { valid: false, errors: [{ path: '/', message: 'must have property "result"' }] };
    }
    const value = wrapped ? input!.result : toolInput;
    let valid: boolean;
    try {
      valid = withinTimeLimit(OUTPUT_CHECK_LIMIT_MS, () => validate(value) as boolean);
    } catch (err) {
      if (!(err instanceof TimeLimitExceeded)) throw err;
      return { valid: false, errors: [{ path: '/', message: 'could not be checked against the output schema in time (a pattern of the schema takes too long on this value): give shorter or simpler strings' }] };
    }
    if (valid) return { valid: true, output: value };
    return { valid: false, errors: (validate.errors ?? []).map((e) => ({ ...describe(e), path: wrapped ? `/result${e.instancePath}` : e.instancePath || '/' })) };
  };
}
