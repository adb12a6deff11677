/**
 * Server-Sent Events read from a fetch response body, in Node and browsers alike (no EventSource,
 * so the bearer token goes in a header, never in the URL). Parsed by the contract's parser, the one a
 * worker reads the model's stream with; comments (keep-alives) are skipped.
 */
import { ServerSentEventParser } from '../contract/server-sent-events';

export interface SseMessage {
  /** The last event ID, as the standard keeps it: the latest `id` field up to this message (absent before any). */
  id?: string;
  /** `message` when the event had no name, as a browser's EventSource names it. */
  event: string;
  data: string;
}

export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const reader = body.getReader();
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true }); // the parser drops the stream's byte-order mark
  let ready: SseMessage[] = [];
  const parser = new ServerSentEventParser((event, data, lastEventId) => ready.push({ id: lastEventId === '' ? undefined : lastEventId, event: event ?? 'message', data }));
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        parser.feed(decoder.decode());
        parser.end();
      } else {
        parser.feed(decoder.decode(value, { stream: true }));
      }
      const messages = ready;
      ready = [];
      yield* messages;
      if (done) return;
    }
  } finally {
    reader.releaseLock();
  }
}
