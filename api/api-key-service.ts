/**
 * API keys for machines: created by a user for themselves, listed and revoked by their owner or by a team admin who
 * administers every team the owner holds a role on (`mayManageKeysOf`). A key never does more than the credential
 * that created it could (a key cannot mint a broader key), and its secret is returned once, at creation.
 *
 * Why every team and not any: a key acts with all its owner's roles, so only someone who administers all of them may
 * speak for it — and a team admin may add anyone to their team without the user's consent (api/team-service.ts), so
 * "an admin of some team of the owner's" would let any admin reach anyone's keys by granting them a role first.
 *
 * Managing keys takes a credential that is not a key (a session, a provider's JWT, a static token, the open local
 * user) or a key with the `admin` scope: a narrow key that leaks must not be able to list its siblings, revoke them,
 * or mint a replacement that outlives its own revocation. The same holds for a key with `admin`: a key-made key
 * lives no longer than its maker — it expires no later, and revoking the maker revokes it, and the keys it made in
 * turn, in one transaction (shared/store/api-keys.ts), so the check on every request still reads one row.
 */
import { MAX_ACTIVE_KEYS_PER_USER, type ApiKeyCreated, type ApiKeyView, type CreateApiKeyBody } from '../contract/api-keys';
import { mayOnTeam, scopeAllows, SCOPE_GRANTS, teamsWhere, type Principal } from '../contract/identity';
import type { Store } from '../shared/store';
import type { ApiKeyRecord } from '../shared/store/api-keys';
import { newApiKey } from './api-key-format';
import { ApiError } from './errors';

export function apiKeyView(k: ApiKeyRecord): ApiKeyView {
  return { id: k.id, name: k.name, owner: k.owner, scopes: k.scopes, createdAt: k.createdAt, expiresAt: k.expiresAt, lastUsedAt: k.lastUsedAt, revokedAt: k.revokedAt, revokedBy: k.revokedBy, madeBy: k.madeBy };
}

const keyNotFound = () => new ApiError(404, 'key_not_found', 'API key not found');

export class ApiKeyService {
  constructor(private readonly deps: { store: Store }) {}

  /** 403 `scope_missing` unless the caller may manage keys at all: any credential but a key without `admin`. */
  assertMayManage(p: Principal): void {
    if (p.method === 'key' && !scopeAllows(p.scopes, 'administer')) {
      throw new ApiError(403, 'scope_missing', 'managing API keys takes a signed-in user, a token, or a key with the admin scope');
    }
  }

  async create(p: Principal, body: CreateApiKeyBody): Promise<ApiKeyCreated> {
    this.assertMayManage(p);
    const wider = body.scopes.filter((s) => !SCOPE_GRANTS[s].every((permission) => scopeAllows(p.scopes, permission)));
    if (wider.length > 0) throw new ApiError(403, 'scope_missing', `your credential may not grant ${wider.join(', ')}: a key cannot be broader than the credential that creates it`);
    if (body.expiresAt !== undefined && Date.parse(body.expiresAt) <= Date.now()) {
      throw new ApiError(400, 'invalid_request', 'expiresAt must be in the future', [{ path: 'expiresAt', message: 'must be in the future' }]);
    }
    const expiresAt = await this.expiryFor(p, body.expiresAt === undefined ? null : new Date(body.expiresAt).toISOString());
    // A soft cap: two creations at the same moment may both pass it by one, which is harmless.
    if ((await this.deps.store.apiKeys.countActive(p.user, new Date())) >= MAX_ACTIVE_KEYS_PER_USER) {
      throw new ApiError(429, 'too_many_keys', `you already have ${MAX_ACTIVE_KEYS_PER_USER} keys that work; revoke one first`);
    }
    const key = newApiKey();
    const fields = { id: key.id, owner: p.user, name: body.name.trim(), scopes: body.scopes, secretHash: key.secretHash, expiresAt };
    // A key caller has its key's id: expiryFor refused one without.
    const record = p.method === 'key' ? await this.deps.store.apiKeys.insertMadeBy(p.keyId!, fields) : await this.deps.store.apiKeys.insert(fields);
    // The maker was revoked after this request's check passed: what it makes now would escape its revocation.
    if (!record) throw new ApiError(401, 'key_revoked', 'this API key was revoked');
    return { ...apiKeyView(record), key: key.text };
  }

  /**
   * When a new key stops working: as asked, except that a key's key expires no later than the key that makes it
   * (none asked → the maker's expiry; later than it → 403). A key caller whose own row cannot be read is refused.
   */
  private async expiryFor(p: Principal, asked: string | null): Promise<string | null> {
    if (p.method !== 'key') return asked;
    const maker = p.keyId === undefined ? undefined : await this.deps.store.apiKeys.get(p.keyId);
    if (!maker) throw new ApiError(403, 'scope_missing', 'this key may not create keys');
    if (maker.expiresAt === null) return asked;
    if (asked === null) return maker.expiresAt;
    if (Date.parse(asked) > Date.parse(maker.expiresAt)) {
      throw new ApiError(403, 'scope_missing', `a key cannot outlive the key that creates it: expiresAt must be at most ${maker.expiresAt}`);
    }
    return asked;
  }

  /**
   * The caller's keys and those of the users whose keys they may manage: members of the teams the caller administers
   * who hold no role on any other team (`owner`: only that user's, or none).
   */
  async list(p: Principal, owner?: string): Promise<ApiKeyView[]> {
    this.assertMayManage(p);
    const members = new Set<string>();
    for (const team of teamsWhere(p, 'administer')) for (const m of await this.deps.store.teamMembers.members(team)) members.add(m.user);
    members.delete(p.user);
    const asked = owner === undefined ? [...members] : members.has(owner) ? [owner] : [];
    const teams = await this.deps.store.teamMembers.teamsOf(asked);
    const owners = asked.filter((user) => this.mayManageKeysOf(p, teams.get(user)));
    if (owner === undefined || owner === p.user) owners.push(p.user);
    return (await this.deps.store.apiKeys.listOwnedBy(owners)).map(apiKeyView);
  }

  /** Revokes a key of the caller's, or of a user whose keys they may manage; any other key is a 404. */
  async revoke(p: Principal, id: string): Promise<ApiKeyView> {
    this.assertMayManage(p);
    const key = await this.deps.store.apiKeys.get(id);
    if (!key || !(await this.mayManage(p, key))) throw keyNotFound();
    const revoked = await this.deps.store.apiKeys.revoke(id, p.user);
    if (!revoked) throw keyNotFound();
    return apiKeyView(revoked);
  }

  private async mayManage(p: Principal, key: ApiKeyRecord): Promise<boolean> {
    if (key.owner === p.user) return true;
    return this.mayManageKeysOf(p, (await this.deps.store.teamMembers.teamsOf([key.owner])).get(key.owner));
  }

  /**
   * Whether the caller may manage the keys of another user who holds roles on `ownerTeams`: only when the caller
   * administers every one of them, so a user who is also on a team the caller does not administer is out of reach.
   *
   * A user on no team at all is nobody's to manage but their own: "every one of no teams" would otherwise hand every
   * team admin the keys of every user outside all teams. A user whose roles are all on teams the caller administers
   * stays manageable, though the caller may have put them there: that is how an admin revokes the keys of their own
   * team's members (one who leaves, a key that leaks), and such a user's keys reach no team beyond the caller's.
   * Until a grant takes the user's consent (api/team-service.ts), an admin can still draw a user of no team into
   * reach by granting a role — listing the keys' names and revoking them, never using them.
   */
  private mayManageKeysOf(p: Principal, ownerTeams: ReadonlySet<string> | undefined): boolean {
    if (ownerTeams === undefined || ownerTeams.size === 0) return false;
    return [...ownerTeams].every((team) => mayOnTeam(p, team, 'administer'));
  }
}
