/**
 * Releases a run's workspace: the database says `released` (once, whoever asks first), then its
 * blobs are deleted and the run's events say why. Used by workers (retention) and the API (on request).
 */
import type { RunEvent } from '../../contract/events';
import { eventKeys } from '../../contract/keys';
import type { WorkspaceReleaseReason } from '../../contract/workspace';
import type { Store } from '../store';
import type { BlobStore } from './blob-store';

export async function releaseWorkspace(deps: { store: Store; blobs: BlobStore }, runId: string, reason: WorkspaceReleaseReason): Promise<RunEvent[]> {
  if (!(await deps.store.workspaces.release(runId))) return [];
  await deps.blobs.deleteRun(runId);
  return deps.store.events.append(runId, [{ key: eventKeys.workspaceReleased(), type: 'workspace.released', data: { reason } }]);
}
