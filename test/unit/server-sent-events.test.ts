/**
 * Server-sent events as Longhaul reads them: the contract's parser (contract/server-sent-events.ts) must give the
 * events the SSE standard defines however the text was cut; the model's stream read with it
 * (activities/model/server-sent-events.ts), not by the SDK's Stream, from Node's own stream under the transport's
 * body or from any other body's web stream; a failure stops the read and says why.
 */
import zlib from 'node:zlib';
import { createHttpFetch, claimNodeBody } from '../../activities/model/http-transport';
import { readServerSentEvents } from '../../activities/model/server-sent-events';
import { ServerSentEventParser } from '../../contract/server-sent-events';
import { listenLocally, type LocalServer } from '../support/http-server';

type Event = [string | null, string];

function parseAll(pieces: string[]): Event[] {
  const out: Event[] = [];
  const parser = new ServerSentEventParser((event, data) => out.push([event, data]));
  for (const p of pieces) parser.feed(p);
  parser.end();
  return out;
}

/** `text` cut at every place into two pieces, and into single characters. */
function cuts(text: string): string[][] {
  const all = [[text], [...text]];
  for (let i = 1; i < text.length; i++) all.push([text.slice(0, i), text.slice(i)]);
  return all;
}

describe('server-sent events, parsed', () => {
  const stream = 'event: message_start\ndata: {"a":1}\n\n: a comment\nevent: ping\ndata: {}\n\nid: 7\nretry: 10\ndata: one\ndata:two\ndata\n\nevent: last\ndata: x\n\n';
  const expected: Event[] = [
    ['message_start', '{"a":1}'],
    ['ping', '{}'],
    [null, 'one\ntwo\n'],
    ['last', 'x'],
  ];

  it('takes events, data lines, comments and other fields as the standard says, however the text is cut', () => {
    for (const pieces of cuts(stream)) expect(parseAll(pieces)).toEqual(expected);
  });

  it.each([
    ['CRLF', '\r\n'],
    ['CR', '\r'],
  ])('takes %s line endings as LF, also one cut between its CR and its LF', (_, ending) => {
    const text = stream.replace(/\n/g, ending);
    for (const pieces of cuts(text)) expect(parseAll(pieces)).toEqual(expected);
  });

  it('drops the byte-order mark at the start of the stream, and an event its blank line never came for', () => {
    expect(parseAll(['\ufeffevent: a\ndata: 1\n\nevent: b\ndata: 2\n'])).toEqual([['a', '1']]);
    expect(parseAll(['event: a\ndata: 1\n\ndata: cut'])).toEqual([['a', '1']]);
  });

  it('dispatches only events with data, names an empty event field as none, and keeps the last event ID across events', () => {
    const out: [string | null, string, string][] = [];
    const parser = new ServerSentEventParser((event, data, id) => out.push([event, data, id]));
    parser.feed('data: a\n\nevent: ping\n\nid: 3\nevent:\ndata: b\n\ndata: c\n\nid: 4\nid: x\0y\nevent: e\ndata:\n\nid\ndata: d\n\n');
    expect(out).toEqual([
      [null, 'a', ''],
      // `event: ping` without data is not dispatched
      [null, 'b', '3'],
      [null, 'c', '3'],
      // an ID with a NUL in it is ignored; an empty `data:` line is an event with empty data
      ['e', '', '4'],
      // a bare `id` resets it
      [null, 'd', ''],
    ]);
    out.length = 0;
    parser.feed('event: ping\n\ndata: e\n\n');
    // the name of an event without data does not carry over to the next
    expect(out).toEqual([[null, 'e', '']]);
  });
});

describe('server-sent events, read from a response', () => {
  let server: LocalServer;
  /** The body the next response sends, in pieces written apart (bytes, so characters can be split). */
  let pieces: Buffer[] = [];
  let ending: 'end' | 'destroy' | 'hold' = 'end';
  /** The next response's body gzipped (a proxy that compresses). */
  let gzipped = false;
  const closedSockets: Promise<void>[] = [];

  beforeAll(async () => {
    server = await listenLocally((req, res) => {
      closedSockets.push(new Promise((resolve) => req.socket.on('close', () => resolve())));
      res.writeHead(200, { 'content-type': 'text/event-stream', ...(gzipped && { 'content-encoding': 'gzip' }) });
      const gzip = gzipped ? zlib.createGzip() : undefined;
      gzip?.pipe(res);
      let i = 0;
      const next = () => {
        if (i < pieces.length) {
          if (gzip) gzip.write(pieces[i++], () => gzip.flush());
          else res.write(pieces[i++]);
          return setTimeout(next, 2);
        }
        if (ending === 'end') (gzip ?? res).end();
        else if (ending === 'destroy') res.destroy();
      };
      next();
    });
  });
  afterAll(() => server.stop());

  /** "é" and an emoji, their bytes cut in the middle across writes. */
  function splitCharacters(): Buffer[] {
    const bytes = Buffer.from('event: t\ndata: caf\u00e9 \u{1f680}\n\n', 'utf8');
    const e = bytes.indexOf(0xc3);
    const rocket = bytes.indexOf(0xf0);
    return [bytes.subarray(0, e + 1), bytes.subarray(e + 1, rocket + 2), bytes.subarray(rocket + 2)];
  }

  const fetches: [string, () => typeof fetch][] = [
    ['node:http (its Node stream)', () => createHttpFetch()],
    ['the global fetch (its web stream)', () => globalThis.fetch],
  ];

  describe.each(fetches)('through %s', (_, fetchOf) => {
    it('reads every event as it comes, characters split across chunks whole', async () => {
      pieces = splitCharacters();
      ending = 'end';
      const events: Event[] = [];
      await readServerSentEvents(await fetchOf()(server.url), (event, data) => events.push([event, data]));
      expect(events).toEqual([['t', 'caf\u00e9 \u{1f680}']]);
    });

    it('fails when the connection drops, after the events that came before it', async () => {
      pieces = [Buffer.from('event: a\ndata: 1\n\n')];
      ending = 'destroy';
      const events: Event[] = [];
      await expect(readServerSentEvents(await fetchOf()(server.url), (event, data) => events.push([event, data]))).rejects.toThrow();
      expect(events).toEqual([['a', '1']]);
    });

    it('stops reading when an event is refused, fails with that error, and lets the connection go', async () => {
      pieces = [Buffer.from('event: a\ndata: 1\n\n'), Buffer.from('event: b\ndata: 2\n\n')];
      ending = 'hold';
      const events: string[] = [];
      const refused = new Error('refused');
      const read = readServerSentEvents(await fetchOf()(server.url), (event) => {
        events.push(event!);
        throw refused;
      });
      await expect(read).rejects.toBe(refused);
      expect(events).toEqual(['a']);
      await closedSockets.at(-1); // the held response's connection is closed, not left open
    });
  });

  it('a compressed body: its events read, and its connection closed when an event is refused', async () => {
    gzipped = true;
    try {
      pieces = splitCharacters();
      ending = 'end';
      const events: Event[] = [];
      await readServerSentEvents(await createHttpFetch()(server.url), (event, data) => events.push([event, data]));
      expect(events).toEqual([['t', 'caf\u00e9 \u{1f680}']]);

      pieces = [Buffer.from('event: a\ndata: 1\n\n')];
      ending = 'hold';
      const refused = new Error('refused');
      const read = readServerSentEvents(await createHttpFetch()(server.url), () => {
        throw refused;
      });
      await expect(read).rejects.toBe(refused);
      await closedSockets.at(-1); // not only the decompressor: the response under it, and its connection
    } finally {
      gzipped = false;
    }
  });

  it('fails a read that starts after the request was aborted, and a web read of a body that failed unread', async () => {
    pieces = [Buffer.from('event: a\ndata: 1\n\n')];
    ending = 'hold';
    const transport = createHttpFetch();
    const controller = new AbortController();
    const aborted = await transport(server.url, { signal: controller.signal });
    controller.abort();
    await closedSockets.at(-1);
    await expect(readServerSentEvents(aborted, () => undefined)).rejects.toThrow(/abort/i);

    ending = 'destroy';
    const dropped = await transport(server.url);
    await closedSockets.at(-1);
    await new Promise((resolve) => setImmediate(resolve));
    await expect(dropped.text()).rejects.toThrow(); // not an empty body
  });

  it('takes the Node stream only while the web stream is unread, and the other way round', async () => {
    pieces = [Buffer.from('event: a\ndata: 1\n\n')];
    ending = 'end';
    const transport = createHttpFetch();
    const first = await transport(server.url);
    expect(claimNodeBody(first.body!)).toBeDefined();
    expect(claimNodeBody(first.body!)).toBeUndefined(); // once
    await expect(first.text()).rejects.toThrow();

    const second = await transport(server.url);
    expect(await second.text()).toBe('event: a\ndata: 1\n\n');
    expect(claimNodeBody(second.body!)).toBeUndefined();
    expect(claimNodeBody(new Response('x').body!)).toBeUndefined(); // not the transport's
  });
});
