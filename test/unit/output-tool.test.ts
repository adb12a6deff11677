/** The final_result tool: object output schemas offered as they are, any other wrapped as `{ result }`, checked with ajv. */
import { outputChecker, outputTool, wrapsOutput } from '../../activities/agents/output-tool';
import { OUTPUT_TOOL } from '../../contract/agents';
import { CALL_OUTPUT_TOOL, finalResultOf, OUTPUT_ERRORS_SHOWN, outputRejection } from '../../activities/model-activities';
import type { RunAgent } from '../../activities/agents/run-agent';

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

  it('rejects, within the time limit, a result on which a pattern of the schema would backtrack for minutes', () => {
    const check = outputChecker({ type: 'object', properties: { code: { type: 'string', pattern: '^(a+)+$' } }, required: ['code'] });
    const started = Date.now();
    expect(check({ code: `${'a'.repeat(40)}!` })).toEqual({ valid: false, errors: [{ path: '/', message: expect.stringContaining('in time') }] });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(check({ code: 'aaa' })).toEqual({ valid: true, output: { code: 'aaa' } });
  });

  it('checks two versions whose schemas give the same $id, each by its own schema', () => {
    const first = outputChecker({ $id: 'https://example.com/result', type: 'object', properties: { a: { type: 'string' } }, required: ['a'] });
    const second = outputChecker({ $id: 'https://example.com/result', type: 'object', properties: { b: { type: 'number' } }, required: ['b'] });
    expect(first({ a: 'x' }).valid).toBe(true);
    expect(second({ b: 1 }).valid).toBe(true);
    expect(second({ a: 'x' }).valid).toBe(false);
  });

  it('tells the model at most OUTPUT_ERRORS_SHOWN errors of a result wrong everywhere, each cut short', () => {
    const check = outputChecker({ type: 'array', items: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] } });
    const verdict = check({ result: Array.from({ length: 2000 }, () => ({ n: 'x', [`k${'y'.repeat(5000)}`]: 1 })) });
    expect(verdict.valid).toBe(false);
    const errors = verdict.valid ? [] : verdict.errors;
    expect(errors.length).toBeGreaterThan(1000);
    const told = outputRejection([...errors, { path: `/${'z'.repeat(10_000)}`, message: 'm' }]);
    expect(told.split('\n').filter((line) => line.startsWith('- /'))).toHaveLength(OUTPUT_ERRORS_SHOWN);
    expect(told).toContain(`and ${errors.length + 1 - OUTPUT_ERRORS_SHOWN} more errors`);
    expect(told.length).toBeLessThan(OUTPUT_ERRORS_SHOWN * 700);
    expect(outputRejection([{ path: `/${'z'.repeat(10_000)}`, message: 'm' }]).length).toBeLessThan(500);
  });
});

describe('an answer of an agent with an output schema', () => {
  const agent = { version: { checkOutput: outputChecker(verdict) } } as unknown as RunAgent;
  const call = (id: string, name: string, input: Record<string, unknown>) => ({ type: 'tool_use' as const, id, name, input });

  it('that ends with tool calls goes on to run them', () => {
    expect(finalResultOf(agent, [call('a', 'lookup', {})], 'tool_use')).toEqual({ toolCalls: [call('a', 'lookup', {})], results: [] });
  });

  it('cut off with tool calls and no final result is no result: nothing runs, the model is told to give one', () => {
    // Before: the run took it as a turn with calls, and the workflow, seeing no tool_use stop, completed it without output.
    const final = finalResultOf(agent, [call('a', 'pay', { amount: 1 })], 'max_tokens');
    expect(final).toEqual({ toolCalls: [], output: 'invalid', results: [{ toolUseId: 'a', content: expect.stringContaining('max_tokens'), isError: true }], instruction: CALL_OUTPUT_TOOL });
  });

  it('cut off with an invalid final result runs none of its other calls', () => {
    const final = finalResultOf(agent, [call('f', OUTPUT_TOOL, { approved: 'yes' }), call('a', 'pay', {})], 'max_tokens');
    expect(final.toolCalls).toEqual([]);
    expect(final.output).toBe('invalid');
    expect(final.results.map((r) => r.toolUseId)).toEqual(['f', 'a']);
  });
});
