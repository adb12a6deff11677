/**
 * A live stream outlives the request that opened it: one opened with an API key must end once the key no longer
 * works (revoked on any replica, or expired), not when the client happens to reconnect. Checked against the
 * database on the stream's own keep-alive beat, so a revocation ends it within one beat.
 */
import type { Principal } from '../../contract/identity';
import type { Store } from '../../shared/store';

/** Whether the credential the stream was opened with still works; true for credentials with nothing to revoke here. */
export async function credentialHolds(store: Pick<Store, 'apiKeys'>, caller: Principal, now = new Date()): Promise<boolean> {
  if (caller.method !== 'key' || caller.keyId === undefined) return true;
  const key = await store.apiKeys.get(caller.keyId);
  return key !== undefined && key.revokedAt === null && (key.expiresAt === null || Date.parse(key.expiresAt) > now.getTime());
}
