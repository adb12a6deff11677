/**
 * API keys without a server: the key's text (prefix, id, secret, enough entropy), the check's answers (unknown,
 * wrong secret, revoked, expired, good) and its last-use throttle. (What a key's scopes allow is Access's to say: test/unit/access.test.ts, the access matrix.)
 */
import { hashSecret, newApiKey, parseApiKey, secretMatches } from '../../api/api-key-format';
import { apiKeyCheck, LAST_USED_EVERY_MS } from '../../api/api-key-check';
import { ApiError } from '../../api/errors';
import { redactText } from '../../shared/redact';
import type { ApiKeyRecord } from '../../shared/store/api-keys';
import type { TeamRole } from '../../contract/identity';

describe('the text of an API key', () => {
  it('is lh_<16 hex id>_<43-character base64url secret>, different every time, and parses back', () => {
    const a = newApiKey();
    const b = newApiKey();
    expect(a.text).toMatch(/^lh_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(a.text).not.toBe(b.text);
    expect(a.id).not.toBe(b.id);
    const parsed = parseApiKey(a.text)!;
    expect(parsed.id).toBe(a.id);
    expect(a.text).toBe(`lh_${parsed.id}_${parsed.secret}`);
    // Only the hash of the secret is kept, and it is not the secret.
    expect(a.secretHash).toBe(hashSecret(parsed.secret));
    expect(a.secretHash).not.toContain(parsed.secret);
    expect(secretMatches(parsed.secret, a.secretHash)).toBe(true);
    expect(secretMatches(parseApiKey(b.text)!.secret, a.secretHash)).toBe(false);
  });

  it('is hidden in any text a log line carries, all but its id', () => {
    const key = newApiKey();
    const secret = parseApiKey(key.text)!.secret;
    expect(redactText(`calling with ${key.text}, and again: key=${key.text}`)).toBe(`calling with lh_${key.id}_***, and again: key=lh_${key.id}_***`);
    expect(redactText(`Authorization: Bearer ${key.text}`)).not.toContain(secret);
  });

  it.each([['lh_'], ['lh_0123456789abcdef'], ['lh_0123456789abcdef_short'], ['xx_0123456789abcdef_' + 'a'.repeat(43)], ['lh_0123456789ABCDEF_' + 'a'.repeat(43)], ['lh_0123456789abcdef_' + 'a'.repeat(43) + '!']])(
    'is not parsed from %s',
    (text) => {
      expect(parseApiKey(text)).toBeUndefined();
    },
  );
});

describe('the API key bearer check', () => {
  const roles: TeamRole[] = [{ team: 'payments', role: 'approver' }];
  function setup(over: Partial<ApiKeyRecord> = {}, now = new Date('2030-01-01T00:00:00.000Z')) {
    const key = newApiKey();
    const record: ApiKeyRecord = { id: key.id, owner: 'ann', name: 'ci', scopes: ['runs:read'], secretHash: key.secretHash, createdAt: '2029-01-01T00:00:00.000Z', expiresAt: null, lastUsedAt: null, revokedAt: null, revokedBy: null, madeBy: null, ...over };
    const touches: Date[] = [];
    const store = {
      apiKeys: {
        get: async (id: string) => (id === record.id ? record : undefined),
        touch: async (_id: string, at: Date) => (touches.push(at), true),
      },
      teamMembers: { rolesOf: async (user: string) => (user === 'ann' ? roles : []) },
    };
    const check = apiKeyCheck({ store: store as never, now: () => now });
    return { key, record, check, touches };
  }
  const refusal = (p: Promise<unknown>) =>
    p.then(
      () => undefined,
      (err: unknown) => (err instanceof ApiError ? [err.status, err.code, err.message] : err),
    );

  it('claims lh_ tokens only', () => {
    const { check } = setup();
    expect(check.accepts('lh_anything')).toBe(true);
    expect(check.accepts('alice-token')).toBe(false);
    expect(check.accepts('eyJ.a.b')).toBe(false);
  });

  it("answers a good key with its owner, the owner's roles, the key's scopes and id", async () => {
    const { key, check, touches } = setup();
    expect(await check.principal(key.text)).toEqual({ user: 'ann', roles, scopes: ['runs:read'], method: 'key', keyId: key.id });
    expect(touches).toHaveLength(1);
  });

  it('refuses an unknown id and a wrong secret alike (401 unauthorized), saying nothing of which', async () => {
    const { key, check } = setup();
    const other = newApiKey();
    const wrongSecret = `lh_${key.id}_${parseApiKey(other.text)!.secret}`;
    expect(await refusal(check.principal(other.text))).toEqual([401, 'unauthorized', 'invalid API key']);
    expect(await refusal(check.principal(wrongSecret))).toEqual([401, 'unauthorized', 'invalid API key']);
    expect(await refusal(check.principal('lh_garbage'))).toEqual([401, 'unauthorized', 'invalid API key']);
  });

  it('refuses a revoked key with key_revoked and an expired one with key_expired', async () => {
    const revoked = setup({ revokedAt: '2029-06-01T00:00:00.000Z', revokedBy: 'ann' });
    expect(await refusal(revoked.check.principal(revoked.key.text))).toEqual([401, 'key_revoked', 'this API key was revoked']);
    const expired = setup({ expiresAt: '2030-01-01T00:00:00.000Z' });
    expect(await refusal(expired.check.principal(expired.key.text))).toEqual([401, 'key_expired', 'this API key has expired']);
    const live = setup({ expiresAt: '2030-01-01T00:00:01.000Z' });
    expect((await live.check.principal(live.key.text)).user).toBe('ann');
    // A revoked key's wrong secret is still just unauthorized: revocation is told only to whoever holds the key.
    expect(await refusal(revoked.check.principal(`lh_${revoked.key.id}_${'a'.repeat(43)}`))).toEqual([401, 'unauthorized', 'invalid API key']);
  });

  it('does not write the last use of a key used within the last minute', async () => {
    const now = new Date('2030-01-01T00:00:00.000Z');
    const recent = setup({ lastUsedAt: new Date(now.getTime() - LAST_USED_EVERY_MS + 1000).toISOString() }, now);
    await recent.check.principal(recent.key.text);
    expect(recent.touches).toHaveLength(0);
    const stale = setup({ lastUsedAt: new Date(now.getTime() - LAST_USED_EVERY_MS).toISOString() }, now);
    await stale.check.principal(stale.key.text);
    expect(stale.touches).toEqual([now]);
  });
});
