/**
 * The text a run's model is streaming right now, kept from offset 0 as deltas arrive. One tracker
 * serves everyone who follows a stream: the in-memory bus (to hand a late subscriber the text so
 * far), the worker persisting it for other processes, the SQLite tail (turning snapshots into
 * deltas), and an API process's run feed (which may join mid-stream and see pieces ahead of a gap).
 *
 * Rules: a delta belongs to one (turn, attempt); a new attempt of the same turn discards the text
 * of the old one (the model call is being retried); a piece overlapping what is known adds only its
 * new part; a piece past the end is held until the gap before it is filled.
 */

export interface StreamSnapshot {
  turn: number;
  attempt: number;
  /** Contiguous from offset 0. */
  text: string;
}

/** Text newly appended at `offset` (UTF-16 code units) of turn `turn`'s message. */
export interface TextPiece {
  turn: number;
  offset: number;
  text: string;
}

export interface AddResult {
  /** What became contiguous, in order; empty when the delta was old news or sits past a gap. */
  appended: TextPiece[];
  /** This delta started a new attempt of a turn whose earlier attempt had text: that text was dropped. */
  replaced: boolean;
  /** Pieces wait behind a gap: someone should fetch the text so far. */
  gap: boolean;
}

export class StreamedText {
  private current: (StreamSnapshot & { ahead: { offset: number; text: string }[] }) | null = null;

  /** The stream so far, or null when no message is being streamed. */
  get snapshot(): StreamSnapshot | null {
    return this.current ? { turn: this.current.turn, attempt: this.current.attempt, text: this.current.text } : null;
  }

  /** Begins (turn, attempt) with no text; says whether another attempt of the same turn was dropped. */
  start(turn: number, attempt: number): boolean {
    const replaced = this.current !== null && this.current.turn === turn && this.current.attempt !== attempt;
    this.current = { turn, attempt, text: '', ahead: [] };
    return replaced;
  }

  add(turn: number, attempt: number, offset: number, text: string): AddResult {
    let replaced = false;
    if (!this.current || this.current.turn !== turn || this.current.attempt !== attempt) {
      // A late attempt of an older turn is stale; anything newer starts a stream of its own.
      if (this.current && (this.current.turn > turn || (this.current.turn === turn && this.current.attempt > attempt))) {
        return { appended: [], replaced: false, gap: false };
      }
      replaced = this.start(turn, attempt);
    }
    const s = this.current!;
    if (offset > s.text.length) {
      s.ahead.push({ offset, text });
      return { appended: [], replaced, gap: true };
    }
    const appended: TextPiece[] = [];
    const append = (at: number, piece: string) => {
      const overlap = s.text.length - at;
      if (overlap >= piece.length) return;
      const added = piece.slice(overlap);
      appended.push({ turn, offset: s.text.length, text: added });
      s.text += added;
    };
    append(offset, text);
    // Pieces held behind a gap may fit now.
    s.ahead.sort((a, b) => a.offset - b.offset);
    while (s.ahead.length && s.ahead[0]!.offset <= s.text.length) {
      const next = s.ahead.shift()!;
      append(next.offset, next.text);
    }
    return { appended, replaced, gap: s.ahead.length > 0 };
  }

  /** The message of `turn` is complete (and stored): its live text is no longer needed. */
  end(turn: number): void {
    if (this.current && this.current.turn <= turn) this.current = null;
  }
}

/** One tracker per run. */
export class StreamedTexts {
  private readonly runs = new Map<string, StreamedText>();

  of(runId: string): StreamedText {
    let s = this.runs.get(runId);
    if (!s) {
      s = new StreamedText();
      this.runs.set(runId, s);
    }
    return s;
  }

  snapshot(runId: string): StreamSnapshot | null {
    return this.runs.get(runId)?.snapshot ?? null;
  }

  delete(runId: string): void {
    this.runs.delete(runId);
  }

  clear(): void {
    this.runs.clear();
  }
}
