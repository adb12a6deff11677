/**
 * Follow-up messages, from the run's side: at a turn boundary it takes in every message waiting in
 * the database — into the conversation (before the model call of that turn) and the transcript
 * (`user.message`) — and learns whether any raised its caps, which are stored on the run as well.
 */
import { eventKeys, messageKeys } from '../contract/keys';
import type { RunLimits } from '../contract/run';
import type { AcceptFollowUpsResult } from '../contract/activity-io';
import type { ActivityDeps } from './deps';
import { publishEvents } from './publish';

/** What a user message is stored as in the conversation. */
export interface UserMessageContent {
  text: string;
  by: string;
}

export function createFollowUpActivities(deps: ActivityDeps) {
  const { store, bus } = deps;

  async function acceptFollowUps({ runId, turn }: { runId: string; turn: number }): Promise<AcceptFollowUpsResult> {
    const { accepted, limits, events } = await store.transaction(async (tx) => {
      await tx.runs.lock(runId);
      const pending = await tx.userMessages.pending(runId);
      await tx.userMessages.markAccepted(
        pending.map((m) => m.id),
        turn,
      );
      for (const m of pending) {
        const content: UserMessageContent = { text: m.text, by: m.by };
        await tx.messages.put({ runId, key: messageKeys.userMessage(m.id), turn, kind: 'user', content });
      }
      const events = await tx.events.append(
        runId,
        pending.map((m) => ({ key: eventKeys.userMessage(m.id), type: 'user.message' as const, data: { messageId: m.id, text: m.text, by: m.by, turn } })),
      );
      // The limits of every message taken in at this turn, this attempt's and an earlier one's of the same step (whose
      // result the workflow never saw): so a retry raises the run's limits as the first attempt would have.
      const limits: Partial<RunLimits> = {};
      for (const m of await tx.userMessages.acceptedAt(runId, turn)) {
        for (const [name, value] of Object.entries(m.limits ?? {}) as [keyof RunLimits, number][]) limits[name] = Math.max(limits[name] ?? 0, value);
      }
      const raised = Object.keys(limits).length > 0;
      // Stored too, not only in the workflow: the tree's books, a continuation's start and the run's view read the row.
      if (raised) await tx.runs.raiseLimits(runId, limits);
      return { accepted: pending.length, limits: raised ? limits : null, events };
    });
    publishEvents(bus, runId, events);
    return { accepted, limits, at: events[events.length - 1]?.at ?? new Date().toISOString() };
  }

  return { acceptFollowUps };
}
