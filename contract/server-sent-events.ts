/**
 * Server-sent events parsed as the standard says (WHATWG HTML, "Server-sent events": the event stream's
 * interpretation), for both streams Longhaul reads: the model's (activities/model/server-sent-events.ts) and its own
 * run stream in the published client (client/sse.ts). Pure and synchronous, so the browser's client can use it and a
 * worker reading a thousand model streams pays one call a chunk, however many events the chunk holds.
 *
 * Lines end with LF, CRLF or CR, even one cut between its CR and its LF; a byte-order mark starting the stream is
 * dropped; comments and unknown fields (`retry` among them: callers reconnect on their own terms) are skipped;
 * `data` lines are joined with LF; an event is dispatched at a blank line only if it has data; an event whose blank
 * line never came is dropped at the end.
 */

/**
 * One dispatched event: its `event` field (null when it had none or an empty one; a browser's EventSource calls such
 * an event `message`), its data, and the last event ID: the latest `id` field up to this event, kept across events as the
 * standard keeps it ('' before any).
 */
export type OnServerSentEvent = (event: string | null, data: string, lastEventId: string) => void;

/** The line-by-line state of one stream of events. Feed it decoded text in any pieces; it calls `onEvent` per event. */
export class ServerSentEventParser {
  /** Text after the last line ending seen (so never a line ending itself). */
  private pending = '';
  /** The last piece ended with CR: an LF starting the next is that line ending's second half. */
  private afterCR = false;
  private started = false;
  private event: string | null = null;
  private data: string[] = [];
  private lastEventId = '';

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
    const buffer = this.pending === '' ? text : this.pending + text;
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
    this.pending = start === 0 ? buffer : buffer.slice(start);
  }

  /** The stream ended: an event its blank line never came for is dropped, as is a last line without its ending. */
  end(): void {
    this.pending = '';
    this.event = null;
    this.data = [];
  }

  private line(line: string): void {
    if (line === '') {
      const event = this.event;
      this.event = null;
      if (this.data.length === 0) return; // no data: nothing to dispatch, and its name does not carry over
      const data = this.data;
      this.data = [];
      this.onEvent(event, data.length === 1 ? data[0]! : data.join('\n'), this.lastEventId);
      return;
    }
    const colon = line.indexOf(':');
    if (colon === 0) return; // a comment
    const field = colon === -1 ? line : line.slice(0, colon);
    if (field !== 'event' && field !== 'data' && field !== 'id') return;
    const value = colon === -1 ? '' : line.slice(line.charCodeAt(colon + 1) === 0x20 ? colon + 2 : colon + 1);
    if (field === 'event') this.event = value === '' ? null : value;
    else if (field === 'data') this.data.push(value);
    else if (!value.includes('\0')) this.lastEventId = value;
  }
}
