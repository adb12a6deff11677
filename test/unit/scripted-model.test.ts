/** The scripted model of longhaul/testing, as the model activity calls it (activities/model/model-adapter.ts). */
import { ApplicationFailure } from '@temporalio/common';
import type { ModelRequest } from '../../activities/model/model-adapter';
import { OUTPUT_TOOL } from '../../contract/agents';
import { scriptedModel } from '../../testing';

function request(overrides: Partial<ModelRequest> = {}): ModelRequest & { streamed: string[] } {
  const streamed: string[] = [];
  return {
    model: 'claude-test',
    system: 'You check invoices.',
    messages: [{ role: 'user', content: 'Goal: check INV-1' }],
    tools: [{ name: 'lookup_invoice', description: 'Looks up', input_schema: { type: 'object', properties: {} } }],
    maxTokens: 1000,
    signal: new AbortController().signal,
    onText: (t) => streamed.push(t),
    streamed,
    ...overrides,
  };
}

describe('scriptedModel', () => {
  it('gives its answers in order: text streamed word by word, tool calls, stop reasons and a rough usage', async () => {
    const model = scriptedModel([{ text: 'Looking it up.', toolCalls: [{ name: 'lookup_invoice', input: { invoiceId: 'INV-1' } }] }, { text: 'Done.' }]);
    const first = request();
    const a = await model.complete(first);
    expect(a.content).toEqual([
      { type: 'text', text: 'Looking it up.' },
      { type: 'tool_use', id: expect.stringMatching(/^toolu_/), name: 'lookup_invoice', input: { invoiceId: 'INV-1' } },
    ]);
    expect(a.stopReason).toBe('tool_use');
    expect(first.streamed).toEqual(['Looking ', 'it ', 'up.']);
    expect(a.usage.inputTokens).toBeGreaterThan(10);
    expect(a.usage.outputTokens).toBeGreaterThan(0);

    const b = await model.complete(request());
    expect(b).toMatchObject({ content: [{ type: 'text', text: 'Done.' }], stopReason: 'end_turn' });
  });

  it('sends output as a final_result call, a value that is not an object as { result }', async () => {
    const model = scriptedModel([{ output: { approved: true } }, { output: 'yes' }, { text: 'cut', stopReason: 'max_tokens', usage: { inputTokens: 7, outputTokens: 3 } }]);
    const first = (await model.complete(request())).content;
    expect(first).toEqual([{ type: 'tool_use', id: expect.any(String), name: OUTPUT_TOOL, input: { approved: true } }]);
    const second = (await model.complete(request())).content;
    expect(second).toEqual([{ type: 'tool_use', id: expect.any(String), name: OUTPUT_TOOL, input: { result: 'yes' } }]);
    // Tool-use ids differ from call to call (a run keys its tool calls by them).
    expect(first[0]).not.toMatchObject({ id: (second[0] as { id: string }).id });
    expect(await model.complete(request())).toMatchObject({ stopReason: 'max_tokens', usage: { inputTokens: 7, outputTokens: 3 } });
  });

  it('keeps every request, and answers the relay summary without using an answer', async () => {
    const model = scriptedModel([{ text: 'One.' }]);
    expect((await model.complete(request({ toolChoice: 'none' }))).content[0]).toMatchObject({ type: 'text', text: expect.stringContaining('Summary') });
    expect((await model.complete(request())).content).toEqual([{ type: 'text', text: 'One.' }]);
    expect(model.requests()).toEqual([
      { model: 'claude-test', system: 'You check invoices.', messages: [{ role: 'user', content: 'Goal: check INV-1' }], tools: [expect.objectContaining({ name: 'lookup_invoice' })], toolChoice: 'none', maxTokens: 1000 },
      expect.objectContaining({ toolChoice: 'auto' }),
    ]);
  });

  it('fails, not to be retried, when its answers run out', async () => {
    const model = scriptedModel([{ text: 'Only one.' }]);
    await model.complete(request());
    const err = await model.complete(request()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ nonRetryable: true, message: expect.stringContaining('no answer for model call 2: it was given 1 answer, all used') });
  });

  it('answers with a function of the request, and stops streaming when the call is cancelled', async () => {
    const model = scriptedModel(async ({ system, tools, messages }) => ({ text: `${system} ${tools.length} tool, ${messages.length} message` }));
    expect((await model.complete(request())).content).toEqual([{ type: 'text', text: 'You check invoices. 1 tool, 1 message' }]);
    const cancelled = new AbortController();
    cancelled.abort(new Error('cancelled'));
    await expect(model.complete(request({ signal: cancelled.signal }))).rejects.toThrow('cancelled');
  });
});
