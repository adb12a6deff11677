/**
 * More of sign-in against the real OpenID Provider (test/support/oidc-provider.mjs), beside test/e2e/sign-in.test.ts:
 * a session id planted in the browser before sign-in is replaced by a new one and ended (rotation at sign-in);
 * `POST /auth/logout?everywhere=true` over HTTP ends every session of the user and no one else's; and a token the
 * provider's key signed but naming another issuer is refused with 401 token_invalid.
 */
import fs from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../support/chromium';
import { startHarness, type Harness } from '../support/harness';
import { TEST_CLIENT_SECRET, TestOidcProvider } from '../support/oidc-test-provider';
import { freePort } from '../support/ports';

const AUDIENCE = 'https://api.longhaul.test';
const COOKIE = 'longhaul_session';

describe('sign-in with an OpenID Provider: rotation, sign-out everywhere, the issuer', () => {
  let op: TestOidcProvider;
  let h: Harness;
  let publicUrl: string;
  let context: BrowserContext | undefined;
  let page: Page;
  let profile: string | undefined;

  beforeAll(async () => {
    const port = await freePort();
    publicUrl = `http://127.0.0.1:${port}`;
    op = new TestOidcProvider({ redirectUri: `${publicUrl}/auth/callback`, postLogoutUri: `${publicUrl}/`, audience: AUDIENCE });
    await op.start();
    h = await startHarness({
      noWorker: true,
      env: { PORT: String(port), PUBLIC_URL: publicUrl, OIDC_ISSUER: op.issuer, OIDC_CLIENT_ID: 'longhaul', OIDC_CLIENT_SECRET: TEST_CLIENT_SECRET, OIDC_AUDIENCE: AUDIENCE },
    });
  });

  afterAll(async () => {
    await context?.close();
    if (profile) fs.rmSync(profile, { recursive: true, force: true });
    await h?.close();
    await op?.close();
  });

  const withCookie = (secret: string, extra: Record<string, string> = {}) => ({ headers: { cookie: `${COOKIE}=${secret}`, ...extra } });

  it('gives a new session id at sign-in and ends the one the browser carried before', async () => {
    ({ context, page, profile } = await launchChromium());
    // A session planted in the browser before sign-in (an attacker's own, say): it must not become the signed-in one.
    const planted = await h.store.sessions.create('mallory', 3600);
    expect((await h.request('GET', '/api/runs', withCookie(planted.secret))).status).toBe(200);
    await context.addCookies([{ name: COOKIE, value: planted.secret, url: publicUrl, httpOnly: true, sameSite: 'Lax' }]);
    await page.goto(`${publicUrl}/auth/login`);
    await page.locator('input[name="login"]').fill('alice');
    await page.locator('input[name="password"]').fill('any password');
    await page.locator('button[type="submit"]').first().click();
    await page.waitForURL((u) => u.origin === publicUrl, { timeout: 30_000 });

    const cookie = (await context.cookies(publicUrl)).find((c) => c.name === COOKIE);
    expect(cookie?.value).toEqual(expect.any(String));
    expect(cookie!.value).not.toBe(planted.secret);
    expect((await h.request('GET', '/api/session', withCookie(cookie!.value))).body.user).toMatchObject({ id: 'alice', method: 'session' });
    const before = await h.request('GET', '/api/runs', withCookie(planted.secret));
    expect([before.status, before.body.error.code]).toEqual([401, expect.stringMatching(/^(unauthorized|session_expired)$/)]);
  });

  it('ends every session of the user with POST /auth/logout?everywhere=true, and no one else\'s', async () => {
    const here = await h.store.sessions.create('dora', 3600);
    const elsewhere = await h.store.sessions.create('dora', 3600);
    const someoneElse = await h.store.sessions.create('erin', 3600);
    for (const s of [here, elsewhere, someoneElse]) expect((await h.request('GET', '/api/runs', withCookie(s.secret))).status).toBe(200);
    const csrf = (await h.request('GET', '/api/session', withCookie(here.secret))).body.csrfToken as string;
    // Without the session's CSRF token nothing ends.
    expect((await h.request('POST', '/auth/logout?everywhere=true', withCookie(here.secret))).status).toBe(403);
    expect((await h.request('GET', '/api/runs', withCookie(elsewhere.secret))).status).toBe(200);

    const out = await h.request('POST', '/auth/logout?everywhere=true', withCookie(here.secret, { 'x-csrf-token': csrf }));
    expect(out.status).toBe(200);
    for (const s of [here, elsewhere]) expect((await h.request('GET', '/api/runs', withCookie(s.secret))).status).toBe(401);
    expect((await h.request('GET', '/api/runs', withCookie(someoneElse.secret))).status).toBe(200);
  });

  it('refuses a token signed with the provider\'s own key but naming another issuer with 401 token_invalid', async () => {
    expect((await h.request('GET', '/api/runs', { token: await op.sign({}) })).status).toBe(200);
    for (const iss of ['https://other-idp.example', `${op.issuer}/other`]) {
      const res = await h.request('GET', '/api/runs', { token: await op.sign({ iss }) });
      expect([iss, res.status, res.body.error.code]).toEqual([iss, 401, 'token_invalid']);
    }
  });
});
