/** One process, API and worker together: listeners are called synchronously. */
import type { Bus, BusListener, BusMessage } from './bus';

export class InMemoryBus implements Bus {
  private readonly listeners = new Map<string, Set<BusListener>>();

  publish(msg: BusMessage): void {
    const set = this.listeners.get(msg.runId);
    if (!set) return;
    for (const listener of [...set]) listener(msg);
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

  async close(): Promise<void> {
    this.listeners.clear();
  }
}
