/** The `workspace.restored` event of a restore this worker just did (tool calls and pre-warming record it alike). */
import { eventKeys } from '../contract/keys';
import type { Restore } from '../shared/workspaces/workspace-sync';
import type { ActivityDeps } from './deps';
import { publishEvents } from './publish';

export async function recordRestore(deps: Pick<ActivityDeps, 'store' | 'bus' | 'workspaces' | 'metrics'>, runId: string, restored: Restore | null): Promise<void> {
  if (!restored) return;
  deps.metrics.workspaceRestored(restored.ms);
  const { cycle, ...facts } = restored;
  const events = await deps.store.events.append(runId, [{ key: eventKeys.workspaceRestored(cycle), type: 'workspace.restored', data: { worker: deps.workspaces.holder, ...facts } }]);
  publishEvents(deps.bus, runId, events);
}
