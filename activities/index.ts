/**
 * All activities, built from injected adapters. The workflow imports only the *type* of this
 * object; the worker registers the object itself.
 */
import type { ActivityDeps } from './deps';
import { createFollowUpActivities } from './follow-up-activities';
import { createScheduleActivities } from './schedule-activities';
import { createSubagentActivities } from './subagent-activities';
import { createWebhookActivities } from './webhook-activities';
import { createHumanActivities } from './human-activities';
import { createModelActivities } from './model-activities';
import { createRunActivities } from './run-activities';
import { createSweeperActivities } from './sweeper-activities';
import { createReapActivities } from './reap-abandoned-starts';
import { createToolActivities } from './tool-activities';
import { heartbeatingThroughout } from './heartbeat';
import { patientWithStore } from './store-patience';

export function createActivities(deps: ActivityDeps) {
  const model = createModelActivities(deps);
  const tools = createToolActivities(deps);
  // Each attempt heartbeats from its start to its end (./heartbeat.ts); a database away for longer than an
  // activity's attempts last is waited for, not failed (./store-patience.ts).
  return heartbeatingThroughout(patientWithStore({
    ...createRunActivities(deps),
    ...model.activities,
    ...tools,
    ...createHumanActivities(deps),
    ...createSweeperActivities(deps),
    ...createReapActivities(deps),
    ...createFollowUpActivities(deps),
    ...createWebhookActivities(deps),
    ...createScheduleActivities(deps),
    ...createSubagentActivities(deps),
  }, deps));
}

export type Activities = ReturnType<typeof createActivities>;
export type { ActivityDeps } from './deps';
