/**
 * Each worker's care of workspaces over time: at start it removes the folders of worker processes
 * that died (on this machine, or on a disk it shares), and keeps marking its own folder alive; then, periodically, it hibernates workspaces unused for
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
import { ALIVE_EVERY_MS } from '../shared/workspaces/workspace-sync';

export async function startWorkspaceJanitor(deps: { activityDeps: ActivityDeps; blobs: BlobStore; config: Config; logger: Logger }): Promise<{ stop(): Promise<void> }> {
  const { activityDeps, blobs, config, logger } = deps;
  const { store, bus, workspaces: sync } = activityDeps;
  const removed = await sync.removeLeftovers();
  logger.info({ folder: sync.root }, 'workspace folder');
  if (removed.length) logger.info({ removed }, 'removed workspace folders of worker processes that are gone');
  // On its own timer: a long upkeep tick must not let another worker take this one for gone.
  const alive = setInterval(() => void sync.markAlive().catch((err: unknown) => logger.warn({ err }, 'could not mark the workspace folder alive')), ALIVE_EVERY_MS);
  alive.unref();

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
      clearInterval(alive);
      await running;
    },
  };
}
