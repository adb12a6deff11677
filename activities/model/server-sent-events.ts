/**
 * A response's server-sent events, read as they arrive, each handed over synchronously (`onEvent`) the moment its
 * blank line comes. The SDK's own reading passes every event through two async generators and a web stream's
 * iterator: several promises an event (on Node 22 each also pays the async-context hooks that Temporal's and
 * OpenTelemetry's context tracking install), on every one of the thousand streams a worker reads at once. Here a
 * chunk costs one callback, however many events it holds: a quarter to a third less CPU a delta, and 8–15 % less
 * a streamed token under load (docs/benchmarks.md, session 18).
 *
 * Read from Node's own stream when the response came through http-transport.ts (no web stream at all), else
 * from the body's web stream (the global fetch). Parsed by the contract's parser, the one the published client
 * reads Longhaul's own run stream with.
 */
import { finished, type Readable } from 'node:stream';
import { ServerSentEventParser, type OnServerSentEvent } from '../../contract/server-sent-events';
import { claimNodeBody } from './http-transport';

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
