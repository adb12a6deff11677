/**
 * Where a run's time goes, read from its Temporal history (the server's event times): per step, the time
 * workflow tasks took (from started to completed: the workflow code, the SDK, and any local activities in the
 * task), the time each kind of activity ran in its worker (started → completed) and waited to be picked up
 * (scheduled → started), and the rest (server and dispatch gaps between them). For the `steps` bench, to say
 * where Longhaul's time per step goes beside a bare workflow's.
 */
import { temporal } from '@temporalio/proto';
import type { HistoryEvent } from '../test/support/history-calls';

const EventType = temporal.api.enums.v1.EventType;

const ms = (e: HistoryEvent): number => Number(e.eventTime!.seconds ?? 0) * 1000 + (e.eventTime!.nanos ?? 0) / 1e6;

export interface StepBreakdown {
  /** Run time from the first history event to the last, ÷ steps. */
  totalMs: number;
  workflowTaskMs: number;
  workflowTaskWaitMs: number;
  /** By activity type: time running in a worker, and waiting to be picked up, ÷ steps. */
  activities: Record<string, { runMs: number; waitMs: number; count: number }>;
  /** What the rest leaves: the server's own time between events. */
  otherMs: number;
  workflowTasks: number;
}

export function stepBreakdown(events: HistoryEvent[], steps: number): StepBreakdown {
  const byId = new Map(events.map((e) => [Number(e.eventId), e]));
  let workflowTaskMs = 0;
  let workflowTaskWaitMs = 0;
  let workflowTasks = 0;
  const activities: StepBreakdown['activities'] = {};
  for (const e of events) {
    if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) {
      const started = byId.get(Number(e.workflowTaskCompletedEventAttributes!.startedEventId))!;
      const scheduled = byId.get(Number(e.workflowTaskCompletedEventAttributes!.scheduledEventId))!;
      workflowTaskMs += ms(e) - ms(started);
      workflowTaskWaitMs += ms(started) - ms(scheduled);
      workflowTasks += 1;
    }
    if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
      const a = e.activityTaskCompletedEventAttributes!;
      const started = byId.get(Number(a.startedEventId))!;
      const scheduled = byId.get(Number(a.scheduledEventId))!;
      const type = scheduled.activityTaskScheduledEventAttributes!.activityType!.name!;
      const entry = (activities[type] ??= { runMs: 0, waitMs: 0, count: 0 });
      entry.runMs += ms(e) - ms(started);
      entry.waitMs += ms(started) - ms(scheduled);
      entry.count += 1;
    }
  }
  const total = ms(events.at(-1)!) - ms(events[0]!);
  const accounted = workflowTaskMs + workflowTaskWaitMs + Object.values(activities).reduce((s, a) => s + a.runMs + a.waitMs, 0);
  const per = (x: number) => Number((x / steps).toFixed(2));
  return {
    totalMs: per(total),
    workflowTaskMs: per(workflowTaskMs),
    workflowTaskWaitMs: per(workflowTaskWaitMs),
    activities: Object.fromEntries(Object.entries(activities).map(([k, a]) => [k, { runMs: per(a.runMs), waitMs: per(a.waitMs), count: a.count }])),
    otherMs: per(total - accounted),
    workflowTasks,
  };
}
