/**
 * Workspace blobs in an S3-compatible object store (`WORKSPACE_STORE_URL=s3://bucket/prefix`), at
 * `<prefix>/<runId>/<hash>`. Endpoint, region and credentials come from the usual `AWS_*`
 * variables (`AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL` for a server other than AWS).
 */
import { CopyObjectCommand, DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, NoSuchKey, NotFound, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { inParallel, type BlobStore } from './blob-store';

const PARALLEL_REQUESTS = 16;

export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const u = new URL(url);
  if (u.protocol !== 's3:' || !u.hostname) throw new Error(`not an s3://bucket/prefix URL: ${url}`);
  return { bucket: u.hostname, prefix: u.pathname.replace(/^\/+|\/+$/g, '') };
}

export class S3BlobStore implements BlobStore {
  readonly kind = 's3';
  private readonly bucket: string;
  private readonly prefix: string;

  constructor(
    url: string,
    private readonly client: S3Client = new S3Client({ forcePathStyle: true }),
  ) {
    ({ bucket: this.bucket, prefix: this.prefix } = parseS3Url(url));
  }

  private key(runId: string, hash = ''): string {
    return [this.prefix, runId, hash].filter(Boolean).join('/') + (hash ? '' : '/');
  }

  async missing(runId: string, hashes: string[]): Promise<string[]> {
    const checks = await inParallel(hashes, PARALLEL_REQUESTS, async (hash) => {
        try {
          await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(runId, hash) }));
          return null;
        } catch (err) {
          if (err instanceof NotFound || (err as { name?: string }).name === 'NotFound') return hash;
          throw err;
        }
    });
    return checks.filter((h): h is string => h !== null);
  }

  async put(runId: string, hash: string, data: Buffer): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.key(runId, hash), Body: data, ContentLength: data.length }));
  }

  async get(runId: string, hash: string): Promise<Buffer> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(runId, hash) }));
      return Buffer.from(await out.Body!.transformToByteArray());
    } catch (err) {
      if (err instanceof NoSuchKey) throw new Error(`workspace blob ${hash} of run ${runId} is missing`, { cause: err });
      throw err;
    }
  }

  async getMany(runId: string, hashes: string[]): Promise<Map<string, Buffer>> {
    const data = await inParallel(hashes, PARALLEL_REQUESTS, (hash) => this.get(runId, hash));
    return new Map(hashes.map((h, i) => [h, data[i]!]));
  }

  async putMany(runId: string, blobs: { hash: string; data: Buffer }[]): Promise<void> {
    await inParallel(blobs, PARALLEL_REQUESTS, (b) => this.put(runId, b.hash, b.data));
  }

  /** Server-side copies: no bytes pass through the worker. */
  async copyRun(fromRunId: string, toRunId: string): Promise<void> {
    let token: string | undefined;
    do {
      const listed = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.key(fromRunId), ContinuationToken: token }));
      const hashes = (listed.Contents ?? []).map((o) => o.Key!.slice(this.key(fromRunId).length));
      await inParallel(hashes, PARALLEL_REQUESTS, (hash) =>
        this.client.send(new CopyObjectCommand({ Bucket: this.bucket, Key: this.key(toRunId, hash), CopySource: `${this.bucket}/${this.key(fromRunId, hash)}` })),
      );
      token = listed.IsTruncated ? listed.NextContinuationToken : undefined;
    } while (token);
  }

  async deleteRun(runId: string): Promise<void> {
    for (;;) {
      const listed = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.key(runId), MaxKeys: 1000 }));
      const keys = (listed.Contents ?? []).map((o) => ({ Key: o.Key! }));
      if (keys.length === 0) return;
      await this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys, Quiet: true } }));
      if (!listed.IsTruncated) return;
    }
  }
}
