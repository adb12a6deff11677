/** The final_result tool: object output schemas offered as they are, any other wrapped as `{ result }`, checked with ajv. */
import { outputChecker, outputTool, wrapsOutput } from '../../activities/agents/output-tool';
import { OUTPUT_TOOL } from '../../contract/agents';

const DIALECT = 'https://json-schema.org/draft/2020-12/schema';
const verdict = { $schema: DIALECT, type: 'object', properties: { approved: { type: 'boolean' } }, required: ['approved'], additionalProperties: false };
const list = { $schema: DIALECT, type: 'array', items: { type: 'string' }, minItems: 1 };

describe('final_result', () => {
  it('offers an object schema as its input, without the dialect', () => {
    expect(wrapsOutput(verdict)).toBe(false);
    const { $schema: _dialect, ...bare } = verdict;
    expect(outputTool(verdict)).toMatchObject({ name: OUTPUT_TOOL, input_schema: bare });
  });

  it('wraps any other schema as { result }', () => {
    expect(wrapsOutput(list)).toBe(true);
    expect(outputTool(list).input_schema).toEqual({ type: 'object', properties: { result: { type: 'array', items: { type: 'string' }, minItems: 1 } }, required: ['result'], additionalProperties: false });
  });

  it('accepts a valid result and names each error of an invalid one by path', () => {
    const check = outputChecker(verdict);
    expect(check({ approved: true })).toEqual({ valid: true, output: { approved: true } });
    expect(check({ approved: 'yes', extra: 1 })).toEqual({
      valid: false,
      errors: expect.arrayContaining([
        { path: '/approved', message: 'must be boolean' },
        { path: '/', message: 'must not have property "extra"' },
      ]),
    });
    expect(check({})).toEqual({ valid: false, errors: [{ path: '/', message: 'must have property "approved"' }] });
  });

  it('unwraps a wrapped result: the output is the value itself, errors are under /result', () => {
    const check = outputChecker(list);
    expect(check({ result: ['a'] })).toEqual({ valid: true, output: ['a'] });
    expect(check({ result: [] })).toEqual({ valid: false, errors: [{ path: '/result', message: 'must NOT have fewer than 1 items' }] });
    expect(check({ value: ['a'] })).toEqual({ valid: false, errors: [{ path: '/', message: 'must have property "result"' }] });
  });
});
