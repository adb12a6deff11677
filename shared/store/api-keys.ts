/**
 * API keys (migration 018): who owns each, what it may do, when it expires, when it was last used, and whether it
 * was revoked — and which key made it (migration 026). Only a hash of each secret is stored
 * (shared/api-key-format.ts). Nothing here is cached: the check reads the row on every request, so a revocation
 * written by any replica holds on all of them at once.
 *
 * Revoking a key revokes every key it made, and theirs, in the same transaction: so the check stays one row's read
 * (a revoked maker's keys are revoked rows themselves) and a leaked key cannot leave a replacement behind.
 */
import { SCOPES, type Scope } from '../../contract/identity';
import { inTransaction, nowIso, parseJson, type Executor } from './executor';
import type { Dialect } from './open-database';
import type { ApiKeysTable } from './schema';

export interface ApiKeyRecord {
  id: string;
  owner: string;
  name: string;
  scopes: Scope[];
  secretHash: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
  revokedBy: string | null;
  /** The key that made this one; null: a credential that is not a key (a person's) did. */
  madeBy: string | null;
}

export interface NewApiKeyRecord {
  id: string;
  owner: string;
  name: string;
  scopes: readonly Scope[];
  secretHash: string;
  expiresAt?: string | null;
}

const isScope = (s: unknown): s is Scope => (SCOPES as readonly unknown[]).includes(s);

function toRecord(r: ApiKeysTable): ApiKeyRecord {
  return {
    id: r.id,
    owner: r.owner,
    name: r.name,
    // A scope this version does not know grants nothing (fail closed).
    scopes: parseJson<unknown[]>(r.scopes_json, []).filter(isScope),
    secretHash: r.secret_hash,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    lastUsedAt: r.last_used_at,
    revokedAt: r.revoked_at,
    revokedBy: r.revoked_by,
    madeBy: r.made_by ?? null,
  };
}

/**
 * Why a key no longer works at `nowMs`, as every check of it says it (the bearer check, a socket's beat, a schedule's
 * firing): revoked, or expired; undefined while it works. A row that is gone counts as revoked (keys are never
 * deleted: fail closed).
 */
export function keyEnded(key: Pick<ApiKeyRecord, 'revokedAt' | 'expiresAt'> | undefined, nowMs: number): 'key_revoked' | 'key_expired' | undefined {
  if (!key || key.revokedAt !== null) return 'key_revoked';
  if (key.expiresAt !== null && Date.parse(key.expiresAt) <= nowMs) return 'key_expired';
  return undefined;
}

async function readKey(db: Executor, id: string): Promise<ApiKeyRecord | undefined> {
  const row = await db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toRecord(row);
}

export class ApiKeysRepo {
  constructor(
    private readonly db: Executor,
    private readonly dialect: Dialect,
  ) {}

  /** A key made by a credential that is not a key. */
  async insert(k: NewApiKeyRecord): Promise<ApiKeyRecord> {
    return this.write(this.db, k, null);
  }

  /**
   * A key made by the key `maker`, only while the maker is not revoked (undefined otherwise, nothing written). The
   * maker's row is read behind its lock on Postgres (SQLite's transaction holds the database's), and `revoke` takes
   * that lock first: a revocation that commits meanwhile either is waited for (and the maker is then seen revoked)
   * or waits for this insert (and then finds the new key among the maker's and revokes it too).
   */
  async insertMadeBy(maker: string, k: NewApiKeyRecord): Promise<ApiKeyRecord | undefined> {
    return inTransaction(this.db, async (trx) => {
      let query = trx.selectFrom('api_keys').select('revoked_at').where('id', '=', maker);
      if (this.dialect === 'postgres') query = query.forUpdate();
      const row = await query.executeTakeFirst();
      if (!row || row.revoked_at !== null) return undefined;
      return this.write(trx, k, maker);
    });
  }

  private async write(db: Executor, k: NewApiKeyRecord, madeBy: string | null): Promise<ApiKeyRecord> {
    const row: ApiKeysTable = {
      id: k.id,
      owner: k.owner,
      name: k.name,
      scopes_json: JSON.stringify(k.scopes),
      secret_hash: k.secretHash,
      created_at: nowIso(),
      expires_at: k.expiresAt ?? null,
      last_used_at: null,
      revoked_at: null,
      revoked_by: null,
      made_by: madeBy,
    };
    await db.insertInto('api_keys').values(row).execute();
    return toRecord(row);
  }

  async get(id: string): Promise<ApiKeyRecord | undefined> {
    return readKey(this.db, id);
  }

  /** The keys of these owners, newest first, revoked ones included (a list shows what was revoked and when). */
  async listOwnedBy(owners: readonly string[]): Promise<ApiKeyRecord[]> {
    if (owners.length === 0) return [];
    const rows = await this.db.selectFrom('api_keys').selectAll().where('owner', 'in', [...owners]).orderBy('created_at', 'desc').orderBy('id').execute();
    return rows.map(toRecord);
  }

  /** How many of the owner's keys still work (neither revoked nor expired at `at`). */
  async countActive(owner: string, at: Date): Promise<number> {
    const row = await this.db
      .selectFrom('api_keys')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('owner', '=', owner)
      .where('revoked_at', 'is', null)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', at.toISOString())]))
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /**
   * Revokes the key and every key made from it, at any depth, in one transaction; `by` (who revoked the first) is
   * the author of them all, since they revoked them all. A key already revoked keeps its first revocation's time and
   * author. Returns the key as it is now.
   *
   * Two statements, in this order: the key's own row first, which takes its lock (Postgres) so that a key being
   * made by it either committed before (and the second statement, with a snapshot of its own, sees it) or waits
   * and then finds its maker revoked (`insertMadeBy`); then the keys made from it, through `made_by`.
   */
  async revoke(id: string, by: string): Promise<ApiKeyRecord | undefined> {
    return inTransaction(this.db, async (trx) => {
      const at = nowIso();
      await trx.updateTable('api_keys').set({ revoked_at: at, revoked_by: by }).where('id', '=', id).where('revoked_at', 'is', null).execute();
      await trx
        .withRecursive('made_from(id)', (db) =>
          db
            .selectFrom('api_keys')
            .select('id')
            .where('made_by', '=', id)
            .union((db) => db.selectFrom('api_keys').innerJoin('made_from', 'made_from.id', 'api_keys.made_by').select('api_keys.id')),
        )
        .updateTable('api_keys')
        .set({ revoked_at: at, revoked_by: by })
        .where('id', 'in', (eb) => eb.selectFrom('made_from').select('made_from.id'))
        .where('revoked_at', 'is', null)
        .execute();
      return readKey(trx, id);
    });
  }

  /**
   * Records a use, but at most once per `everyMs` per key, so a busy key does not write on every request: the
   * update only happens when the last recorded use is older than that (a conditional update, so concurrent
   * requests on several replicas write it once between them). Returns whether it wrote.
   */
  async touch(id: string, at: Date, everyMs: number): Promise<boolean> {
    const before = new Date(at.getTime() - everyMs).toISOString();
    const r = await this.db
      .updateTable('api_keys')
      .set({ last_used_at: at.toISOString() })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', before)]))
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }
}
