/**
 * The JWT bearer check against a key set served from this process: the issuer must be the provider's, and the
 * expiry is honoured within OIDC_CLOCK_SKEW_SEC and not a second beyond it. The roles a token carries are stored in
 * the order the provider issued them: an older, still-valid token never puts back a role a newer one took away, a
 * token without `iat` writes nothing, and neither costs a statement per request. (The real provider, rotation and
 * the other bad tokens: test/e2e/sign-in.test.ts.)
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type * as JoseModule from 'jose' with { 'resolution-mode': 'import' };
import { ApiError } from '../../api/errors';
import { createJwtCheck } from '../../api/identity/jwt-check';
import type { OidcProvider } from '../../api/identity/provider';
import { ProviderRoles } from '../../api/identity/provider-roles';
import type { BearerCheck } from '../../api/auth';
import { createLogger } from '../../shared/logger';
import { createStore, type Store } from '../../shared/store';

const ISSUER = 'https://idp.test';
const AUDIENCE = 'longhaul-api';
const SKEW_SEC = 30;

describe('the JWT bearer check', () => {
  let jose: typeof JoseModule;
  let server: http.Server;
  let privateKey: Awaited<ReturnType<typeof JoseModule.generateKeyPair>>['privateKey'];
  let check: BearerCheck;
  let provider: OidcProvider;
  const recorded: string[] = [];

  beforeAll(async () => {
    jose = await import('jose');
    const pair = await jose.generateKeyPair('RS256', { extractable: true });
    privateKey = pair.privateKey;
    const jwk = { ...(await jose.exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    server = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const jwks = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`);
    provider = {
      settings: { audience: AUDIENCE, jwtAlgorithms: ['RS256'], clockSkewSec: SKEW_SEC, userClaim: 'sub', rolesClaim: 'groups' },
      jwksUri: async () => jwks,
      configuration: async () => ({ serverMetadata: () => ({ issuer: ISSUER, jwks_uri: jwks.href }) }),
    } as unknown as OidcProvider;
    const roles = { record: async (user: string) => void recorded.push(user) } as Pick<ProviderRoles, 'record'> as ProviderRoles;
    check = createJwtCheck({ provider, roles, logger: createLogger({ level: 'silent' }) });
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const nowSec = () => Math.floor(Date.now() / 1000);
  const token = (claims: { iss?: string; exp: number }) =>
    new jose.SignJWT({ groups: ['payments:viewer'] })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setSubject('ann')
      .setIssuer(claims.iss ?? ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(nowSec() - 600)
      .setExpirationTime(claims.exp)
      .sign(privateKey);
  const refusal = async (t: string) => {
    const err = await check.principal(t).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ApiError);
    return { status: (err as ApiError).status, code: (err as ApiError).code };
  };

  it('accepts a good token as its subject with its roles claim', async () => {
    const exp = nowSec() + 300;
    // expiresAt: when a socket opened with the token ends (its keep-alive beat checks it).
    expect(await check.principal(await token({ exp }))).toEqual({ user: 'ann', roles: [{ team: 'payments', role: 'viewer' }], scopes: 'all', method: 'jwt', expiresAt: new Date(exp * 1000).toISOString() });
    expect(recorded).toContain('ann');
  });

  it('refuses a token of another issuer, however well signed, with 401 token_invalid', async () => {
    expect(await refusal(await token({ iss: 'https://other-idp.test', exp: nowSec() + 300 }))).toEqual({ status: 401, code: 'token_invalid' });
    expect(await refusal(await token({ iss: `${ISSUER}/`, exp: nowSec() + 300 }))).toEqual({ status: 401, code: 'token_invalid' });
  });

  it('accepts a token expired by less than the allowed clock skew, and refuses one expired by more (401 token_expired)', async () => {
    expect((await check.principal(await token({ exp: nowSec() - (SKEW_SEC - 5) }))).user).toBe('ann');
    expect(await refusal(await token({ exp: nowSec() - (SKEW_SEC + 5) }))).toEqual({ status: 401, code: 'token_expired' });
  });
  describe('the roles it stores, in the order the provider issued them', () => {
    let dir: string;
    let store: Store;
    let replace: jest.SpyInstance;
    const logger = createLogger({ level: 'silent' });
    /** A check as one API process has it: its own memory of what it wrote, over the shared store. */
    const apiProcess = () => createJwtCheck({ provider, roles: new ProviderRoles(store.teamMembers), logger });
    const signed = (claims: { sub: string; groups: string[]; iat?: number }) => {
      const jwt = new jose.SignJWT({ groups: claims.groups })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setSubject(claims.sub)
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setExpirationTime(nowSec() + 3600);
      return (claims.iat === undefined ? jwt : jwt.setIssuedAt(claims.iat)).sign(privateKey);
    };

    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-jwt-roles-'));
      store = await createStore({ dataDir: dir });
    });
    beforeEach(() => (replace = jest.spyOn(store.teamMembers, 'replaceFromProvider')));
    afterEach(() => replace.mockRestore());
    afterAll(async () => {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it("never lets an older, still-valid token put back a role a newer one took away, nor write per request", async () => {
      const api = apiProcess();
      // Issued an hour ago, valid another hour: bob was an approver then.
      const old = await signed({ sub: 'bob', groups: ['payments:approver'], iat: nowSec() - 3600 });
      expect((await api.principal(old)).roles).toEqual([{ team: 'payments', role: 'approver' }]);
      expect(await store.teamMembers.rolesOf('bob')).toEqual([{ team: 'payments', role: 'approver' }]);
      // The provider took the role away; bob's next fresh token says so.
      await api.principal(await signed({ sub: 'bob', groups: [], iat: nowSec() }));
      expect(await store.teamMembers.rolesOf('bob')).toEqual([]);
      expect(replace).toHaveBeenCalledTimes(2);

      // The old token again, and again: its request acts with its own claim, but the store keeps the newer word,
      // and this process spends no statement on it.
      for (let i = 0; i < 3; i += 1) expect((await api.principal(old)).roles).toEqual([{ team: 'payments', role: 'approver' }]);
      expect(await store.teamMembers.rolesOf('bob')).toEqual([]);
      expect(replace).toHaveBeenCalledTimes(2);

      // Another process (a replica, a restart) that never saw the fresh token asks the store once, then no more.
      const replica = apiProcess();
      for (let i = 0; i < 3; i += 1) await replica.principal(old);
      expect(await store.teamMembers.rolesOf('bob')).toEqual([]);
      expect(replace).toHaveBeenCalledTimes(3);
      // A fresh token with the same roles costs nothing either.
      await api.principal(await signed({ sub: 'bob', groups: [], iat: nowSec() }));
      expect(replace).toHaveBeenCalledTimes(3);
    });

    it('writes nothing from a token that does not say when it was issued, which still acts with its own claim', async () => {
      const api = apiProcess();
      await api.principal(await signed({ sub: 'cy', groups: [], iat: nowSec() - 60 }));
      const undated = await signed({ sub: 'cy', groups: ['payments:admin'] });
      expect((await api.principal(undated)).roles).toEqual([{ team: 'payments', role: 'admin' }]);
      expect(await store.teamMembers.rolesOf('cy')).toEqual([]);
      expect(replace).toHaveBeenCalledTimes(1);
    });
  });
});
