/**
 * A real OpenID Provider for the sign-in tests (node-oidc-provider, a certified implementation), run as its own
 * process on 127.0.0.1. Started by test/support/oidc-test-provider.ts; everything comes from the environment:
 *   OP_PORT           port to listen on (127.0.0.1 only); the issuer is http://127.0.0.1:OP_PORT
 *   OP_KEYS_FILE      a private JWKS ({ keys: [...] }); the first key signs. Restarting with another file rotates keys.
 *   OP_REDIRECT_URI   Longhaul's callback; OP_POST_LOGOUT_URI where sign-out returns
 *   OP_CLIENT_SECRET  the `longhaul` client's secret; OP_AUDIENCE the resource (API audience) of JWT access tokens
 * Users (any password): alice (payments:member, payments:approver and a group that is no role), bob (ops:viewer).
 * The `machine` client (client_credentials, secret OP_CLIENT_SECRET) gets JWTs for any resource, its `groups`
 * claim `payments:admin`; its `sub` is its client id.
 * Prints "OIDC provider listening" when ready.
 */
import fs from 'node:fs';
import http from 'node:http';
import Provider from 'oidc-provider';

const port = Number(process.env.OP_PORT);
const issuer = `http://127.0.0.1:${port}`;
const jwks = JSON.parse(fs.readFileSync(process.env.OP_KEYS_FILE, 'utf8'));
const secret = process.env.OP_CLIENT_SECRET;

const USERS = {
  alice: { email: 'alice@example.com', email_verified: true, name: 'Alice Example', groups: ['payments:member', 'payments:approver', 'everyone'] },
  bob: { email: 'bob@example.com', email_verified: false, name: 'Bob Example', groups: ['ops:viewer'] },
};

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'longhaul',
      client_secret: secret,
      redirect_uris: [process.env.OP_REDIRECT_URI],
      post_logout_redirect_uris: [process.env.OP_POST_LOGOUT_URI],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    },
    { client_id: 'machine', client_secret: secret, redirect_uris: [], response_types: [], grant_types: ['client_credentials'] },
  ],
  jwks,
  async findAccount(_ctx, id) {
    const user = USERS[id];
    if (!user) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...user }) };
  },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
  scopes: ['openid', 'offline_access', 'groups', 'api'],
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // The machine's tokens are for the API; the browser client's access token is for userinfo (no resource).
      defaultResource: (ctx) => (ctx.oidc.client?.clientId === 'machine' ? process.env.OP_AUDIENCE : undefined),
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, resource) => ({ audience: resource, scope: 'api', accessTokenFormat: 'jwt', accessTokenTTL: 300, jwt: { sign: { alg: 'RS256' } } }),
    },
  },
  async extraTokenClaims(_ctx, token) {
    if (token.kind === 'ClientCredentials' && token.clientId === 'machine') return { groups: ['payments:admin'] };
    return undefined;
  },
  // No consent screen: the test user grants whatever Longhaul asks.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid email profile groups');
    await grant.save();
    return grant;
  },
  cookies: { keys: ['test-provider-cookie-key-0123456789'] },
});
provider.on('server_error', (_ctx, err) => process.stderr.write(`provider error: ${err.stack}\n`));

http.createServer(provider.callback()).listen(port, '127.0.0.1', () => process.stdout.write(`OIDC provider listening at ${issuer}\n`));
