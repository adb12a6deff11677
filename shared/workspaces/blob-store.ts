/**
 * Where workspace file contents live durably, by run and content hash: the one seam between
 * workspaces and storage. The database (the default: nothing to set up) or an S3-compatible store.
 */
import type { Store } from '../store';

export interface BlobStore {
  readonly kind: 'database' | 's3';
  /** Which of `hashes` this run's store does not hold yet. */
  missing(runId: string, hashes: string[]): Promise<string[]>;
  put(runId: string, hash: string, data: Buffer): Promise<void>;
  /** A blob the manifest names; throws when it is gone. */
  get(runId: string, hash: string): Promise<Buffer>;
  /** Many blobs at once (a restore); throws when one is gone. */
  getMany(runId: string, hashes: string[]): Promise<Map<string, Buffer>>;
  /** Many blobs at once (a save). */
  putMany(runId: string, blobs: { hash: string; data: Buffer }[]): Promise<void>;
  /** Deletes every blob of the run. */
  deleteRun(runId: string): Promise<void>;
  /** Copies every blob of one run to another (a schedule's next run starting from its predecessor's workspace). */
  copyRun(fromRunId: string, toRunId: string): Promise<void>;
}

export class DatabaseBlobStore implements BlobStore {
  readonly kind = 'database';
  constructor(private readonly store: Store) {}

  missing(runId: string, hashes: string[]): Promise<string[]> {
    return this.store.workspaceBlobs.missing(runId, hashes);
  }

  put(runId: string, hash: string, data: Buffer): Promise<void> {
    return this.store.workspaceBlobs.put(runId, hash, data);
  }

  async get(runId: string, hash: string): Promise<Buffer> {
    const data = await this.store.workspaceBlobs.get(runId, hash);
    if (!data) throw new Error(`workspace blob ${hash} of run ${runId} is missing`);
    return data;
  }

  async getMany(runId: string, hashes: string[]): Promise<Map<string, Buffer>> {
    const found = await this.store.workspaceBlobs.getMany(runId, hashes);
    const gone = hashes.find((h) => !found.has(h));
    if (gone) throw new Error(`workspace blob ${gone} of run ${runId} is missing`);
    return found;
  }

  putMany(runId: string, blobs: { hash: string; data: Buffer }[]): Promise<void> {
    return this.store.workspaceBlobs.putMany(runId, blobs);
  }

  deleteRun(runId: string): Promise<void> {
    return this.store.workspaceBlobs.deleteRun(runId);
  }

  copyRun(fromRunId: string, toRunId: string): Promise<void> {
    return this.store.workspaceBlobs.copyRun(fromRunId, toRunId);
  }
}

/** Runs `fn` over `items`, at most `limit` at a time (object stores answer one blob per request). */
export async function inParallel<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  });
  await Promise.all(lanes);
  return out;
}
