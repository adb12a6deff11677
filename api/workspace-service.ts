/**
 * A run's workspace through the API: what it holds (from the current manifest), one file's bytes
 * (from the blob store, whichever worker last held it), and releasing it once the run has ended.
 */
import path from 'node:path';
import type { WorkspaceView } from '../contract/api';
import type { Principal } from '../contract/identity';
import { isTerminalStatus } from '../contract/run';
import type { Bus } from '../shared/bus/bus';
import type { Store } from '../shared/store';
import type { BlobStore } from '../shared/workspaces/blob-store';
import { releaseWorkspace } from '../shared/workspaces/release-workspace';
import { ApiError } from './errors';
import type { RunService } from './run-service';

/** Content types by extension; anything else is a download of bytes. Text is always UTF-8 here. */
const CONTENT_TYPES: Record<string, string> = {
  '.txt': 'text/plain; charset=utf-8',
  '.log': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.xml': 'application/xml; charset=utf-8',
  '.yaml': 'application/yaml; charset=utf-8',
  '.yml': 'application/yaml; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.py': 'text/x-python; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.pdf': 'application/pdf',
};

export const contentTypeOf = (file: string): string => CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';

export class WorkspaceService {
  constructor(private readonly deps: { store: Store; blobs: BlobStore; runs: RunService; bus: Bus }) {}

  async view(caller: Principal, runId: string): Promise<WorkspaceView> {
    await this.deps.runs.getVisible(caller, runId);
    const record = await this.deps.store.workspaces.get(runId);
    if (!record) return { state: null, version: 0, files: [], bytes: 0 };
    const files = record.entries.flatMap((e) => (e.kind === 'file' ? [{ path: e.path, bytes: e.size, updatedAt: new Date(e.mtimeMs).toISOString() }] : []));
    return { state: record.state, version: record.version, files, bytes: record.bytes };
  }

  async file(caller: Principal, runId: string, filePath: string): Promise<{ data: Buffer; contentType: string; name: string }> {
    await this.deps.runs.getVisible(caller, runId);
    const record = await this.deps.store.workspaces.get(runId);
    const entry = record?.entries.find((e) => e.kind === 'file' && e.path === filePath);
    if (!entry || entry.kind !== 'file') throw new ApiError(404, 'not_found', `the workspace has no file ${JSON.stringify(filePath)}`);
    return { data: await this.deps.blobs.get(runId, entry.hash), contentType: contentTypeOf(filePath), name: path.posix.basename(filePath) };
  }

  /** Only whoever may steer the run, and only once it has ended: a live run still works in its workspace. */
  async release(caller: Principal, runId: string): Promise<WorkspaceView> {
    const run = await this.deps.runs.getSteerable(caller, runId);
    if (!isTerminalStatus(run.status)) throw new ApiError(409, 'run_not_ended', 'a run’s workspace can be released once the run has ended');
    for (const event of await releaseWorkspace(this.deps, runId, 'request')) this.deps.bus.publish({ type: 'event', runId, event });
    return this.view(caller, runId);
  }
}
