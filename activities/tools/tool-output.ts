/** A tool's return value as the text the model is given: a string as it is, anything else as indented JSON. */
export function serializeOutput(output: unknown): string {
  if (typeof output === 'string') return output;
  if (output === undefined) return '';
  return JSON.stringify(output, null, 2);
}
