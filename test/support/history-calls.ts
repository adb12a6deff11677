/**
 * Reading a run's Temporal history for what it ran: activities (remote ones from their scheduled events,
 * local ones from their markers, quick steps opened up into their calls) and patches. For the tests and
 * benches that check where steps ran and what they cost the history.
 */
import { temporal } from '@temporalio/proto';

const EventType = temporal.api.enums.v1.EventType;
export type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export interface ActivityCall {
  type: string;
  local: boolean;
  /** What it returned (for a call inside quick steps, its part of their result). */
  result: any;
  /** The workflow task completion that scheduled it (remote) or recorded it (local). */
  taskCompletedEventId: number;
  /** Where in the history: its scheduled event, or its marker. */
  eventIndex: number;
  /** Which quick-steps activity (1, 2, …) it was part of. */
  quickStep?: number;
}

/** JSON payloads as the default data converter writes them. */
function payloadJson(p: temporal.api.common.v1.IPayload | null | undefined): any {
  return p?.data?.length ? JSON.parse(Buffer.from(p.data).toString('utf8')) : undefined;
}

/**
 * The activities a history ran, in order: remote ones from their scheduled events, local ones from their
 * markers. Quick steps are shown as what they did — each step's tool calls, then its model call (when it
 * made one) — each marked `quickStep`.
 */
export function activityCalls(events: HistoryEvent[]) {
  const results = new Map<string, any>();
  for (const e of events) {
    if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
      results.set(String(e.activityTaskCompletedEventAttributes!.scheduledEventId), payloadJson(e.activityTaskCompletedEventAttributes!.result?.payloads?.[0]));
    }
  }
  const calls: ActivityCall[] = [];
  let quickStepsSeen = 0;
  for (const [eventIndex, e] of events.entries()) {
    if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
      const a = e.activityTaskScheduledEventAttributes!;
      calls.push({ type: a.activityType!.name!, local: false, result: results.get(String(e.eventId)), taskCompletedEventId: Number(a.workflowTaskCompletedEventId), eventIndex });
    }
    if (e.eventType === EventType.EVENT_TYPE_MARKER_RECORDED && e.markerRecordedEventAttributes!.markerName === 'core_local_activity') {
      const m = e.markerRecordedEventAttributes!;
      const data = payloadJson(m.details!.data!.payloads![0]);
      const result = payloadJson(m.details!.result?.payloads?.[0]);
      const taskCompletedEventId = Number(m.workflowTaskCompletedEventId);
      // Quick steps that failed (a call in doubt) record no result: shown as themselves.
      if (data.activity_type !== 'quickSteps' || !result) {
        calls.push({ type: data.activity_type, local: true, result, taskCompletedEventId, eventIndex });
        continue;
      }
      const quickStep = ++quickStepsSeen;
      for (const step of result.steps) {
        for (const tool of step.tools) calls.push({ type: 'runTool', local: true, result: tool, taskCompletedEventId, eventIndex, quickStep });
        if (step.reply) calls.push({ type: 'callModel', local: true, result: step.reply, taskCompletedEventId, eventIndex, quickStep });
      }
    }
  }
  return calls;
}

/** The patches a history recorded, in order. */
export function patchesOf(events: HistoryEvent[]): string[] {
  return events
    .filter((e) => e.eventType === EventType.EVENT_TYPE_MARKER_RECORDED && e.markerRecordedEventAttributes!.markerName === 'core_patch')
    .map((e) => payloadJson(e.markerRecordedEventAttributes!.details!['patch-data']!.payloads![0]).id);
}
