/**
 * The bearer check of API keys (`lh_…`): finds the key's row by its id, compares the secret's hash in constant
 * time, and refuses a revoked or expired key with its own code. The row is read on every request — no cache —
 * so a key revoked through any replica is refused by every replica on the very next request.
 */
import { API_KEY_PREFIX, type Principal } from '../contract/identity';
import type { Store } from '../shared/store';
import { keyEnded } from '../shared/store/api-keys';
import { parseApiKey, secretMatches } from './api-key-format';
import type { BearerCheck } from './auth';
import { ApiError } from './errors';

/** A key's last use is written at most this often (busy keys would otherwise write on every request). */
export const LAST_USED_EVERY_MS = 60_000;

export function apiKeyCheck(deps: { store: Pick<Store, 'apiKeys' | 'teamMembers'>; now?: () => Date }): BearerCheck {
  const { store } = deps;
  const now = deps.now ?? (() => new Date());
  return {
    accepts: (token) => token.startsWith(API_KEY_PREFIX),
    async principal(token): Promise<Principal> {
      const parsed = parseApiKey(token);
      const key = parsed && (await store.apiKeys.get(parsed.id));
      // Unknown id and wrong secret look the same, so the answer says nothing about which ids exist.
      if (!parsed || !key || !secretMatches(parsed.secret, key.secretHash)) throw new ApiError(401, 'unauthorized', 'invalid API key');
      const at = now();
      const ended = keyEnded(key, at.getTime());
      if (ended) throw new ApiError(401, ended, ended === 'key_revoked' ? 'this API key was revoked' : 'this API key has expired');
      if (!key.lastUsedAt || at.getTime() - Date.parse(key.lastUsedAt) >= LAST_USED_EVERY_MS) await store.apiKeys.touch(key.id, at, LAST_USED_EVERY_MS);
      return { user: key.owner, roles: await store.teamMembers.rolesOf(key.owner), scopes: key.scopes, method: 'key', keyId: key.id };
    },
  };
}
