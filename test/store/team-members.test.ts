/**
 * Team roles in the store, the same on SQLite and Postgres (migration 015_identity): the provider's roles of a user
 * are replaced whole at each sign-in while an admin's grants stay, but never by a token issued before the one last
 * written (migration 025), even when two writers race; grants and revocations are idempotent; and every team a user
 * holds a role on is read for many users at once, a role this version does not know included.
 */
import os from 'node:os';
import { createStore, type Store } from '../../shared/store';
import { LonghaulMigrations } from '../../shared/store/migrations';
import { PROVIDER_ROLES_FLOOR } from '../../shared/store/team-members';
import { openTestStore } from '../support/test-store';

describe.each(['sqlite', 'postgres'] as const)('team members on %s', (dialect) => {
  let store: Store;
  let close: () => Promise<void>;
  let databaseUrl: string | undefined;
  /** Issue times (epoch ms) of the provider's tokens, in order. */
  const T = (n: number) => 1_800_000_000_000 + n * 1000;

  beforeAll(async () => {
    ({ store, close, databaseUrl } = await openTestStore(dialect));
  });
  afterAll(() => close());

  it('reads every team each user holds a role on, a role this version does not know included', async () => {
    await store.teamMembers.grant('north', 'tia', 'member');
    await store.teamMembers.grant('north', 'tia', 'approver');
    await store.teamMembers.grant('south', 'tia', 'viewer');
    await store.teamMembers.grant('north', 'uma', 'viewer');
    await store.db.insertInto('team_members').values({ team: 'west', user_id: 'uma', role: 'overlord', source: 'admin', updated_at: new Date().toISOString() }).execute();
    const teams = await store.teamMembers.teamsOf(['tia', 'uma', 'nobody']);
    expect([...teams.keys()].sort()).toEqual(['tia', 'uma']);
    expect([...teams.get('tia')!].sort()).toEqual(['north', 'south']);
    expect([...teams.get('uma')!].sort()).toEqual(['north', 'west']);
    expect(await store.teamMembers.teamsOf([])).toEqual(new Map());
  });

  it('lets no token issued before migration 025 write provider roles in a database that already knew people', async () => {
    const migration = (await new LonghaulMigrations(dialect).getMigrations())['025_provider_roles_issued']!;
    // A database that knew someone; the table as the migration finds it: none of it yet.
    await store.db.insertInto('users').values({ id: 'vic', email: null, name: null, updated_at: new Date().toISOString() }).execute();
    await store.db.schema.dropTable('provider_roles_issued').execute();
    const before = Date.now();
    await migration.up(store.db as never);
    // Run again (SQLite runs a migration outside a transaction: one cut off is run again), it changes nothing.
    await migration.up(store.db as never);
    // wes had every provider role taken away before the upgrade, which left no row of his anywhere: his old token,
    // still valid, cannot put one back; a token issued since can write.
    expect(await store.teamMembers.replaceFromProvider('wes', [{ team: 'payments', role: 'approver' }], before - 60_000)).toMatchObject({ outcome: 'stale' });
    expect(await store.teamMembers.rolesOf('wes')).toEqual([]);
    expect(await store.teamMembers.replaceFromProvider('wes', [{ team: 'payments', role: 'viewer' }], Date.now() + 1000)).toEqual({ outcome: 'replaced' });
    expect(await store.teamMembers.rolesOf('wes')).toEqual([{ team: 'payments', role: 'viewer' }]);
    // The floor is no user's: it takes no roles.
    expect(await store.teamMembers.rolesOf(PROVIDER_ROLES_FLOOR)).toEqual([]);
  });

  it("replaces a user's provider roles at each sign-in and keeps what an admin gave", async () => {
    expect(await store.teamMembers.replaceFromProvider('ann', [{ team: 'payments', role: 'approver' }, { team: 'search', role: 'viewer' }], T(1))).toEqual({ outcome: 'replaced' });
    await store.teamMembers.grant('ops', 'ann', 'admin');
    expect(await store.teamMembers.rolesOf('ann')).toEqual([
      { team: 'ops', role: 'admin' },
      { team: 'payments', role: 'approver' },
      { team: 'search', role: 'viewer' },
    ]);
    // The same roles again write nothing; a group taken away at the provider is taken away here.
    expect(await store.teamMembers.replaceFromProvider('ann', [{ team: 'search', role: 'viewer' }, { team: 'payments', role: 'approver' }], T(2))).toEqual({ outcome: 'unchanged' });
    expect(await store.teamMembers.replaceFromProvider('ann', [{ team: 'payments', role: 'approver' }], T(3))).toEqual({ outcome: 'replaced' });
    expect(await store.teamMembers.rolesOf('ann')).toEqual([
      { team: 'ops', role: 'admin' },
      { team: 'payments', role: 'approver' },
    ]);
    // An admin's grant of a role the provider also gives survives the provider taking it away.
    await store.teamMembers.grant('payments', 'ann', 'approver');
    await store.teamMembers.replaceFromProvider('ann', [], T(4));
    expect(await store.teamMembers.rolesOf('ann')).toEqual([
      { team: 'ops', role: 'admin' },
      { team: 'payments', role: 'approver' },
    ]);
  });

  it("never lets an older token's roles replace those of a newer one, whichever arrives last", async () => {
    const approver = [{ team: 'payments', role: 'approver' as const }];
    // The provider took approver away from bea: the token issued after says so, and is written.
    expect(await store.teamMembers.replaceFromProvider('bea', approver, T(10))).toEqual({ outcome: 'replaced' });
    expect(await store.teamMembers.replaceFromProvider('bea', [], T(20))).toEqual({ outcome: 'replaced' });
    // A token issued before that, still valid, is refused and says how recent the stored roles are.
    expect(await store.teamMembers.replaceFromProvider('bea', approver, T(15))).toEqual({ outcome: 'stale', storedIssuedAtMs: T(20) });
    expect(await store.teamMembers.rolesOf('bea')).toEqual([]);
    // The same instant as the last write is current (two tokens of one second); a later one writes.
    expect(await store.teamMembers.replaceFromProvider('bea', [], T(20))).toEqual({ outcome: 'unchanged' });
    expect(await store.teamMembers.replaceFromProvider('bea', approver, T(30))).toEqual({ outcome: 'replaced' });
    expect(await store.teamMembers.rolesOf('bea')).toEqual(approver);
  });

  it('ends with the newer token\'s roles when two writers race, the older one arriving last or not', async () => {
    // Postgres: a second store on the same database, as another replica; SQLite: the one store.
    const other = databaseUrl ? await createStore({ dataDir: os.tmpdir(), databaseUrl }) : store;
    try {
      for (let i = 0; i < 10; i += 1) {
        const user = `racer-${i}`;
        const older = () => store.teamMembers.replaceFromProvider(user, [{ team: 'payments', role: 'approver' }], T(100 + 2 * i));
        const newer = () => other.teamMembers.replaceFromProvider(user, [{ team: 'payments', role: 'viewer' }], T(101 + 2 * i));
        await Promise.all(i % 2 ? [older(), newer()] : [newer(), older()]);
        expect(await store.teamMembers.rolesOf(user)).toEqual([{ team: 'payments', role: 'viewer' }]);
      }
    } finally {
      if (other !== store) await other.close();
    }
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
