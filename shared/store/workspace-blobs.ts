/** The database blob store's table: file contents by run and content hash. */
import type { Executor } from './executor';

export class WorkspaceBlobsRepo {
  constructor(private readonly db: Executor) {}

  async missing(runId: string, hashes: string[]): Promise<string[]> {
    if (hashes.length === 0) return [];
    const present = new Set<string>();
    for (let i = 0; i < hashes.length; i += 500) {
      const rows = await this.db.selectFrom('workspace_blobs').select('hash').where('run_id', '=', runId).where('hash', 'in', hashes.slice(i, i + 500)).execute();
      for (const r of rows) present.add(r.hash);
    }
    return hashes.filter((h) => !present.has(h));
  }

  async put(runId: string, hash: string, data: Buffer): Promise<void> {
    await this.db
      .insertInto('workspace_blobs')
      .values({ run_id: runId, hash, size: data.length, data })
      .onConflict((oc) => oc.columns(['run_id', 'hash']).doNothing())
      .execute();
  }

  /** Several blobs in one statement (absent ones are simply not in the map). */
  async getMany(runId: string, hashes: string[]): Promise<Map<string, Buffer>> {
    const out = new Map<string, Buffer>();
    if (hashes.length === 0) return out;
    const rows = await this.db.selectFrom('workspace_blobs').select(['hash', 'data']).where('run_id', '=', runId).where('hash', 'in', hashes).execute();
    for (const r of rows) out.set(r.hash, Buffer.from(r.data));
    return out;
  }

  /** Several blobs in one statement. */
  async putMany(runId: string, blobs: { hash: string; data: Buffer }[]): Promise<void> {
    if (blobs.length === 0) return;
    await this.db
      .insertInto('workspace_blobs')
      .values(blobs.map((b) => ({ run_id: runId, hash: b.hash, size: b.data.length, data: b.data })))
      .onConflict((oc) => oc.columns(['run_id', 'hash']).doNothing())
      .execute();
  }

  async get(runId: string, hash: string): Promise<Buffer | undefined> {
    const row = await this.db.selectFrom('workspace_blobs').select('data').where('run_id', '=', runId).where('hash', '=', hash).executeTakeFirst();
    return row ? Buffer.from(row.data) : undefined;
  }

  /** In the database, in one statement: no bytes pass through the worker. */
  async copyRun(fromRunId: string, toRunId: string): Promise<void> {
    await this.db
      .insertInto('workspace_blobs')
      .columns(['run_id', 'hash', 'size', 'data'])
      .expression((eb) => eb.selectFrom('workspace_blobs').select([eb.val(toRunId).as('run_id'), 'hash', 'size', 'data']).where('run_id', '=', fromRunId))
      .onConflict((oc) => oc.columns(['run_id', 'hash']).doNothing())
      .execute();
  }

  async deleteRun(runId: string): Promise<void> {
    await this.db.deleteFrom('workspace_blobs').where('run_id', '=', runId).execute();
  }

}
