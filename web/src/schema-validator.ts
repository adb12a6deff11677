/**
 * The input form's validator: rjsf's ValidatorType over @cfworker/json-schema, which interprets a
 * schema instead of compiling it to code. Ajv (and so @rjsf/validator-ajv8's own validator) builds
 * each validator with `new Function`, which the UI's Content-Security-Policy (`script-src 'self'`,
 * no 'unsafe-eval') rightly refuses. Its errors are given Ajv's shape and handed to
 * @rjsf/validator-ajv8's own processing, so they land on their fields and read as rjsf's do. The
 * server validates the input again with Ajv: this is only the form's first word.
 */
import { Validator, type OutputUnit, type Schema, type SchemaDraft } from '@cfworker/json-schema';
import type { CustomValidator, ErrorTransformer, RJSFSchema, UiSchema, ValidationData, ValidatorType } from '@rjsf/utils';
import processRawValidationErrors from '@rjsf/validator-ajv8/lib/processRawValidationErrors.js';
import type { ErrorObject } from 'ajv';

/** Errors that only say a part below them failed (the part's own error is reported too). */
const UMBRELLA = new Set(['properties', 'patternProperties', 'items', 'prefixItems', 'additionalItems', 'allOf', '$ref', '$dynamicRef', 'dependentSchemas', 'false']);

function draftOf(schema: RJSFSchema): SchemaDraft {
  const named = typeof schema.$schema === 'string' ? schema.$schema : '';
  if (named.includes('draft-04')) return '4';
  if (named.includes('draft-07') || named.includes('draft-06')) return '7';
  if (named.includes('2019-09')) return '2019-09';
  return '2020-12'; // what zod writes
}

/** A property name quoted in a @cfworker message (`... property "invoiceId".`). */
const quoted = (text: string): string => /"([^"]*)"/.exec(text)?.[1] ?? '';

/** One @cfworker error in Ajv's shape (what @rjsf/validator-ajv8 reads), or null for an umbrella one. */
function asAjvError(unit: OutputUnit): ErrorObject | null {
  if (UMBRELLA.has(unit.keyword)) return null;
  const instancePath = unit.instanceLocation.replace(/^#/, '');
  const schemaPath = unit.keywordLocation;
  const base = { keyword: unit.keyword, instancePath, schemaPath };
  if (unit.keyword === 'required') {
    const missingProperty = quoted(unit.error);
    return { ...base, params: { missingProperty }, message: `must have required property '${missingProperty}'` };
  }
  if (unit.keyword === 'additionalProperties' || unit.keyword === 'unevaluatedProperties') {
    const additionalProperty = quoted(unit.error);
    return { ...base, params: { additionalProperty }, message: 'must NOT have additional properties' };
  }
  return { ...base, params: {}, message: unit.error.replace(/\.$/, '') };
}

class InterpretingValidator implements ValidatorType {
  rawValidation<Result = ErrorObject>(schema: RJSFSchema, formData?: unknown): { errors?: Result[]; validationError?: Error } {
    try {
      const result = new Validator(schema as Schema, draftOf(schema), false).validate(formData);
      const errors = result.errors.map(asAjvError).filter((e): e is ErrorObject => e !== null);
      return { errors: errors.length ? (errors as Result[]) : undefined };
    } catch (err) {
      return { validationError: err instanceof Error ? err : new Error(String(err)) };
    }
  }

  validateFormData(formData: unknown, schema: RJSFSchema, customValidate?: CustomValidator, transformErrors?: ErrorTransformer, uiSchema?: UiSchema): ValidationData<unknown> {
    return processRawValidationErrors(this, this.rawValidation<ErrorObject>(schema, formData), formData, schema, customValidate, transformErrors, uiSchema);
  }

  /** Whether data fits a part of the form's schema (rjsf asks, to pick an anyOf/oneOf option): the root's definitions go with it, for its $refs. */
  isValid(schema: RJSFSchema, formData: unknown, rootSchema: RJSFSchema): boolean {
    const withDefs: RJSFSchema = { ...schema };
    for (const key of ['$defs', 'definitions', '$schema'] as const) if (rootSchema[key] !== undefined) withDefs[key] = rootSchema[key] as never;
    try {
      return new Validator(withDefs as Schema, draftOf(rootSchema), true).validate(formData).valid;
    } catch {
      return false;
    }
  }
}

export const schemaValidator: ValidatorType = new InterpretingValidator();
