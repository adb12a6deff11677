/**
 * The bus carries what happens in a run from the worker (which does it) to API processes (which
 * push it to browsers): committed events and live model-token deltas.
 *
 * Three shapes, one interface (create-bus.ts picks):
 * - in memory, when worker and API share a process: full events and deltas, synchronously
 *   (in-memory-bus.ts);
 * - SQLite, separate processes: the API tails the database, at most every 100 ms
 *   (sqlite-tail-bus.ts);
 * - Postgres: LISTEN/NOTIFY, so any of several API replicas serves any run (postgres-bus.ts).
 * Cross-process buses deliver `notify` (new events exist up to `seq`) instead of the events
 * themselves; the reader fetches them from the database, which stays the one source of truth.
 */
import type { RunEvent } from '../../contract/events';
import type { StreamSnapshot } from './streamed-text';

export type BusMessage =
  | { type: 'event'; runId: string; event: RunEvent }
  /** Events up to `seq` are committed; read them from the database. */
  | { type: 'notify'; runId: string; seq: number }
  /** `text` streamed by the model at `offset` (UTF-16 code units) of turn `turn`'s message. */
  | { type: 'delta'; runId: string; turn: number; attempt: number; offset: number; text: string }
  /** A model call is being retried: text streamed by the failed attempt must be discarded. */
  | { type: 'delta.reset'; runId: string; turn: number; attempt: number }
  /** The turn's message is complete and stored; its live text is no longer needed. */
  | { type: 'delta.end'; runId: string; turn: number };

export type DeltaMessage = Extract<BusMessage, { type: 'delta' | 'delta.reset' | 'delta.end' }>;

export const isDeltaMessage = (msg: BusMessage): msg is DeltaMessage => msg.type === 'delta' || msg.type === 'delta.reset' || msg.type === 'delta.end';

export type BusListener = (msg: BusMessage) => void;
/**
 * A run committed events up to `seq` (or its row changed): what a feed of many runs needs to know.
 * `runId` null: the bus may have missed changes (a lost connection); re-read everything.
 */
export type RunsListener = (runId: string | null, seq: number) => void;

export interface Bus {
  publish(msg: BusMessage): void;
  subscribe(runId: string, listener: BusListener): () => void;
  /**
   * Every run's changes, without following each: the per-user runs feed. Cross-process buses learn
   * of them from the database (NOTIFY, or a tail of recently updated runs).
   */
  subscribeRuns(listener: RunsListener): () => void;
  /**
   * The text streamed so far for the run's current model message, when the bus cannot be sure its
   * listeners saw it all (a cross-process bus that started listening mid-stream). In memory: null.
   */
  liveText?(runId: string): Promise<StreamSnapshot | null>;
  /** The same, answered in the tick of `subscribe` (in memory only): nothing can fall between the two. */
  liveTextNow?(runId: string): StreamSnapshot | null;
  close(): Promise<void>;
}
