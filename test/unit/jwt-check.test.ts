/**
 * The JWT bearer check against a key set served from this process: the issuer must be the provider's, and the
 * expiry is honoured within OIDC_CLOCK_SKEW_SEC and not a second beyond it. (The real provider, rotation and the
 * other bad tokens: test/e2e/sign-in.test.ts.)
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type * as JoseModule from 'jose' with { 'resolution-mode': 'import' };
import { ApiError } from '../../api/errors';
import { createJwtCheck } from '../../api/identity/jwt-check';
import type { OidcProvider } from '../../api/identity/provider';
import type { ProviderRoles } from '../../api/identity/provider-roles';
import type { BearerCheck } from '../../api/auth';
import { createLogger } from '../../shared/logger';

const ISSUER = 'https://idp.test';
const AUDIENCE = 'longhaul-api';
const SKEW_SEC = 30;

describe('the JWT bearer check', () => {
  let jose: typeof JoseModule;
  let server: http.Server;
  let privateKey: Awaited<ReturnType<typeof JoseModule.generateKeyPair>>['privateKey'];
  let check: BearerCheck;
  const recorded: string[] = [];

  beforeAll(async () => {
    jose = await import('jose');
    const pair = await jose.generateKeyPair('RS256', { extractable: true });
    privateKey = pair.privateKey;
    const jwk = { ...(await jose.exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    server = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const jwks = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`);
    const provider = {
      settings: { audience: AUDIENCE, jwtAlgorithms: ['RS256'], clockSkewSec: SKEW_SEC, userClaim: 'sub', rolesClaim: 'groups' },
      jwksUri: async () => jwks,
      configuration: async () => ({ serverMetadata: () => ({ issuer: ISSUER, jwks_uri: jwks.href }) }),
    } as unknown as OidcProvider;
    const roles = { record: async (user: string) => void recorded.push(user) } as unknown as ProviderRoles;
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
});
