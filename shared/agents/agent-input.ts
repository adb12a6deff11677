/**
 * A run's structured input checked against its agent version's input JSON Schema (as the worker published
 * it), so a bad input is a 400 naming each complaint rather than a run that fails later. Compiled
 * validators are kept per agent version: a version's data never changes.
 */
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import type { JsonSchema } from '../../contract/agents';
import type { InputProblem } from '../../contract/api';
import { TimeLimitExceeded, withinTimeLimit } from '../time-limit';

export type { InputProblem };

/** Kept validators; past this many the oldest go (versions accumulate over deploys). */
const MAX_CACHED = 200;

/**
 * The longest one input's check may take. A valid input of the largest size allowed takes milliseconds;
 * only a schema's pattern that backtracks without end takes longer, and would hold every request meanwhile.
 */
export const INPUT_CHECK_LIMIT_MS = 1000;

export class AgentInputValidator {
  // Formats (email, uri…) are checked by the patterns zod writes beside them; unknown keywords are not errors.
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false, addUsedSchema: false, logger: false });
  private readonly compiled = new Map<string, ValidateFunction | Error>();

  /** The problems of `input` against the schema of `agent`@`version`; empty when it is valid. */
  problems(agent: string, version: string, schema: JsonSchema, input: unknown): InputProblem[] {
    const validate = this.validatorFor(`${agent}@${version}`, schema);
    if (validate instanceof Error) return [{ path: '', message: `the agent's input schema cannot be used: ${validate.message}` }];
    try {
      if (withinTimeLimit(INPUT_CHECK_LIMIT_MS, () => validate(input))) return [];
    } catch (err) {
      if (!(err instanceof TimeLimitExceeded)) throw err;
      return [{ path: '', message: `could not be checked against the agent's input schema in time (a pattern of the schema takes too long on this value): give shorter or simpler strings` }];
    }
    return (validate.errors ?? []).map(describe);
  }

  private validatorFor(key: string, schema: JsonSchema): ValidateFunction | Error {
    let validate = this.compiled.get(key);
    if (!validate) {
      try {
        // The published schema names its draft in `$schema`; it was written for this run, not fetched.
        const { $schema: _draft, $id: _id, ...rest } = schema;
        validate = this.ajv.compile(rest);
      } catch (err) {
        validate = err instanceof Error ? err : new Error(String(err));
      }
      if (this.compiled.size >= MAX_CACHED) this.compiled.delete(this.compiled.keys().next().value!);
      this.compiled.set(key, validate);
    }
    return validate;
  }
}

function describe(e: ErrorObject): InputProblem {
  const params = e.params as Record<string, unknown>;
  if (e.keyword === 'required') return { path: `${e.instancePath}/${String(params.missingProperty)}`, message: 'is required' };
  if (e.keyword === 'additionalProperties') return { path: `${e.instancePath}/${String(params.additionalProperty)}`, message: 'is not a field of this input' };
  return { path: e.instancePath, message: e.message ?? e.keyword };
}

/**
 * What is wrong with an input kept from earlier (a schedule's) for the agent version a run would now be pinned to:
 * the agent may have gained, changed or dropped its input schema since. Empty when the run may start with it.
 */
export function keptInputProblems(validator: AgentInputValidator, agent: { name: string; version: string; data: { inputSchema: JsonSchema | null } }, input: unknown): InputProblem[] {
  const schema = agent.data.inputSchema;
  const given = input !== undefined && input !== null;
  if (!schema) return given ? [{ path: '', message: `agent ${agent.name} takes no structured input in version ${agent.version}` }] : [];
  if (!given) return [{ path: '', message: 'is required' }];
  return validator.problems(agent.name, agent.version, schema, input);
}
