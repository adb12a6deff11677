/**
 * A response's server-sent events, read as they arrive, each handed over synchronously (`onEvent`) the moment its
 * blank line comes. The SDK's own reading passes every event through two async generators and a web stream's
 * iterator: several promises an event (on Node 22 each also pays the async-context hooks that Temporal's and
 * OpenTelemetry's context tracking install), on every one of the thousand streams a worker reads at once. Here a
 * chunk costs one callback, however many events it holds: a quarter to a third less CPU a delta, and 8–15 % less
 * a streamed token under load (docs/benchmarks.md, session 18).
 *
 * Read from Node's own stream when the response came through http-transport.ts (no web stream at all), else
 * from the body's web stream (the global fetch). Parsed as the SSE standard says: lines end with LF, CRLF or CR;
 * `event` and `data` fields are kept, comments and other fields skipped; an event is dispatched at a blank line;
 * an unfinished event at the end of the stream is dropped.
 */
import { finished, type Readable } from 'node:stream';
import { claimNodeBody } from './http-transport';

/** One event: its `event` field (null when it had none) and its data lines joined by `\n`. */
export type OnServerSentEvent = (event: string | null, data: string) => void;

/** The line-by-line state of one stream of events. Feed it decoded text in any pieces; it calls `onEvent` per event. */
export class ServerSentEventParser {
  /** Text after the last line ending seen (so never a line ending itself). */
  private pending = '';
  /** The last piece ended with CR: an LF starting the next is that line ending's second half. */
  private afterCR = false;
  private started = false;
  private event: string | null = null;
  private data: string[] = [];

  constructor(private readonly onEvent: OnServerSentEvent) {}

  feed(text: string): void {
    if (text === '') return;
    if (this.afterCR) {
      this.afterCR = false;
      if (text.charCodeAt(0) === 0x0a) text = text.slice(1);
    }
    if (!this.started) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // the stream's byte-order mark
    }
    // No line ends in this piece: held, not searched again with what came before (a long line in many pieces).
    if (text.indexOf('\n') === -1 && text.indexOf('\r') === -1) {
      this.pending += text;
      return;
    }
    let buffer = this.pending === '' ? text : this.pending + text;
    let start = 0;
    if (buffer.indexOf('\r') === -1) {
      // The usual case (LF only): no per-character scan.
      let end: number;
      while ((end = buffer.indexOf('\n', start)) !== -1) {
        this.line(buffer.slice(start, end));
        start = end + 1;
      }
    } else {
      for (let i = 0; i < buffer.length; i++) {
        const c = buffer.charCodeAt(i);
        if (c !== 0x0a && c !== 0x0d) continue;
        this.line(buffer.slice(start, i));
        if (c === 0x0d) {
          if (i + 1 === buffer.length) this.afterCR = true;
          else if (buffer.charCodeAt(i + 1) === 0x0a) i++;
        }
        start = i + 1;
      }
    }
    buffer = start === 0 ? buffer : buffer.slice(start);
    this.pending = buffer;
  }

  /** The stream ended: a last line without its ending is taken; an event without its blank line is not dispatched. */
  end(): void {
    if (this.pending !== '') this.line(this.pending);
    this.pending = '';
  }

  private line(line: string): void {
    if (line === '') {
      if (this.event === null && this.data.length === 0) return;
      const event = this.event;
      const data = this.data.length === 1 ? this.data[0]! : this.data.join('\n');
      this.event = null;
      this.data = [];
      this.onEvent(event, data);
      return;
    }
    const colon = line.indexOf(':');
    if (colon === 0) return; // a comment
    const field = colon === -1 ? line : line.slice(0, colon);
    if (field !== 'event' && field !== 'data') return;
    const value = colon === -1 ? '' : line.slice(line.charCodeAt(colon + 1) === 0x20 ? colon + 2 : colon + 1);
    if (field === 'event') this.event = value;
    else this.data.push(value);
  }
}

/**
 * Reads `response`'s events to the end of its body. Resolves when the body ends; rejects with the body's error (a
 * dropped connection, an abort) or with what `onEvent` threw, and then stops reading and lets the body go.
 */
export function readServerSentEvents(response: Response, onEvent: OnServerSentEvent): Promise<void> {
  if (!response.body) return Promise.reject(new Error('the response has no body to read events from'));
  const parser = new ServerSentEventParser(onEvent);
  const source = claimNodeBody(response.body);
  return source ? readNodeStream(source, parser) : readWebStream(response.body, parser);
}

function readNodeStream(source: Readable, parser: ServerSentEventParser): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let failed = false;
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      source.off('data', onData);
      source.destroy();
      reject(err);
    };
    const onData = (chunk: string) => {
      try {
        parser.feed(chunk);
      } catch (err) {
        fail(err);
      }
    };
    source.setEncoding('utf8'); // multi-byte characters split between chunks are joined
    source.on('data', onData);
    // Also for a body that ended or failed before this was called (finished() reports either at once).
    finished(source, (err) => {
      if (failed) return;
      if (err) return fail(err);
      try {
        parser.end();
      } catch (e) {
        return fail(e);
      }
      resolve();
    });
  });
}

async function readWebStream(body: ReadableStream<Uint8Array>, parser: ServerSentEventParser): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parser.feed(decoder.decode(value, { stream: true }));
    }
    parser.feed(decoder.decode());
    parser.end();
  } catch (err) {
    await reader.cancel(err).catch(() => undefined);
    throw err;
  } finally {
    reader.releaseLock();
  }
}
