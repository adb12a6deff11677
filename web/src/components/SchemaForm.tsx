/**
 * A form drawn from an agent's input JSON Schema (react-jsonschema-form), validated in the page
 * before it is sent. Its own module, loaded only when an agent with an input schema is picked, so
 * rjsf and its validator stay out of the main bundle.
 */
import Form from '@rjsf/core';
import type { ErrorSchema, RJSFSchema } from '@rjsf/utils';
import { useMemo, type ReactNode } from 'react';
import type { InputProblem } from '../agents';
import { schemaValidator } from '../schema-validator';

/** The server's complaints (paths as JSON Pointers, `/items/0/name`), placed under the fields they name. */
function problemsByField(problems: InputProblem[]): ErrorSchema {
  const root: ErrorSchema = {};
  for (const p of problems) {
    const parts = p.path.replace(/^#/, '').split('/').filter(Boolean).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    let node = root as Record<string, unknown>;
    for (const part of parts) node = (node[part] ??= {}) as Record<string, unknown>;
    ((node.__errors ??= []) as string[]).push(p.message);
  }
  return root;
}

export default function SchemaForm({
  schema,
  formData,
  problems,
  disabled,
  onChange,
  onSubmit,
  children,
}: {
  schema: Record<string, unknown>;
  formData: unknown;
  /** The server's last `invalid_input` complaints. */
  problems: InputProblem[];
  disabled: boolean;
  onChange: (data: unknown) => void;
  onSubmit: (data: unknown) => void;
  /** The rest of the run's options and the submit button, inside the same form. */
  children: ReactNode;
}) {
  const extraErrors = useMemo(() => problemsByField(problems), [problems]);
  return (
    <Form
      schema={schema as RJSFSchema}
      validator={schemaValidator}
      formData={formData}
      extraErrors={extraErrors}
      disabled={disabled}
      idPrefix="input"
      noHtml5Validate
      showErrorList={false}
      onChange={(e) => onChange(e.formData)}
      onSubmit={(e) => onSubmit(e.formData)}
      className="schema-form"
    >
      {children}
    </Form>
  );
}
