/**
 * A form drawn from an agent's input JSON Schema (react-jsonschema-form), validated in the page
 * before it is sent. Its own module, loaded only when an agent with an input schema is picked, so
 * rjsf and its validator stay out of the main bundle.
 */
import Form from '@rjsf/core';
import type { RJSFSchema } from '@rjsf/utils';
import type { ReactNode } from 'react';
import { schemaValidator } from '../schema-validator';

export default function SchemaForm({
  schema,
  formData,
  disabled,
  onChange,
  onSubmit,
  children,
}: {
  schema: Record<string, unknown>;
  formData: unknown;
  disabled: boolean;
  onChange: (data: unknown) => void;
  onSubmit: (data: unknown) => void;
  /** The rest of the run's options and the submit button, inside the same form. */
  children: ReactNode;
}) {
  return (
    <Form
      schema={schema as RJSFSchema}
      validator={schemaValidator}
      formData={formData}
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
