/**
 * Sign-in against a real OpenID Provider (node-oidc-provider, its own process on 127.0.0.1; test/support/oidc-provider.mjs):
 * in Chromium through the provider's login page to a session, a run started from the signed-in page, CSRF refused
 * without the header, the WebSocket opened from the session, an idle session ended, sign-out (here and at the
 * provider); and the provider's JWTs as bearer tokens: a valid one with its roles, stored in the order the provider
 * issued them (an older token never puts back a role a sign-in or a newer token took away), a rotated key honoured, a
 * socket one opened ended when it expires (and its ticket, unused till then, opening nothing), and an expired, a
 * wrongly signed, a wrong-audience and an `alg: none` token each refused with 401 and its code.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../support/chromium';
import WebSocket from 'ws';
import { startHarness, type Harness } from '../support/harness';
import { OpenApiChecker } from '../support/openapi-checker';
import { TEST_CLIENT_SECRET, TestOidcProvider } from '../support/oidc-test-provider';
import { freePort } from '../support/ports';
import { waitFor } from '../support/wait';

const AUDIENCE = 'https://api.longhaul.test';
const COOKIE = 'longhaul_session';

describe('sign-in with an OpenID Provider', () => {
  let op: TestOidcProvider;
  let h: Harness;
  let publicUrl: string;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  let runId: string;

  beforeAll(async () => {
    const port = await freePort();
    publicUrl = `http://127.0.0.1:${port}`;
    op = new TestOidcProvider({ redirectUri: `${publicUrl}/auth/callback`, postLogoutUri: `${publicUrl}/`, audience: AUDIENCE });
    await op.start();
    h = await startHarness({
      env: {
        PORT: String(port),
        PUBLIC_URL: publicUrl,
        OIDC_ISSUER: op.issuer,
        OIDC_CLIENT_ID: 'longhaul',
        OIDC_CLIENT_SECRET: TEST_CLIENT_SECRET,
        OIDC_AUDIENCE: AUDIENCE,
        DEFAULT_APPROVALS: 'none',
        WS_PING_INTERVAL_SEC: '1',
      },
    });
    ({ context, page, profile } = await launchChromium());
  });

  afterAll(async () => {
    await context?.close();
    if (profile) fs.rmSync(profile, { recursive: true, force: true });
    await h?.close();
    await op?.close();
  });

  async function sessionCookie(): Promise<string> {
    const c = (await context.cookies(publicUrl)).find((x) => x.name === COOKIE);
    if (!c) throw new Error('no session cookie');
    return c.value;
  }

  /** GET or POST from the page itself (its cookie, its origin), with or without the CSRF header. */
  async function fromPage(method: string, url: string, opts: { body?: unknown; csrf?: boolean } = {}): Promise<{ status: number; body: any }> {
    return page.evaluate(
      async ({ method, url, body, csrf }) => {
        const info = (await (await fetch('/api/session')).json()) as { csrfToken?: string };
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (csrf && info.csrfToken) headers['x-csrf-token'] = info.csrfToken;
        const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
        return { status: res.status, body: await res.json().catch(() => undefined) };
      },
      { method, url, body: opts.body, csrf: opts.csrf ?? true },
    );
  }

  async function signInAs(login: string): Promise<void> {
    await page.goto(publicUrl);
    await page.getByTestId('sign-in-provider').click();
    await page.locator('input[name="login"]').fill(login);
    await page.locator('input[name="password"]').fill('any password');
    await page.locator('button[type="submit"]').first().click();
    await page.waitForURL((u) => u.origin === publicUrl, { timeout: 30_000 });
    await page.getByRole('heading', { name: 'Runs' }).waitFor({ timeout: 10_000 }).catch(async (err: unknown) => {
      throw new Error(`not signed in at ${page.url()}: ${(await page.textContent('body'))?.slice(0, 500)}\n${op.output().slice(-2000)}`, { cause: err });
    });
  }

  it('signs in at the provider in the browser, records the user and roles, and starts a run from the page', async () => {
    const before = await h.request('GET', '/api/session');
    expect(before.body).toEqual({ signIn: 'oidc' });
    expect((await h.request('GET', '/api/runs')).status).toBe(401);

    await signInAs('alice');
    const cookie = (await context.cookies(publicUrl)).find((x) => x.name === COOKIE)!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', secure: false });
    // Only a hash of the cookie's secret is stored.
    const rows = await h.store.db.selectFrom('sessions').selectAll().execute();
    expect(rows.map((r) => r.id)).toContain(crypto.createHash('sha256').update(cookie.value).digest('hex'));
    expect(JSON.stringify(rows)).not.toContain(cookie.value);

    const me = await fromPage('GET', '/api/session');
    expect(me.body.user).toMatchObject({ id: 'alice', email: 'alice@example.com', name: 'Alice Example', method: 'session' });
    expect(me.body.user.roles).toEqual(expect.arrayContaining([{ team: 'payments', role: 'member' }, { team: 'payments', role: 'approver' }]));
    expect(me.body.user.roles).toHaveLength(2);
    expect(await h.store.teamMembers.rolesOf('alice')).toHaveLength(2);

    await page.getByRole('link', { name: 'New run' }).first().click();
    await page.getByLabel('Goal').fill('Started by a signed-in person [signin-run]');
    await page.getByRole('button', { name: 'Start run' }).click();
    await page.waitForURL(/\/runs\/run_/);
    runId = page.url().split('/').pop()!;
    expect((await h.store.runs.get(runId))?.owner).toBe('alice');
    await page.getByTestId('connection').getByText('Live').waitFor();
  });

  it('answers GET /api/session and POST /auth/logout as the OpenAPI document says', async () => {
    const checker = new OpenApiChecker((await h.request('GET', '/api/openapi.json')).body);
    const secret = await sessionCookie();
    const asSession = await fetch(`${publicUrl}/api/session`, { headers: { cookie: `${COOKIE}=${secret}` } });
    const body = (await asSession.json()) as { csrfToken?: string; expiresAt?: string };
    expect(body.csrfToken).toEqual(expect.any(String));
    expect(body.expiresAt).toEqual(expect.any(String));
    checker.check('GET', '/api/session', asSession.status, asSession.headers.get('content-type'), body);
    const nobody = await h.request('GET', '/api/session');
    checker.check('GET', '/api/session', nobody.status, nobody.headers.get('content-type'), nobody.body);
    // Sign-out with a session that is not this browser's (the page's own comes later): needs the CSRF token too.
    const other = await h.store.sessions.create('alice', 3600);
    const refused = await h.request('POST', '/auth/logout', { headers: { cookie: `${COOKIE}=${other.secret}` } });
    expect(refused.status).toBe(403);
    checker.check('POST', '/auth/logout', refused.status, refused.headers.get('content-type'), refused.body);
    const info = await h.request('GET', '/api/session', { headers: { cookie: `${COOKIE}=${other.secret}` } });
    const out = await h.request('POST', '/auth/logout', { headers: { cookie: `${COOKIE}=${other.secret}`, 'x-csrf-token': info.body.csrfToken } });
    expect(out.status).toBe(200);
    expect(out.body.redirect).toContain(`${op.issuer}/session/end`);
    checker.check('POST', '/auth/logout', out.status, out.headers.get('content-type'), out.body);
    expect((await h.request('GET', '/api/runs', { headers: { cookie: `${COOKIE}=${other.secret}` } })).status).toBe(401);
  });

  it('refuses a state-changing request from the session without its CSRF token, and takes it with the token', async () => {
    const refused = await fromPage('POST', '/api/runs', { body: { goal: 'no csrf [signin-csrf]' }, csrf: false });
    expect(refused).toMatchObject({ status: 403, body: { error: { code: 'csrf_failed' } } });
    const wrong = await page.evaluate(async () => (await fetch('/api/ws-ticket', { method: 'POST', headers: { 'x-csrf-token': 'not-the-token' } })).status);
    expect(wrong).toBe(403);
    const accepted = await fromPage('POST', '/api/ws-ticket');
    expect(accepted.status).toBe(201);
  });

  it('opens the WebSocket and SSE from the session cookie, and not the socket from another origin', async () => {
    const secret = await sessionCookie();
    const wsUrl = `${publicUrl.replace('http', 'ws')}/ws`;
    const open = (origin: string) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(wsUrl, { headers: { cookie: `${COOKIE}=${secret}`, origin } });
        ws.once('open', () => {
          ws.close();
          resolve(101);
        });
        ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.once('error', () => resolve(-1));
      });
    expect(await open(publicUrl)).toBe(101);
    expect(await open('https://evil.example')).toBe(403);
    // SSE too: the session's cookie is enough.
    const sse = await fetch(`${publicUrl}/api/runs/${runId}/stream`, { headers: { cookie: `${COOKIE}=${secret}` } });
    expect(sse.status).toBe(200);
    expect(sse.headers.get('content-type')).toContain('text/event-stream');
    await sse.body?.cancel();
    expect((await fetch(`${publicUrl}/api/runs/${runId}/stream`)).status).toBe(401);
    // And the page's own socket, through its ticket, is live (the previous test's run page showed "Live").
  });

  it('ends a session left idle, with session_expired', async () => {
    const s = await h.store.sessions.create('alice', 3600);
    const call = () => h.request('GET', '/api/runs', { headers: { cookie: `${COOKIE}=${s.secret}` } });
    expect((await call()).status).toBe(200);
    const longAgo = new Date(Date.now() - (h.config.sessions.idleSec + 60) * 1000).toISOString();
    await h.store.db.updateTable('sessions').set({ seen_at: longAgo }).where('id', '=', crypto.createHash('sha256').update(s.secret).digest('hex')).execute();
    const ended = await call();
    expect(ended.status).toBe(401);
    expect(ended.body.error.code).toBe('session_expired');
    // The socket says so too.
    const refused = await new Promise<{ status: number; body: any }>((resolve) => {
      const ws = new WebSocket(`${publicUrl.replace('http', 'ws')}/ws`, { headers: { cookie: `${COOKIE}=${s.secret}`, origin: publicUrl } });
      ws.once('unexpected-response', (_req, res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      });
      ws.once('error', () => undefined);
    });
    expect(refused).toMatchObject({ status: 401, body: { error: { code: 'session_expired' } } });
  });

  it('signs out: the session ends here and the browser goes to the provider to end its own', async () => {
    const secret = await sessionCookie();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((u) => u.origin === op.issuer, { timeout: 30_000 });
    expect(page.url()).toContain('/session/end');
    const after = await h.request('GET', '/api/runs', { headers: { cookie: `${COOKIE}=${secret}` } });
    expect(after.status).toBe(401);
    expect((await context.cookies(publicUrl)).find((x) => x.name === COOKIE)).toBeUndefined();
    // The provider asks to confirm, then sends the browser back to the sign-in page.
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.waitForURL((u) => u.origin === publicUrl, { timeout: 30_000 });
    await page.getByTestId('sign-in-provider').waitFor();
  });

  it('revokes every session of a user at once', async () => {
    const a = await h.store.sessions.create('carol', 3600);
    const b = await h.store.sessions.create('carol', 3600);
    expect(await h.store.sessions.revokeAllOf('carol')).toBe(2);
    for (const s of [a, b]) expect((await h.request('GET', '/api/runs', { headers: { cookie: `${COOKIE}=${s.secret}` } })).status).toBe(401);
  });

  describe('JWT bearer tokens', () => {
    it('takes a token the provider issued, with the roles of its claim', async () => {
      const token = await op.clientCredentialsToken();
      const res = await h.request('GET', '/api/session', { token });
      expect(res.body.user).toMatchObject({ id: 'machine', method: 'jwt', roles: [{ team: 'payments', role: 'admin' }] });
      expect(await h.store.teamMembers.rolesOf('machine')).toEqual([{ team: 'payments', role: 'admin' }]);
      expect((await h.request('GET', '/api/runs', { token })).status).toBe(200);
      // A bearer needs no CSRF token.
      expect((await h.request('POST', '/api/ws-ticket', { token })).status).toBe(201);
    });

    it('writes the roles only when they change', async () => {
      const replace = jest.spyOn(h.store.teamMembers, 'replaceFromProvider');
      try {
        const first = await op.sign({ sub: 'dave', groups: ['ops:member'] });
        await h.request('GET', '/api/runs', { token: first });
        await h.request('GET', '/api/runs', { token: await op.sign({ sub: 'dave', groups: ['ops:member'] }) });
        expect(replace).toHaveBeenCalledTimes(1);
        await h.request('GET', '/api/runs', { token: await op.sign({ sub: 'dave', groups: ['ops:viewer'] }) });
        expect(replace).toHaveBeenCalledTimes(2);
        expect(await h.store.teamMembers.rolesOf('dave')).toEqual([{ team: 'ops', role: 'viewer' }]);
      } finally {
        replace.mockRestore();
      }
    });

    it("takes the provider's roles in the order it issued them: an older token never puts back what a newer word took away", async () => {
      const now = Math.floor(Date.now() / 1000);
      // alice signed in (the first test) after this token was issued: her sign-in's roles stand; the request itself
      // acts with the token's own claim.
      const beforeSignIn = await op.sign({ sub: 'alice', groups: ['payments:admin'], iat: now - 3600, exp: now + 300 });
      const asOld = await h.request('GET', '/api/session', { token: beforeSignIn });
      expect(asOld.body.user).toMatchObject({ id: 'alice', method: 'jwt', roles: [{ team: 'payments', role: 'admin' }] });
      expect(await h.store.teamMembers.rolesOf('alice')).toEqual([
        { team: 'payments', role: 'approver' },
        { team: 'payments', role: 'member' },
      ]);
      // The provider takes approver away from erin: her fresh token says so; her old one, still valid, changes nothing.
      const old = await op.sign({ sub: 'erin', groups: ['payments:approver'], iat: now - 600, exp: now + 300 });
      expect((await h.request('GET', '/api/runs', { token: old })).status).toBe(200);
      expect(await h.store.teamMembers.rolesOf('erin')).toEqual([{ team: 'payments', role: 'approver' }]);
      expect((await h.request('GET', '/api/runs', { token: await op.sign({ sub: 'erin', groups: [], iat: now }) })).status).toBe(200);
      expect(await h.store.teamMembers.rolesOf('erin')).toEqual([]);
      expect((await h.request('GET', '/api/runs', { token: old })).status).toBe(200);
      expect(await h.store.teamMembers.rolesOf('erin')).toEqual([]);
    });

    it('honours a key the provider rotated in', async () => {
      expect((await h.request('GET', '/api/runs', { token: await op.sign({}) })).status).toBe(200);
      await op.rotate();
      const token = await op.clientCredentialsToken();
      expect(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid).toBe(op.keys[0]!.kid);
      // jose fetches the key set again on the unknown kid (at most once per cooldown).
      await waitFor(async () => (await h.request('GET', '/api/runs', { token })).status === 200, { timeoutMs: 20_000, what: 'the rotated key to be honoured' });
    });

    it('refuses an expired token with token_expired', async () => {
      const now = Math.floor(Date.now() / 1000);
      const res = await h.request('GET', '/api/runs', { token: await op.sign({ iat: now - 3600, exp: now - 600 }) });
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('token_expired');
    });

    it('ends a socket the token opened, directly or through its ticket, once the token expires (4401)', async () => {
      const token = await op.sign({ exp: Math.floor(Date.now() / 1000) + 3 });
      const wsUrl = `${h.api.url.replace(/^http/, 'ws')}/ws`;
      const { ticket } = (await h.request('POST', '/api/ws-ticket', { token })).body as { ticket: string };
      const sockets = [new WebSocket(wsUrl, { headers: { authorization: `Bearer ${token}` } }), new WebSocket(`${wsUrl}?ticket=${ticket}`)];
      const closes = sockets.map((ws) => new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }))));
      const opened = sockets.map((ws) => new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject)));
      await Promise.all(opened);
      const within = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('a socket is still open 10 s after its token expired')), 13_000).unref());
      for (const closed of closes) expect(await Promise.race([closed, within])).toEqual({ code: 4401, reason: expect.stringContaining('token') });
    });

    it('opens nothing with a ticket the token asked for once the token has expired: 4401 at once, the event stream 401', async () => {
      const exp = Math.floor(Date.now() / 1000) + 2;
      const token = await op.sign({ exp });
      const ticket = async () => ((await h.request('POST', '/api/ws-ticket', { token })).body as { ticket: string }).ticket;
      const [forSocket, forStream] = [await ticket(), await ticket()];
      await new Promise((resolve) => setTimeout(resolve, exp * 1000 - Date.now() + 100));
      const stream = await fetch(`${h.api.url}/api/runs/${runId}/stream?ticket=${forStream}`);
      expect(stream.status).toBe(401);
      expect(((await stream.json()) as { error: { code: string } }).error.code).toBe('token_expired');
      const ws = new WebSocket(`${h.api.url.replace(/^http/, 'ws')}/ws?ticket=${forSocket}`);
      const received: unknown[] = [];
      ws.on('message', (m) => received.push(m.toString()));
      ws.once('open', () => ws.send(JSON.stringify({ type: 'subscribe', runId, after: 0 })));
      const closed = await new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
      expect(closed).toEqual({ code: 4401, reason: expect.stringContaining('token') });
      expect(received).toEqual([]);
    });

    it('refuses a wrongly signed, a wrong-audience, a not-yet-valid and an alg:none token with token_invalid', async () => {
      const stranger = { ...(await strangerKey()), kid: op.keys[0]!.kid };
      const now = Math.floor(Date.now() / 1000);
      const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
      const claims = Buffer.from(JSON.stringify({ iss: op.issuer, sub: 'alice', aud: AUDIENCE, iat: now, exp: now + 300 })).toString('base64url');
      const tokens = {
        wronglySigned: await op.sign({}, stranger),
        wrongAudience: await op.clientCredentialsToken('https://other.example'),
        notYet: await op.sign({ nbf: now + 3600 }),
        algNone: `${header}.${claims}.`,
      };
      for (const [what, token] of Object.entries(tokens)) {
        const res = await h.request('GET', '/api/runs', { token });
        expect({ what, status: res.status, code: res.body?.error?.code }).toEqual({ what, status: 401, code: 'token_invalid' });
      }
    });
  });
});

async function strangerKey() {
  const jose = await import('jose');
  const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
  return { ...(await jose.exportJWK(privateKey)), alg: 'RS256' };
}
