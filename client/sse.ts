/**
 * Server-Sent Events read from a fetch response body, in Node and browsers alike (no EventSource,
 * so the bearer token goes in a header, never in the URL). Yields one message per blank-line
 * terminated block; comments (keep-alives) are skipped.
 */
export interface SseMessage {
  id?: string;
  event: string;
  data: string;
}

export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  /** A CR that ended the last chunk: held, since an LF starting the next one is the same line ending. */
  let heldCR = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      let text = heldCR + (done ? '' : decoder.decode(value, { stream: true }));
      heldCR = !done && text.endsWith('\r') ? '\r' : '';
      if (heldCR) text = text.slice(0, -1);
      buffer += text.replace(/\r\n?/g, '\n');
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const message = parseBlock(block);
        if (message) yield message;
      }
      if (done) return;
    }
  } finally {
    reader.releaseLock();
  }
}

function parseBlock(block: string): SseMessage | undefined {
  let event = 'message';
  let id: string | undefined;
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (!line || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') id = value;
  }
  return data.length ? { id, event, data: data.join('\n') } : undefined;
}
