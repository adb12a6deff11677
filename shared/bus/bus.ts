/**
 * The bus carries what happens in a run from the worker (which does it) to API processes
 * (which push it to browsers): committed events and live model-token deltas.
 */
import type { RunEvent } from '../../workflows/types';

export type BusMessage =
  | { type: 'event'; runId: string; event: RunEvent }
  | { type: 'delta'; runId: string; turn: number; attempt: number; offset: number; text: string }
  /** A model call is being retried: text streamed by the failed attempt must be discarded. */
  | { type: 'delta.reset'; runId: string; turn: number; attempt: number };

export type BusListener = (msg: BusMessage) => void;

export interface Bus {
  publish(msg: BusMessage): void;
  subscribe(runId: string, listener: BusListener): () => void;
  close(): Promise<void>;
}
