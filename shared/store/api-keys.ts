/**
 * API keys (migration 018): who owns each, what it may do, when it expires, when it was last used, and whether it
 * was revoked. Only a hash of each secret is stored (shared/api-key-format.ts). Nothing here is cached: the check
 * reads the row on every request, so a revocation written by any replica holds on all of them at once.
 */
import { SCOPES, type Scope } from '../../contract/identity';
import { nowIso, parseJson, type Executor } from './executor';
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
  };
}

export class ApiKeysRepo {
  constructor(private readonly db: Executor) {}

  async insert(k: NewApiKeyRecord): Promise<ApiKeyRecord> {
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
    };
    await this.db.insertInto('api_keys').values(row).execute();
    return toRecord(row);
  }

  async get(id: string): Promise<ApiKeyRecord | undefined> {
    const row = await this.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toRecord(row);
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

  /** Revokes the key unless it already was (the first revocation's time and author stay). Returns the key as it is now. */
  async revoke(id: string, by: string): Promise<ApiKeyRecord | undefined> {
    await this.db.updateTable('api_keys').set({ revoked_at: nowIso(), revoked_by: by }).where('id', '=', id).where('revoked_at', 'is', null).execute();
    return this.get(id);
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
