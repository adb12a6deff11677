/**
 * One process, API and worker together: listeners are called synchronously. It also remembers the
 * text each run's model is streaming right now, so a listener that arrives mid-message can be
 * given the text so far.
 */
import type { Bus, BusListener, BusMessage } from './bus';

export class InMemoryBus implements Bus {
  private readonly listeners = new Map<string, Set<BusListener>>();
  private readonly streams = new Map<string, { turn: number; attempt: number; text: string }>();

  publish(msg: BusMessage): void {
    this.track(msg);
    const set = this.listeners.get(msg.runId);
    if (!set) return;
    for (const listener of [...set]) listener(msg);
  }

  private track(msg: BusMessage): void {
    if (msg.type === 'delta.end') this.streams.delete(msg.runId);
    else if (msg.type === 'delta.reset') this.streams.set(msg.runId, { turn: msg.turn, attempt: msg.attempt, text: '' });
    else if (msg.type === 'delta') {
      let s = this.streams.get(msg.runId);
      if (!s || s.turn !== msg.turn || s.attempt !== msg.attempt) {
        s = { turn: msg.turn, attempt: msg.attempt, text: '' };
        this.streams.set(msg.runId, s);
      }
      if (msg.offset === s.text.length) s.text += msg.text;
    }
  }

  subscribe(runId: string, listener: BusListener): () => void {
    let set = this.listeners.get(runId);
    if (!set) {
      set = new Set();
      this.listeners.set(runId, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(runId);
    };
  }

  /** Synchronous in memory: subscribe, then read this, in the same tick, and nothing is missed. */
  liveTextNow(runId: string): { turn: number; attempt: number; text: string } | null {
    const s = this.streams.get(runId);
    return s ? { ...s } : null;
  }

  async liveText(runId: string) {
    return this.liveTextNow(runId);
  }

  async close(): Promise<void> {
    this.listeners.clear();
    this.streams.clear();
  }
}
