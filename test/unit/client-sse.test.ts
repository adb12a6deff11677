/**
 * The published client's SSE reader (client/sse.ts): line endings however the chunks cut them, so a CRLF split
 * between two chunks is one line ending, not two (which would end a message early and lose its event name).
 */
import { readSse, type SseMessage } from '../../client/sse';

async function readAll(pieces: string[]): Promise<SseMessage[]> {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const p of pieces) controller.enqueue(encoder.encode(p));
      controller.close();
    },
  });
  const out: SseMessage[] = [];
  for await (const m of readSse(body)) out.push(m);
  return out;
}

describe('the client’s SSE reader', () => {
  const stream = ': keep-alive\n\nid: 7\nevent: run.event\ndata: {"a":1}\n\nevent: b\ndata: one\ndata: two\n\n';
  const expected: SseMessage[] = [
    { id: '7', event: 'run.event', data: '{"a":1}' },
    { id: undefined, event: 'b', data: 'one\ntwo' },
  ];

  it.each([
    ['LF', '\n'],
    ['CRLF', '\r\n'],
    ['CR', '\r'],
  ])('reads %s line endings however the stream is cut in two', async (_, ending) => {
    const text = stream.replace(/\n/g, ending);
    for (let i = 0; i <= text.length; i++) expect(await readAll([text.slice(0, i), text.slice(i)])).toEqual(expected);
  });
});
