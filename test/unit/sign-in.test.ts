/** The pure parts of sign-in: claims to a user and roles, the CSRF token, the cookie, where to come back to, the config. */
import type http from 'node:http';
import { assertSafeBind } from '../../api/server';
import { rolesFromClaim, sameRoles, userFromClaims, verifiedEmail } from '../../api/identity/provider-claims';
import { csrfMatches, csrfTokenOf, readCookie, SessionCookies } from '../../api/identity/sessions';
import { localReturnPath } from '../../api/identity/sign-in-routes';
import { ConfigError, loadConfig } from '../../shared/config';

const req = (cookie?: string) => ({ headers: cookie === undefined ? {} : { cookie } }) as http.IncomingMessage;
const OIDC = { OIDC_ISSUER: 'https://id.example.com', OIDC_CLIENT_ID: 'longhaul', PUBLIC_URL: 'https://longhaul.example.com' };

describe('provider claims', () => {
  it('takes team:role values of the roles claim and ignores the rest', () => {
    expect(rolesFromClaim(['payments:approver', 'everyone', 'ops:admin', 'ops:wizard', 'Payments:viewer', 'payments:approver', 7])).toEqual([
      { team: 'payments', role: 'approver' },
      { team: 'ops', role: 'admin' },
    ]);
    expect(rolesFromClaim('payments:member ops:viewer')).toEqual([
      { team: 'payments', role: 'member' },
      { team: 'ops', role: 'viewer' },
    ]);
    expect(rolesFromClaim(undefined)).toEqual([]);
    expect(rolesFromClaim({ payments: 'admin' })).toEqual([]);
  });

  it('names the user by the configured claim, a non-empty string only', () => {
    expect(userFromClaims({ sub: 'u-1', preferred_username: 'alice' }, 'sub')).toBe('u-1');
    expect(userFromClaims({ sub: 'u-1', preferred_username: 'alice' }, 'preferred_username')).toBe('alice');
    expect(userFromClaims({ sub: '  ' }, 'sub')).toBeUndefined();
    expect(userFromClaims({ sub: 42 }, 'sub')).toBeUndefined();
    expect(userFromClaims({}, 'email')).toBeUndefined();
  });

  it('records an email only when the provider says it is verified', () => {
    expect(verifiedEmail({ email: 'a@example.com', email_verified: true })).toBe('a@example.com');
    expect(verifiedEmail({ email: 'a@example.com', email_verified: false })).toBeUndefined();
    expect(verifiedEmail({ email: 'a@example.com' })).toBeUndefined();
  });

  it('compares role lists whatever their order', () => {
    expect(sameRoles([{ team: 'a', role: 'admin' }, { team: 'b', role: 'viewer' }], [{ team: 'b', role: 'viewer' }, { team: 'a', role: 'admin' }])).toBe(true);
    expect(sameRoles([{ team: 'a', role: 'admin' }], [{ team: 'a', role: 'member' }])).toBe(false);
    expect(sameRoles([], [{ team: 'a', role: 'member' }])).toBe(false);
  });
});

describe('session cookie and CSRF token', () => {
  it('derives one token per session and accepts only it', () => {
    const token = csrfTokenOf('secret-a');
    expect(csrfTokenOf('secret-a')).toBe(token);
    expect(csrfTokenOf('secret-b')).not.toBe(token);
    expect(csrfMatches('secret-a', token)).toBe(true);
    expect(csrfMatches('secret-b', token)).toBe(false);
    expect(csrfMatches('secret-a', undefined)).toBe(false);
    expect(csrfMatches('secret-a', `${token}x`)).toBe(false);
  });

  it('reads the named cookie only', () => {
    expect(readCookie(req('a=1; longhaul_session=abc; b=2'), 'longhaul_session')).toBe('abc');
    expect(readCookie(req('xlonghaul_session=abc'), 'longhaul_session')).toBeUndefined();
    expect(readCookie(req(), 'longhaul_session')).toBeUndefined();
    expect(readCookie(req('longhaul_session=%E0%A4%A'), 'longhaul_session')).toBeUndefined();
  });

  it('is Secure and __Host- named behind https only', () => {
    expect(new SessionCookies('https://longhaul.example.com')).toMatchObject({ secure: true, name: '__Host-longhaul_session' });
    expect(new SessionCookies('http://127.0.0.1:3000')).toMatchObject({ secure: false, name: 'longhaul_session' });
  });
});

describe('where sign-in returns to', () => {
  it('is a path on this server, never another origin', () => {
    expect(localReturnPath('/runs/r-1?x=1')).toBe('/runs/r-1?x=1');
    for (const bad of ['//evil.example', 'https://evil.example/', '/\\evil.example', 'runs', undefined, ['/a']]) expect(localReturnPath(bad)).toBe('/');
  });
});

describe('sign-in configuration', () => {
  it('derives the redirect URI, scopes and audience', () => {
    const c = loadConfig(OIDC).oidc!;
    expect(c.redirectUri).toBe('https://longhaul.example.com/auth/callback');
    expect(c.scopes).toBe('openid profile email groups');
    expect(c.audience).toBe('longhaul');
    expect(c.jwtAlgorithms).toEqual(['RS256']);
    expect(loadConfig({ ...OIDC, OIDC_ROLES_CLAIM: 'roles' }).oidc!.scopes).toBe('openid profile email roles');
    expect(loadConfig({ ...OIDC, OIDC_AUDIENCE: 'https://api.example.com', OIDC_JWT_ALGS: 'ES256,RS256' }).oidc).toMatchObject({
      audience: 'https://api.example.com',
      jwtAlgorithms: ['ES256', 'RS256'],
    });
    expect(loadConfig({}).oidc).toBeUndefined();
  });

  it('refuses what cannot work or would be unsafe', () => {
    expect(() => loadConfig({ OIDC_ISSUER: 'https://id.example.com' })).toThrow(/OIDC_CLIENT_ID and PUBLIC_URL/);
    expect(() => loadConfig({ OIDC_CLIENT_ID: 'x' })).toThrow(/needs OIDC_ISSUER/);
    expect(() => loadConfig({ ...OIDC, OIDC_JWT_ALGS: 'none' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...OIDC, OIDC_JWT_ALGS: 'HS256' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...OIDC, SESSION_IDLE_SEC: '7200', SESSION_MAX_SEC: '3600' })).toThrow(/SESSION_IDLE_SEC/);
  });

  it('lets a server with sign-in bind beyond loopback', () => {
    expect(() => assertSafeBind(loadConfig({ HOST: '0.0.0.0' }))).toThrow(ConfigError);
    expect(() => assertSafeBind(loadConfig({ ...OIDC, HOST: '0.0.0.0' }))).not.toThrow();
  });
});
