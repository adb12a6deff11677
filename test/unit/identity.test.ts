/**
 * The identity vocabulary and the authenticator: team roles parse strictly, a permission needs both a role that
 * grants it and a credential scope that allows it, and every credential ends as one principal — a bearer claimed by
 * its check, the static list, a session, or the open user of a server with nothing configured.
 */
import type http from 'node:http';
import { mayOnTeam, parseTeamRole, teamsWhere, type Principal } from '../../contract/identity';
import { createAuthenticator, LOCAL_USER } from '../../api/auth';
import { ApiError } from '../../api/errors';

const request = (headers: Record<string, string> = {}) => ({ headers }) as unknown as http.IncomingMessage;
const roles = { rolesOf: async (user: string) => (user === 'ann' ? [{ team: 'payments', role: 'approver' as const }] : []) };

describe('team roles and permissions', () => {
  it('parses team:role strictly', () => {
    expect(parseTeamRole('payments:approver')).toEqual({ team: 'payments', role: 'approver' });
    expect(parseTeamRole('a:b:admin')).toBeUndefined(); // a team name has no colon
    expect(parseTeamRole('payments:owner')).toBeUndefined();
    expect(parseTeamRole(':admin')).toBeUndefined();
    expect(parseTeamRole('Payments:admin')).toBeUndefined();
  });

  it('grants a permission only where a role gives it and the scopes allow it', () => {
    const p: Principal = { user: 'ann', roles: [{ team: 'payments', role: 'approver' }, { team: 'ops', role: 'admin' }], scopes: 'all', method: 'session' };
    expect(mayOnTeam(p, 'payments', 'decide')).toBe(true);
    expect(mayOnTeam(p, 'payments', 'steer')).toBe(false);
    expect(mayOnTeam(p, 'search', 'read')).toBe(false);
    expect(teamsWhere(p, 'decide').sort()).toEqual(['ops', 'payments']);
    const key: Principal = { ...p, scopes: ['runs:read'], method: 'key' };
    expect(mayOnTeam(key, 'ops', 'read')).toBe(true);
    expect(mayOnTeam(key, 'ops', 'administer')).toBe(false);
    expect(teamsWhere(key, 'decide')).toEqual([]);
  });
});

describe('authenticator', () => {
  it('is open to the local user with nothing configured, and ignores a token it has no list for', async () => {
    const auth = createAuthenticator({ roles });
    expect(auth.required).toBe(false);
    expect(await auth.identify(request())).toEqual({ user: LOCAL_USER, roles: [], scopes: 'all', method: 'open' });
    expect((await auth.identify(request({ authorization: 'Bearer whatever' })))?.user).toBe(LOCAL_USER);
  });

  it('takes static tokens with the user’s stored roles and refuses others', async () => {
    const auth = createAuthenticator({ tokens: new Map([['t-ann', 'ann']]), roles });
    expect(auth.required).toBe(true);
    expect(await auth.identify(request({ authorization: 'Bearer t-ann' }))).toEqual({ user: 'ann', roles: [{ team: 'payments', role: 'approver' }], scopes: 'all', method: 'token' });
    expect(await auth.identify(request())).toBeUndefined();
    await expect(auth.identify(request({ authorization: 'Bearer nope' }))).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
  });

  it('gives a token to the first check that claims its shape, and a browser without one to its session', async () => {
    const keyPrincipal: Principal = { user: 'bot', roles: [], scopes: ['runs:read'], method: 'key', keyId: 'k1' };
    const auth = createAuthenticator({
      tokens: new Map([['t-ann', 'ann']]),
      roles,
      bearers: [
        {
          accepts: (t) => t.startsWith('lh_'),
          principal: async (t) => {
            if (t === 'lh_good') return keyPrincipal;
            throw new ApiError(401, 'unauthorized', 'unknown key');
          },
        },
      ],
      session: { principal: async (req) => (req.headers.cookie === 'sid=1' ? { user: 'cat', roles: [], scopes: 'all', method: 'session' } : undefined) },
    });
    expect(await auth.identify(request({ authorization: 'Bearer lh_good' }))).toBe(keyPrincipal);
    await expect(auth.identify(request({ authorization: 'Bearer lh_bad' }))).rejects.toMatchObject({ status: 401 });
    expect((await auth.identify(request({ authorization: 'Bearer t-ann' })))?.method).toBe('token');
    expect((await auth.identify(request({ cookie: 'sid=1' })))?.user).toBe('cat');
    expect(await auth.identify(request({ cookie: 'sid=2' }))).toBeUndefined();
  });

  it('requires a credential when sign-in is configured even without API_TOKENS', async () => {
    const auth = createAuthenticator({ roles, signInRequired: true });
    expect(auth.required).toBe(true);
    expect(await auth.identify(request())).toBeUndefined();
    await expect(auth.identify(request({ authorization: 'Bearer x' }))).rejects.toMatchObject({ status: 401 });
  });
});
