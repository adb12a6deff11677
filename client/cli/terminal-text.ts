/**
 * Text from a run — the model's words, goals, tool names, errors — printed for a person: a
 * terminal obeys escape sequences in it (clear the screen, write the clipboard with OSC 52, set the
 * window title, rewrite the line with a carriage return). `forTerminal` keeps `\n` and `\t` and
 * drops every other control character, C0 and C1, with the sequences they start, and the invisible
 * bidi overrides that make text read other than it is. Without its ESC, what is left of a broken
 * sequence is inert text. `--json` output does not pass here (JSON escapes controls itself).
 */

// eslint-disable-next-line no-control-regex -- matching control sequences is the point
const SEQUENCE = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[PX^_][^\x1b]*\x1b\\|[ -/]*[0-OQ-WYZ\\`-~])|\x9b[0-?]*[ -/]*[@-~]|\x9d[^\x07\x1b\x9c]*[\x07\x9c]/g;
// eslint-disable-next-line no-control-regex -- as above: C0 but \t and \n, DEL, C1, bidi embeddings, overrides and isolates
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex -- the start of a sequence, complete or not
const STARTS = /[\x1b\x9b\x9d]/g;
/** Longest unfinished sequence held back for the next chunk; past it, it is released (and made inert). */
const HOLD_MAX = 256;

export function forTerminal(text: string): string {
  return text.replace(SEQUENCE, '').replace(CONTROL, '');
}

/**
 * Streamed text (the model's deltas) through `forTerminal`, where a sequence may be cut between two
 * chunks: an unfinished one at a chunk's end waits for the next chunk, so it is removed whole.
 */
export class TerminalStream {
  private pending = '';

  push(chunk: string): string {
    const text = this.pending + chunk;
    this.pending = '';
    const open = unfinishedAt(text);
    if (open >= 0 && text.length - open <= HOLD_MAX) {
      this.pending = text.slice(open);
      return forTerminal(text.slice(0, open));
    }
    return forTerminal(text);
  }

  /** What is held back, made safe: the stream paused (a line is printed) or ended. */
  flush(): string {
    const rest = this.pending;
    this.pending = '';
    return forTerminal(rest);
  }
}

/** Where the first sequence that the text ends before finishing starts; -1 if none. */
function unfinishedAt(text: string): number {
  const whole = new RegExp(SEQUENCE.source, 'y');
  let done = 0;
  for (const start of text.matchAll(STARTS)) {
    if (start.index < done) continue; // inside a sequence already matched whole
    whole.lastIndex = start.index;
    const found = whole.exec(text);
    if (!found) return start.index;
    done = start.index + found[0].length;
  }
  return -1;
}
