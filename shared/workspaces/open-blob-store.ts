/** The blob store config asks for: the database unless WORKSPACE_STORE_URL names an S3 bucket. */
import type { Config } from '../config';
import type { Store } from '../store';
import { DatabaseBlobStore, type BlobStore } from './blob-store';
import { S3BlobStore } from './s3-blob-store';

export function openBlobStore(config: Config, store: Store): BlobStore {
  return config.workspaces.storeUrl ? new S3BlobStore(config.workspaces.storeUrl) : new DatabaseBlobStore(store);
}
