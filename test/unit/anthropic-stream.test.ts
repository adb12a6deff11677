/**
 * The model call reads the raw event stream and puts the message together itself (activities/model/
 * message-accumulator.ts) instead of the SDK's MessageStream (issue 26: its per-delta events and snapshots cost
 * CPU per token). What MessageStream gave must still come out: text in order as it streams, tool inputs whole
 * however their JSON was split, several blocks in order, usage and stop reason; and a stream that breaks mid-way
 * must fail (retryably, classified as today), never pass a partial message off as an answer.
 */
import Anthropic from '@anthropic-ai/sdk';
import { AnthropicModel } from '../../activities/model/anthropic-model';
import { classifyModelError } from '../../activities/model/classify-error';
import { MessageAccumulator } from '../../activities/model/message-accumulator';
import type { ModelRequest } from '../../activities/model/model-adapter';
import { FailureType } from '../../contract/failures';
import { listenLocally, type LocalServer } from '../support/http-server';

type StreamEvent = Anthropic.Messages.RawMessageStreamEvent;

const usage = (input: number, output: number, extra: Partial<Anthropic.Messages.Usage> = {}) =>
  ({ input_tokens: input, output_tokens: output, cache_read_input_tokens: null, cache_creation_input_tokens: null, ...extra }) as Anthropic.Messages.Usage;

const start = (u = usage(10, 1)): StreamEvent =>
  ({ type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'm', content: [], stop_reason: null, stop_sequence: null, usage: u } }) as unknown as StreamEvent;
const blockStart = (index: number, content_block: unknown): StreamEvent => ({ type: 'content_block_start', index, content_block }) as StreamEvent;
const text = (index: number, t: string): StreamEvent => ({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: t } }) as StreamEvent;
const json = (index: number, partial_json: string): StreamEvent => ({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json } }) as StreamEvent;
const blockStop = (index: number): StreamEvent => ({ type: 'content_block_stop', index }) as StreamEvent;
const messageDelta = (stop_reason: string, u: Record<string, unknown>): StreamEvent =>
  ({ type: 'message_delta', delta: { stop_reason, stop_sequence: null }, usage: u }) as unknown as StreamEvent;
const stop: StreamEvent = { type: 'message_stop' } as StreamEvent;

/** A tool_use block whose input JSON arrives in `pieces`. */
const toolUse = (index: number, id: string, name: string, pieces: string[]): StreamEvent[] => [
  blockStart(index, { type: 'tool_use', id, name, input: {} }),
  ...pieces.map((p) => json(index, p)),
  blockStop(index),
];

/** An answer of text, two tool calls (the second's JSON cut at awkward places), and a thinking block before them. */
function answerEvents(): StreamEvent[] {
  return [
    start(usage(120, 1, { cache_read_input_tokens: 80 })),
    blockStart(0, { type: 'thinking', thinking: '', signature: '' }),
    { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'Let me ' } } as StreamEvent,
    { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'look.' } } as StreamEvent,
    { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'sig==' } } as StreamEvent,
    blockStop(0),
    blockStart(1, { type: 'text', text: '' }),
    text(1, 'I will '),
    text(1, 'write two files.'),
    blockStop(1),
    ...toolUse(2, 'toolu_a', 'workspace_write', ['{"path":"a.txt","content":"x"}']),
    ...toolUse(3, 'toolu_b', 'workspace_write', ['{"pa', 'th":"b\\u00e9.txt","con', 'tent":"line1\\nli', 'ne2","n":[1,', '2]}']),
    messageDelta('tool_use', { output_tokens: 57 }),
    stop,
  ];
}

describe('a streamed answer put together from its raw events', () => {
  it('keeps every block in order, tool inputs parsed whole however their JSON was split, usage and stop reason', () => {
    const streamed: string[] = [];
    const message = new MessageAccumulator((t) => streamed.push(t));
    for (const e of answerEvents()) message.add(e);
    expect(message.result()).toEqual({
      content: [
        { type: 'thinking', thinking: 'Let me look.', signature: 'sig==' },
        { type: 'text', text: 'I will write two files.' },
        { type: 'tool_use', id: 'toolu_a', name: 'workspace_write', input: { path: 'a.txt', content: 'x' } },
        { type: 'tool_use', id: 'toolu_b', name: 'workspace_write', input: { path: 'bé.txt', content: 'line1\nline2', n: [1, 2] } },
      ],
      stopReason: 'tool_use',
      usage: { inputTokens: 120, outputTokens: 57, cacheReadTokens: 80 },
    });
    expect(streamed).toEqual(['I will ', 'write two files.']); // text only, as it came; no thinking, no JSON
  });

  it('takes the usage totals message_delta sends over message_start’s, and leaves out zero cache counts', () => {
    const message = new MessageAccumulator(() => undefined);
    for (const e of [start(usage(5, 1, { cache_creation_input_tokens: 40 })), blockStart(0, { type: 'text', text: '' }), text(0, 'ok'), blockStop(0)]) message.add(e);
    message.add(messageDelta('end_turn', { output_tokens: 9, input_tokens: 7, cache_creation_input_tokens: 0, cache_read_input_tokens: 30 }));
    message.add(stop);
    expect(message.result().usage).toEqual({ inputTokens: 7, outputTokens: 9, cacheReadTokens: 30 });
  });

  it('gives a tool with no input JSON the input its block started with, and a cut-off input as far as it goes (max_tokens)', () => {
    const message = new MessageAccumulator(() => undefined);
    for (const e of [start(), ...toolUse(0, 't1', 'workspace_list', []), ...toolUse(1, 't2', 'workspace_write', ['{"path":"a.txt","cont'])]) message.add(e);
    message.add(messageDelta('max_tokens', { output_tokens: 4 }));
    message.add(stop);
    const { content, stopReason } = message.result();
    expect(stopReason).toBe('max_tokens');
    expect(content).toEqual([
      { type: 'tool_use', id: 't1', name: 'workspace_list', input: {} },
      { type: 'tool_use', id: 't2', name: 'workspace_write', input: { path: 'a.txt' } },
    ]);
  });

  it('refuses a stream that ends before message_stop: a retryable connection failure, not a partial answer', () => {
    for (const events of [[], [start()], answerEvents().slice(0, 12), answerEvents().slice(0, -1)]) {
      const message = new MessageAccumulator(() => undefined);
      for (const e of events) message.add(e);
      let thrown: unknown;
      try {
        message.result();
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(Anthropic.APIConnectionError);
      const failure = classifyModelError(thrown, 'api.example.com');
      expect(failure.type).toBe(FailureType.ModelConnectionError);
      expect(failure.nonRetryable).toBe(false);
    }
  });

  it('refuses events out of order', () => {
    expect(() => new MessageAccumulator(() => undefined).add(text(0, 'x'))).toThrow(Anthropic.AnthropicError);
    const message = new MessageAccumulator(() => undefined);
    message.add(start());
    expect(() => message.add(start())).toThrow(Anthropic.AnthropicError);
  });
});

describe.each([
  ['node:http (the default)', undefined],
  ['the global fetch (MODEL_HTTP_CLIENT=fetch)', globalThis.fetch],
])('AnthropicModel over HTTP through %s, on the raw stream', (_, transport) => {
  let server: LocalServer;
  /** How the next response goes: the events to send, then whether to finish, end early or drop the connection. */
  let script: { events: StreamEvent[]; end: 'finish' | 'end' | 'destroy' | 'hold'; headers?: Record<string, string> };
  let sentAll: () => void = () => undefined;

  beforeAll(async () => {
    server = await listenLocally((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/event-stream', ...script.headers });
        for (const [i, e] of script.events.entries()) {
          // A comment, a ping and an event without a name (not JSON), before message_start: skipped, as the SDK skips
          // them (taken as events, the first would be refused before message_start, the last would not parse).
          if (i === 0) res.write(': keep-alive\n\nevent: ping\ndata: {"type": "ping"}\n\ndata: not json\n\n');
          res.write(`event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
        }
        sentAll();
        if (script.end === 'finish' || script.end === 'end') res.end();
        else if (script.end === 'destroy') setTimeout(() => res.destroy(), 20);
      });
    });
  });
  afterAll(() => server.stop());

  const model = () => new AnthropicModel({ apiKey: 'sk-test', baseUrl: server.url, fetch: transport });
  const request = (onText: (t: string) => void, signal = new AbortController().signal): ModelRequest => ({
    model: 'claude-test',
    system: 'sys',
    messages: [{ role: 'user', content: 'hi' }],
    tools: [],
    maxTokens: 100,
    signal,
    onText,
  });

  it('answers with the whole message, text streamed in order, and the rate-limit headers read', async () => {
    script = { events: answerEvents(), end: 'finish', headers: { 'anthropic-ratelimit-requests-remaining': '41', 'anthropic-ratelimit-requests-limit': '50' } };
    const streamed: string[] = [];
    const answer = await model().complete(request((t) => streamed.push(t)));
    expect(streamed.join('')).toBe('I will write two files.');
    expect(answer.content.map((b) => b.type)).toEqual(['thinking', 'text', 'tool_use', 'tool_use']);
    expect(answer.content[3]).toEqual({ type: 'tool_use', id: 'toolu_b', name: 'workspace_write', input: { path: 'bé.txt', content: 'line1\nline2', n: [1, 2] } });
    expect(answer.stopReason).toBe('tool_use');
    expect(answer.usage).toEqual({ inputTokens: 120, outputTokens: 57, cacheReadTokens: 80 });
    expect(answer.remaining).toEqual({ rpm: 41 });
    expect(answer.limits).toEqual({ rpm: 50 });
  });

  it.each([
    ['the response ends cleanly mid-message', 'end' as const],
    ['the connection drops mid-message', 'destroy' as const],
  ])('fails retryably when %s', async (_, end) => {
    script = { events: answerEvents().slice(0, 8), end };
    const streamed: string[] = [];
    const err = await model()
      .complete(request((t) => streamed.push(t)))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeDefined();
    expect(streamed).toEqual(['I will ']); // what came before the break was streamed, as before
    const failure = classifyModelError(err, 'api.example.com');
    expect(failure.type).toBe(FailureType.ModelConnectionError);
    expect(failure.nonRetryable).toBe(false);
  });

  it('an error event mid-stream is classified as the provider’s error, as before', async () => {
    const overloaded = { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } as unknown as StreamEvent;
    script = { events: [...answerEvents().slice(0, 8), overloaded], end: 'finish' };
    const err = await model()
      .complete(request(() => undefined))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect(classifyModelError(err).type).toBe(FailureType.ModelOverloaded);
  });

  it('a cancelled call rejects as aborted, never with the partial message', async () => {
    script = { events: answerEvents().slice(0, 9), end: 'hold' };
    const controller = new AbortController();
    const sent = new Promise<void>((resolve) => (sentAll = resolve));
    const call = model().complete(request(() => undefined, controller.signal));
    await sent;
    controller.abort();
    await expect(call).rejects.toBeInstanceOf(Anthropic.APIUserAbortError);
  });
});
