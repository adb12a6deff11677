/**
 * A workspace's folder is walked with synchronous `readdir` and `lstat`, a slice of entries at a time. Each
 * asynchronous call waits for a thread of libuv's pool and for the event loop to take its result back: about
 * 0.1–0.3 ms on a quiet machine and over 1 ms on a busy one, where the pool also serves pg's password hashing and
 * every other worker's file calls — several times a tool call's own work, every step. The synchronous call is a
 * few microseconds. The walk gives the event loop back after every slice, so even a workspace at its entry cap
 * never holds up heartbeats and streams for longer than one slice takes (a millisecond or so).
 */
import { setImmediate } from 'node:timers/promises';

const ENTRIES_PER_SLICE = 128;

/** Counts entries walked; `due()` says when to give the event loop back (`await giveBack()`). */
export class SyncSlices {
  private entries = 0;

  due(): boolean {
    this.entries += 1;
    return this.entries % ENTRIES_PER_SLICE === 0;
  }
}

export async function giveBack(): Promise<void> {
  await setImmediate();
}
