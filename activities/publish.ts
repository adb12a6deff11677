import type { Bus } from '../shared/bus/bus';
import type { RunEvent } from '../contract/events';

/** Announces committed events; call after the transaction that wrote them has committed. */
export function publishEvents(bus: Bus, runId: string, events: RunEvent[]): void {
  for (const event of events) bus.publish({ type: 'event', runId, event });
}

/** Cuts long text for previews and event payloads, saying how much was left out. */
export function preview(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}
