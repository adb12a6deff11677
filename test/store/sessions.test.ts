/**
 * Browser sessions and sign-ins under way in the store, the same on SQLite and Postgres (migration 017_sessions):
 * only a hash of a session's secret is kept; a session ends when revoked (one, or every one of a user), idle, or at
 * its absolute expiry; a sign-in's state is used once.
 */
import crypto from 'node:crypto';
import type { Store } from '../../shared/store';
import { openTestStore } from '../support/test-store';

const hash = (s: string) => crypto.createHash('sha256').update(s).digest('hex');

describe.each(['sqlite', 'postgres'] as const)('sessions on %s', (dialect) => {
  let store: Store;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ store, close } = await openTestStore(dialect));
  });
  afterAll(() => close());

  const ageBy = (secret: string, column: 'seen_at' | 'expires_at', ms: number) =>
    store.db.updateTable('sessions').set({ [column]: new Date(Date.now() - ms).toISOString() }).where('id', '=', hash(secret)).execute();

  it('stores only a hash of the secret, and finds the session by the secret', async () => {
    const s = await store.sessions.create('ann', 3600);
    const rows = await store.db.selectFrom('sessions').selectAll().execute();
    expect(rows.map((r) => r.id)).toContain(hash(s.secret));
    expect(JSON.stringify(rows)).not.toContain(s.secret);
    expect(await store.sessions.use(s.secret, 600)).toMatchObject({ session: { user: 'ann', expiresAt: s.expiresAt } });
    expect(await store.sessions.use('not-a-session', 600)).toEqual({ ended: 'unknown' });
  });

  it('ends a session left idle, and one past its absolute expiry however used', async () => {
    const idle = await store.sessions.create('ann', 3600);
    await ageBy(idle.secret, 'seen_at', 601_000);
    expect(await store.sessions.use(idle.secret, 600)).toEqual({ ended: 'expired' });
    const old = await store.sessions.create('ann', 3600);
    await ageBy(old.secret, 'expires_at', 1000);
    expect(await store.sessions.use(old.secret, 600)).toEqual({ ended: 'expired' });
  });

  it('notes use, so an active session does not go idle', async () => {
    const s = await store.sessions.create('ann', 3600);
    await ageBy(s.secret, 'seen_at', 500_000);
    expect('session' in (await store.sessions.use(s.secret, 600))).toBe(true);
    const row = await store.db.selectFrom('sessions').select('seen_at').where('id', '=', hash(s.secret)).executeTakeFirstOrThrow();
    expect(Date.now() - Date.parse(row.seen_at)).toBeLessThan(10_000);
    // A short idle time is noted often enough: a 60 s session used after 20 s has its use written, so it lives on.
    await ageBy(s.secret, 'seen_at', 20_000);
    expect('session' in (await store.sessions.use(s.secret, 60))).toBe(true);
    const seen = await store.db.selectFrom('sessions').select('seen_at').where('id', '=', hash(s.secret)).executeTakeFirstOrThrow();
    expect(Date.now() - Date.parse(seen.seen_at)).toBeLessThan(10_000);
  });

  it('tells a live stream by the session\'s id whether it still holds, without noting a use (a stream keeps no session alive)', async () => {
    const s = await store.sessions.create('ann', 3600);
    await ageBy(s.secret, 'seen_at', 500_000);
    const found = await store.sessions.state(hash(s.secret), 600);
    expect(found).toMatchObject({ session: { id: hash(s.secret), user: 'ann' } });
    const row = await store.db.selectFrom('sessions').select('seen_at').where('id', '=', hash(s.secret)).executeTakeFirstOrThrow();
    expect(Date.now() - Date.parse(row.seen_at)).toBeGreaterThanOrEqual(500_000);
    await ageBy(s.secret, 'seen_at', 601_000);
    expect(await store.sessions.state(hash(s.secret), 600)).toEqual({ ended: 'expired' });
    const signedOut = await store.sessions.create('ann', 3600);
    await store.sessions.revoke(signedOut.secret);
    expect(await store.sessions.state(hash(signedOut.secret), 600)).toEqual({ ended: 'revoked' });
    expect(await store.sessions.state(hash('never-a-session'), 600)).toEqual({ ended: 'unknown' });
  });

  it('revokes one session, or every session of a user', async () => {
    const a = await store.sessions.create('bea', 3600);
    const b = await store.sessions.create('bea', 3600);
    const c = await store.sessions.create('bea', 3600);
    const other = await store.sessions.create('cy', 3600);
    expect(await store.sessions.revoke(a.secret)).toBe(true);
    expect(await store.sessions.revoke(a.secret)).toBe(false);
    expect(await store.sessions.use(a.secret, 600)).toEqual({ ended: 'revoked' });
    expect(await store.sessions.revokeAllOf('bea')).toBe(2);
    for (const s of [b, c]) expect(await store.sessions.use(s.secret, 600)).toEqual({ ended: 'revoked' });
    expect('session' in (await store.sessions.use(other.secret, 600))).toBe(true);
  });

  it('hands a sign-in under way to one callback only, and not after it expired', async () => {
    await store.sessions.beginSignIn('state-1', { codeVerifier: 'v', nonce: 'n', returnTo: '/runs' }, 600);
    const [first, second] = await Promise.all([store.sessions.finishSignIn('state-1'), store.sessions.finishSignIn('state-1')]);
    expect([first, second].filter(Boolean)).toEqual([{ codeVerifier: 'v', nonce: 'n', returnTo: '/runs' }]);
    expect(await store.sessions.finishSignIn('state-1')).toBeUndefined();
    await store.sessions.beginSignIn('state-2', { codeVerifier: 'v', nonce: 'n', returnTo: '/' }, 600);
    await store.db.updateTable('sign_ins').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where('id', '=', hash('state-2')).execute();
    expect(await store.sessions.finishSignIn('state-2')).toBeUndefined();
  });
});
