/**
 * API keys in the store, the same on SQLite and Postgres (migration 018_api_keys): only a hash is kept, lists are by
 * owner, a revocation keeps its first time and author, and a key's last use is written at most once per interval.
 * The Slack decider columns of migration 018_slack_deciders are here too: a decision names the Slack account.
 */
import type { Store } from '../../shared/store';
import { hashSecret } from '../../api/api-key-format';
import { openTestStore } from '../support/test-store';

describe.each(['sqlite', 'postgres'] as const)('API keys on %s', (dialect) => {
  let store: Store;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ store, close } = await openTestStore(dialect));
  });
  afterAll(() => close());

  it('stores a key with its hash, scopes and expiry, and lists the keys of the owners asked for', async () => {
    const created = await store.apiKeys.insert({ id: 'aaaa000000000001', owner: 'ann', name: 'ci', scopes: ['runs:read', 'runs:write'], secretHash: hashSecret('s1'), expiresAt: '2030-01-01T00:00:00.000Z' });
    expect(created).toMatchObject({ owner: 'ann', scopes: ['runs:read', 'runs:write'], expiresAt: '2030-01-01T00:00:00.000Z', lastUsedAt: null, revokedAt: null });
    await store.apiKeys.insert({ id: 'aaaa000000000002', owner: 'bob', name: 'deploy', scopes: ['approvals:decide'], secretHash: hashSecret('s2') });
    expect(await store.apiKeys.get('aaaa000000000001')).toEqual(created);
    expect((await store.apiKeys.get('aaaa000000000001'))!.secretHash).toBe(hashSecret('s1'));
    expect(await store.apiKeys.get('nope')).toBeUndefined();
    expect((await store.apiKeys.listOwnedBy(['ann'])).map((k) => k.id)).toEqual(['aaaa000000000001']);
    expect((await store.apiKeys.listOwnedBy(['ann', 'bob'])).map((k) => k.id).sort()).toEqual(['aaaa000000000001', 'aaaa000000000002']);
    expect(await store.apiKeys.listOwnedBy([])).toEqual([]);
  });

  it('drops a stored scope this version does not know (it grants nothing)', async () => {
    await store.apiKeys.insert({ id: 'aaaa000000000003', owner: 'cy', name: 'odd', scopes: ['runs:read'], secretHash: hashSecret('s3') });
    await store.db.updateTable('api_keys').set({ scopes_json: JSON.stringify(['runs:read', 'everything']) }).where('id', '=', 'aaaa000000000003').execute();
    expect((await store.apiKeys.get('aaaa000000000003'))!.scopes).toEqual(['runs:read']);
  });

  it('revokes once: a second revocation keeps the first time and author', async () => {
    await store.apiKeys.insert({ id: 'aaaa000000000004', owner: 'ann', name: 'old', scopes: ['admin'], secretHash: hashSecret('s4') });
    const first = await store.apiKeys.revoke('aaaa000000000004', 'ann');
    expect(first).toMatchObject({ revokedBy: 'ann' });
    expect(first!.revokedAt).not.toBeNull();
    const again = await store.apiKeys.revoke('aaaa000000000004', 'admin-of-ops');
    expect(again).toMatchObject({ revokedAt: first!.revokedAt, revokedBy: 'ann' });
    expect(await store.apiKeys.revoke('nope', 'ann')).toBeUndefined();
  });

  it('counts the keys of an owner that still work', async () => {
    const at = new Date('2030-01-01T00:00:00.000Z');
    await store.apiKeys.insert({ id: 'cccc000000000001', owner: 'counted', name: 'a', scopes: ['runs:read'], secretHash: hashSecret('c1') });
    await store.apiKeys.insert({ id: 'cccc000000000002', owner: 'counted', name: 'b', scopes: ['runs:read'], secretHash: hashSecret('c2'), expiresAt: '2030-06-01T00:00:00.000Z' });
    await store.apiKeys.insert({ id: 'cccc000000000003', owner: 'counted', name: 'c', scopes: ['runs:read'], secretHash: hashSecret('c3'), expiresAt: '2029-06-01T00:00:00.000Z' });
    await store.apiKeys.insert({ id: 'cccc000000000004', owner: 'counted', name: 'd', scopes: ['runs:read'], secretHash: hashSecret('c4') });
    await store.apiKeys.revoke('cccc000000000004', 'counted');
    expect(await store.apiKeys.countActive('counted', at)).toBe(2);
    expect(await store.apiKeys.countActive('nobody', at)).toBe(0);
  });

  it("writes a key's last use at most once per interval", async () => {
    await store.apiKeys.insert({ id: 'aaaa000000000005', owner: 'ann', name: 'busy', scopes: ['runs:read'], secretHash: hashSecret('s5') });
    const t0 = new Date('2030-01-01T00:00:00.000Z');
    expect(await store.apiKeys.touch('aaaa000000000005', t0, 60_000)).toBe(true);
    expect(await store.apiKeys.touch('aaaa000000000005', new Date(t0.getTime() + 30_000), 60_000)).toBe(false);
    expect((await store.apiKeys.get('aaaa000000000005'))!.lastUsedAt).toBe(t0.toISOString());
    const t1 = new Date(t0.getTime() + 61_000);
    expect(await store.apiKeys.touch('aaaa000000000005', t1, 60_000)).toBe(true);
    expect((await store.apiKeys.get('aaaa000000000005'))!.lastUsedAt).toBe(t1.toISOString());
  });

  it('records the Slack account of a decision made in Slack, in the approval and its audit', async () => {
    const now = new Date();
    await store.approvals.insert({ id: 'apr_slack1', runId: 'run_slack1', kind: 'tool', turn: 1, tool: 'http_request', reason: 'r', requestedAt: now.toISOString(), expiresAt: new Date(now.getTime() + 60_000).toISOString() });
    const { won, approval } = await store.approvals.settle('apr_slack1', { outcome: 'approved', by: 'ann', channel: 'slack', slackUser: 'U_ANN' });
    expect(won).toBe(true);
    expect(approval).toMatchObject({ decidedBy: 'ann', channel: 'slack', slackUser: 'U_ANN' });
    expect((await store.approvals.auditTrail('apr_slack1')).map((a) => [a.actor, a.slack_user, a.outcome])).toEqual([['ann', 'U_ANN', 'accepted']]);
  });
});
