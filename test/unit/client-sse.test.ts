/**
 * The published client's SSE reader (client/sse.ts), on the contract's parser: line endings however the chunks cut
 * them, so a CRLF split between two chunks is one line ending, not two (which would end a message early and lose its
 * event name); characters split between chunks; the last event ID as the standard keeps it.
 */
import { readSse, type SseMessage } from '../../client/sse';

async function readAll(pieces: (string | Uint8Array)[]): Promise<SseMessage[]> {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const p of pieces) controller.enqueue(typeof p === 'string' ? encoder.encode(p) : p);
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
    // No id of its own: the last one stays, as in a browser's EventSource (and its Last-Event-ID on reconnect).
    { id: '7', event: 'b', data: 'one\ntwo' },
  ];

  it.each([
    ['LF', '\n'],
    ['CRLF', '\r\n'],
    ['CR', '\r'],
  ])('reads %s line endings however the stream is cut in two', async (_, ending) => {
    const text = stream.replace(/\n/g, ending);
    for (let i = 0; i <= text.length; i++) expect(await readAll([text.slice(0, i), text.slice(i)])).toEqual(expected);
  });

  it('joins a character split between chunks, drops the byte-order mark and names an unnamed event `message`', async () => {
    const bytes = new TextEncoder().encode('\ufeffdata: d\u00e9j\u00e0 \u{1f600}\n\n');
    for (let i = 0; i <= bytes.length; i++) expect(await readAll([bytes.slice(0, i), bytes.slice(i)])).toEqual([{ event: 'message', data: 'd\u00e9j\u00e0 \u{1f600}' }]);
  });

  it('lets the body go when its reader stops between two messages of one chunk, and drops a last message without its blank line', async () => {
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode('data: 1\n\ndata: 2\n\ndata: 3\n\n'));
      },
    });
    const seen: string[] = [];
    for await (const m of readSse(body)) {
      seen.push(m.data);
      if (seen.length === 2) break;
    }
    expect(seen).toEqual(['1', '2']);
    expect(body.locked).toBe(false);
    expect(await readAll(['data: a\n\ndata: b\n'])).toEqual([{ event: 'message', data: 'a' }]);
  });
});
