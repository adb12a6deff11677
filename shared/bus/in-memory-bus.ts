/**
 * One process, API and worker together: listeners are called synchronously. It also tracks the
 * text each run's model is streaming right now, so a listener that arrives mid-message can be
 * given the text so far.
 */
import type { Bus, BusListener, BusMessage, RunsListener } from './bus';
import { StreamedTexts, type StreamSnapshot } from './streamed-text';

export class InMemoryBus implements Bus {
  private readonly listeners = new Map<string, Set<BusListener>>();
  private readonly runsListeners = new Set<RunsListener>();
  private readonly streams = new StreamedTexts();

  publish(msg: BusMessage): void {
    this.track(msg);
    if (msg.type === 'event') this.announceRun(msg.runId, msg.event.seq);
    else if (msg.type === 'notify') this.announceRun(msg.runId, msg.seq);
    const set = this.listeners.get(msg.runId);
    if (!set) return;
    for (const listener of [...set]) listener(msg);
  }

  private track(msg: BusMessage): void {
    if (msg.type === 'delta.end') this.streams.delete(msg.runId);
    else if (msg.type === 'delta.reset') this.streams.of(msg.runId).start(msg.turn, msg.attempt);
    else if (msg.type === 'delta') this.streams.of(msg.runId).add(msg.turn, msg.attempt, msg.offset, msg.text);
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

  subscribeRuns(listener: RunsListener): () => void {
    this.runsListeners.add(listener);
    return () => this.runsListeners.delete(listener);
  }

  get followsRuns(): boolean {
    return this.runsListeners.size > 0;
  }

  /** Tells the runs listeners alone (a run changed that nobody here follows by itself). */
  announceRun(runId: string | null, seq: number): void {
    for (const listener of [...this.runsListeners]) listener(runId, seq);
  }

  /** Synchronous: subscribe, then read this, in the same tick, and nothing is missed. */
  liveTextNow(runId: string): StreamSnapshot | null {
    return this.streams.snapshot(runId);
  }

  async liveText(runId: string): Promise<StreamSnapshot | null> {
    return this.liveTextNow(runId);
  }

  async close(): Promise<void> {
    this.listeners.clear();
    this.runsListeners.clear();
    this.streams.clear();
  }
}
