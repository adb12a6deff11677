/** Bookkeeping the workflow asks for: mirror its state into the database and the transcript. */
import type { EventDraft, Progress } from '../workflows/types';
import type { ActivityDeps } from './deps';
import type { AssistantBlock } from './model/model-adapter';
import { publishEvents } from './publish';

export interface SyncRunStateArgs {
  runId: string;
  progress: Progress;
  events?: EventDraft[];
  /** The run has ended: stamp ended_at and keep the final answer as its result. */
  ended?: boolean;
}

export function createRunActivities(deps: ActivityDeps) {
  const { store, bus } = deps;

  /** Returns the time the state was recorded; the workflow stamps it on its search attributes. */
  async function syncRunState({ runId, progress, events = [], ended }: SyncRunStateArgs): Promise<{ at: string }> {
    let result: string | null | undefined;
    if (ended && progress.status === 'completed') {
      const last = await store.messages.latest(runId, 'assistant');
      result = ((last?.content as AssistantBlock[] | undefined) ?? [])
        .map((b) => (b.type === 'text' ? b.text : ''))
        .join('');
    }
    const written = await store.transaction(async (tx) => {
      await tx.runs.updateState(runId, {
        status: progress.status,
        statusDetail: progress.statusDetail,
        progress,
        error: progress.error,
        ...(result !== undefined && { result }),
        ended,
      });
      return tx.events.append(runId, events);
    });
    publishEvents(bus, runId, written);
    return { at: written[written.length - 1]?.at ?? new Date().toISOString() };
  }

  return { syncRunState };
}
