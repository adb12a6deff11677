/**
 * Each worker's care of workspaces over time: at start it removes the folders of worker processes
 * on this machine that died; then, periodically, it hibernates workspaces unused for
 * WORKSPACE_IDLE_SEC (local copy dropped, durable copy kept), drops copies of released ones, and
 * releases the workspaces of runs that ended WORKSPACE_RETENTION_SEC ago (any worker may; the
 * database lets one do each).
 */
import type { ActivityDeps } from '../activities';
import { publishEvents } from '../activities/publish';
import type { Config } from '../shared/config';
import type { Logger } from '../shared/logger';
import type { BlobStore } from '../shared/workspaces/blob-store';
import { releaseWorkspace } from '../shared/workspaces/release-workspace';

export async function startWorkspaceJanitor(deps: { activityDeps: ActivityDeps; blobs: BlobStore; config: Config; logger: Logger }): Promise<{ stop(): Promise<void> }> {
  const { activityDeps, blobs, config, logger } = deps;
  const { store, bus, workspaces: sync } = activityDeps;
  const removed = await sync.removeLeftovers();
  if (removed.length) logger.info({ removed }, 'removed workspace folders of worker processes that are gone');

  const idleMs = config.workspaces.idleSec * 1000;
  const tick = async () => {
    for (const { runId, events } of await sync.hibernateIdle(idleMs)) publishEvents(bus, runId, events);
    for (const runId of sync.heldRuns()) {
      if ((await store.workspaces.get(runId))?.state === 'released') await sync.forget(runId);
    }
    const cutoff = new Date(Date.now() - config.workspaces.retentionSec * 1000).toISOString();
    for (const runId of await store.workspaces.expired(cutoff)) {
      publishEvents(bus, runId, await releaseWorkspace({ store, blobs }, runId, 'retention'));
      await sync.forget(runId);
    }
  };
  let running: Promise<void> | undefined;
  const timer = setInterval(
    () => {
      if (running) return;
      running = tick()
        .catch((err: unknown) => logger.warn({ err }, 'workspace upkeep failed; retrying'))
        .finally(() => (running = undefined));
    },
    Math.min(30_000, Math.max(200, idleMs / 2)),
  );
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
