/**
 * Team roles in the store, the same on SQLite and Postgres (migration 015_identity): the provider's roles of a user
 * are replaced whole at each sign-in while an admin's grants stay; grants and revocations are idempotent.
 */
import type { Store } from '../../shared/store';
import { openTestStore } from '../support/test-store';

describe.each(['sqlite', 'postgres'] as const)('team members on %s', (dialect) => {
  let store: Store;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ store, close } = await openTestStore(dialect));
  });
  afterAll(() => close());

  it("replaces a user's provider roles at each sign-in and keeps what an admin gave", async () => {
    expect(await store.teamMembers.replaceFromProvider('ann', [{ team: 'payments', role: 'approver' }, { team: 'search', role: 'viewer' }])).toBe(true);
    await store.teamMembers.grant('ops', 'ann', 'admin');
    expect(await store.teamMembers.rolesOf('ann')).toEqual([
      { team: 'ops', role: 'admin' },
      { team: 'payments', role: 'approver' },
      { team: 'search', role: 'viewer' },
    ]);
    // The same roles again write nothing; a group taken away at the provider is taken away here.
    expect(await store.teamMembers.replaceFromProvider('ann', [{ team: 'search', role: 'viewer' }, { team: 'payments', role: 'approver' }])).toBe(false);
    expect(await store.teamMembers.replaceFromProvider('ann', [{ team: 'payments', role: 'approver' }])).toBe(true);
    expect(await store.teamMembers.rolesOf('ann')).toEqual([
      { team: 'ops', role: 'admin' },
      { team: 'payments', role: 'approver' },
    ]);
    // An admin's grant of a role the provider also gives survives the provider taking it away.
    await store.teamMembers.grant('payments', 'ann', 'approver');
    await store.teamMembers.replaceFromProvider('ann', []);
    expect(await store.teamMembers.rolesOf('ann')).toEqual([
      { team: 'ops', role: 'admin' },
      { team: 'payments', role: 'approver' },
    ]);
  });

  it('grants and revokes idempotently and lists a team', async () => {
    await store.teamMembers.grant('risk', 'bob', 'member');
    await store.teamMembers.grant('risk', 'bob', 'member');
    await store.teamMembers.grant('risk', 'cat', 'viewer');
    expect((await store.teamMembers.members('risk')).map((m) => [m.user, m.role, m.source])).toEqual([
      ['bob', 'member', 'admin'],
      ['cat', 'viewer', 'admin'],
    ]);
    expect(await store.teamMembers.revoke('risk', 'bob', 'member')).toBe(true);
    expect(await store.teamMembers.revoke('risk', 'bob', 'member')).toBe(false);
    expect(await store.teamMembers.rolesOf('bob')).toEqual([]);
  });
});

describe.each(['sqlite', 'postgres'] as const)('users on %s', (dialect) => {
  let store: Store;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ store, close } = await openTestStore(dialect));
  });
  afterAll(() => close());

  it('finds a user by verified email, and nobody when two share it', async () => {
    await store.users.upsert({ id: 'sub-1', email: 'Ann@Example.com', name: 'Ann' });
    expect((await store.users.byEmail('ann@example.com'))?.id).toBe('sub-1');
    await store.users.upsert({ id: 'sub-1', email: 'ann@new.example', name: 'Ann' });
    expect(await store.users.byEmail('ann@example.com')).toBeUndefined();
    await store.users.upsert({ id: 'sub-2', email: 'ann@new.example' });
    expect(await store.users.byEmail('ann@new.example')).toBeUndefined();
    expect((await store.users.get('sub-2'))?.name).toBeNull();
  });
});
