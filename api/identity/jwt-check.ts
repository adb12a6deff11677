/**
 * Bearer tokens that are the provider's JWTs (three base64url parts). jose does the checking: the signature against
 * the provider's JWKS (fetched once and cached; a token signed with a key the provider rotated in has an unknown
 * `kid`, on which jose fetches the set again, at most once per cooldown), `alg` pinned to OIDC_JWT_ALGS (never
 * `none`), issuer, audience, `exp` (required) and `nbf`, within OIDC_CLOCK_SKEW_SEC. A refusal is a 401 whose code
 * a client can act on: `token_expired` (get a new one) or `token_invalid` (anything else); the reason stays in the log.
 */
import type { Principal } from '../../contract/identity';
import type { Logger } from '../../shared/logger';
import type { BearerCheck } from '../auth';
import { ApiError } from '../errors';
import { loadJose } from './esm';
import { issuedAtMs, rolesFromClaim, userFromClaims } from './provider-claims';
import type { ProviderRoles } from './provider-roles';
import type { OidcProvider } from './provider';

/** A JWS in compact form; the signature part may be empty (`alg: none`), which is refused rather than passed on. */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** The shortest wait between two JWKS fetches caused by unknown `kid`s: a rotated key is honoured within this. */
const JWKS_COOLDOWN_MS = 5_000;
/** A cached key set older than this is fetched again at the next token. */
const JWKS_MAX_AGE_MS = 10 * 60_000;

export function createJwtCheck(deps: { provider: OidcProvider; roles: ProviderRoles; logger: Logger }): BearerCheck {
  const { provider, roles, logger } = deps;
  const s = provider.settings;
  let keySet: Promise<Awaited<ReturnType<typeof makeKeySet>>> | undefined;

  async function makeKeySet() {
    const jose = await loadJose();
    return jose.createRemoteJWKSet(await provider.jwksUri(), { cooldownDuration: JWKS_COOLDOWN_MS, cacheMaxAge: JWKS_MAX_AGE_MS });
  }

  return {
    accepts: (token) => JWT_SHAPE.test(token),
    async principal(token): Promise<Principal> {
      const jose = await loadJose();
      keySet ??= makeKeySet().catch((err: unknown) => {
        keySet = undefined;
        throw err;
      });
      let payload: Record<string, unknown>;
      try {
        ({ payload } = await jose.jwtVerify(token, await keySet, {
          issuer: (await provider.configuration()).serverMetadata().issuer,
          audience: s.audience,
          algorithms: s.jwtAlgorithms,
          clockTolerance: s.clockSkewSec,
          requiredClaims: ['exp'],
        }));
      } catch (err) {
        if (err instanceof jose.errors.JWTExpired) throw new ApiError(401, 'token_expired', 'the token has expired');
        if (err instanceof jose.errors.JOSEError) {
          logger.info({ reason: err.code }, 'JWT refused');
          throw new ApiError(401, 'token_invalid', 'the token is not valid here (signature, issuer, audience, algorithm or not-before)');
        }
        // Discovery or the key set unreachable: the token could not be judged, which is not the caller's fault.
        logger.warn({ err }, 'could not check a JWT against the provider');
        throw new ApiError(503, 'identity_provider_unavailable', 'the identity provider could not be reached to check the token');
      }
      const user = userFromClaims(payload, s.userClaim);
      if (!user) throw new ApiError(401, 'token_invalid', `the token has no ${s.userClaim} claim naming a user`);
      const claimed = rolesFromClaim(payload[s.rolesClaim]);
      // Stored for the user's other credentials only if the token is not older than the roles last written (and says
      // when it was issued); the request itself acts with the token's claim either way.
      await roles.record(user, claimed, issuedAtMs(payload));
      // `exp` is required above: a socket or event stream the token opens ends when the token would be refused.
      return { user, roles: claimed, scopes: 'all', method: 'jwt', expiresAt: new Date(Number(payload.exp) * 1000).toISOString() };
    },
  };
}
