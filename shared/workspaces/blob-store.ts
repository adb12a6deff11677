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
  /** Deletes every blob of the run. */
  deleteRun(runId: string): Promise<void>;
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

  deleteRun(runId: string): Promise<void> {
    return this.store.workspaceBlobs.deleteRun(runId);
  }
}
