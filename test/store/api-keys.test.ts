/**
 * API keys in the store, the same on SQLite and Postgres (migrations 018_api_keys, 026_api_key_makers): only a hash
 * is kept, lists are by owner, a revocation keeps its first time and author and reaches every key made from the
 * revoked one, and a key's last use is written at most once per interval.
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

  it('revokes with a key every key made from it, at any depth, by the same author; keys made otherwise stay', async () => {
    const key = (id: string) => ({ id, owner: 'eve', name: id, scopes: ['admin'] as const, secretHash: hashSecret(id) });
    await store.apiKeys.insert(key('eeee000000000001'));
    const child = await store.apiKeys.insertMadeBy('eeee000000000001', key('eeee000000000002'));
    expect(child).toMatchObject({ madeBy: 'eeee000000000001', revokedAt: null });
    await store.apiKeys.insertMadeBy('eeee000000000002', key('eeee000000000003'));
    await store.apiKeys.insertMadeBy('eeee000000000003', key('eeee000000000004'));
    await store.apiKeys.insertMadeBy('eeee000000000001', key('eeee000000000005'));
    // Already revoked by its owner: keeps that revocation's time and author.
    const early = await store.apiKeys.revoke('eeee000000000005', 'eve');
    // A key of hers made by a person: untouched.
    await store.apiKeys.insert(key('eeee000000000006'));

    const root = await store.apiKeys.revoke('eeee000000000001', 'admin-of-ops');
    expect(root).toMatchObject({ revokedBy: 'admin-of-ops', madeBy: null });
    for (const id of ['eeee000000000002', 'eeee000000000003', 'eeee000000000004']) {
      expect([id, await store.apiKeys.get(id)]).toEqual([id, expect.objectContaining({ revokedAt: root!.revokedAt, revokedBy: 'admin-of-ops' })]);
    }
    expect(await store.apiKeys.get('eeee000000000005')).toMatchObject({ revokedAt: early!.revokedAt, revokedBy: 'eve' });
    expect(await store.apiKeys.get('eeee000000000006')).toMatchObject({ revokedAt: null, madeBy: null });
  });

  it('makes no key from a revoked or unknown key', async () => {
    const key = (id: string) => ({ id, owner: 'fay', name: id, scopes: ['admin'] as const, secretHash: hashSecret(id) });
    await store.apiKeys.insert(key('ffff000000000001'));
    await store.apiKeys.revoke('ffff000000000001', 'fay');
    expect(await store.apiKeys.insertMadeBy('ffff000000000001', key('ffff000000000002'))).toBeUndefined();
    expect(await store.apiKeys.insertMadeBy('ffff00000000dead', key('ffff000000000003'))).toBeUndefined();
    expect(await store.apiKeys.get('ffff000000000002')).toBeUndefined();
    expect(await store.apiKeys.get('ffff000000000003')).toBeUndefined();
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
