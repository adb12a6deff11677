/**
 * The web UI in a real browser (Debian's Chromium, driven by playwright-core) when access ends under an open page:
 * the API key it signed in with is revoked, so its socket is closed 4401 — the page shows the sign-in page and its
 * socket asks for no more tickets (it does not retry with a credential that ended), and signed in again it is live
 * again; and a user taken off a team while a team run's page is open is told on that page that they may no longer see
 * it. Keep-alive beats every second.
 */
import fs from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../support/chromium';
import { startHarness, type Harness } from '../support/harness';
import { waitFor } from '../support/wait';

const ALICE = 'alice-browser-token-0123';
const BOB = 'bob-browser-token-012345';

describe('web UI: access that ends under an open page', () => {
  let h: Harness;
  let context: BrowserContext;
  let page: Page;
  let profile: string;

  beforeAll(async () => {
    h = await startHarness({ noWorker: true, env: { API_TOKENS: `${ALICE}:alice,${BOB}:bob`, WS_PING_INTERVAL_SEC: '1' } });
    h.defaultToken = ALICE;
    await h.store.teamMembers.grant('payments', 'alice', 'admin');
    ({ context, page, profile } = await launchChromium());
  });
  afterAll(async () => {
    await context?.close();
    fs.rmSync(profile, { recursive: true, force: true });
    await h.close();
  });

  async function signInWith(token: string): Promise<void> {
    await page.getByLabel('API token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  it('shows the sign-in page once the key it signed in with is revoked, stops asking for tickets, and is live again after signing in', async () => {
    const key = (await h.request('POST', '/api/keys', { body: { name: 'the browser', scopes: ['runs:read'] } })).body as { id: string; key: string };
    const run = await h.createRun({ goal: 'watched in the browser by a key', model: 'demo' });
    await page.goto(`${h.api.url}/runs/${run}`);
    await signInWith(key.key);
    await page.getByTestId('run-id').waitFor();
    await waitFor(async () => (await page.getByTestId('connection').textContent())?.startsWith('Live') === true, { what: 'the socket to be live' });

    let tickets = 0;
    page.on('request', (req) => {
      if (req.method() === 'POST' && new URL(req.url()).pathname === '/api/ws-ticket') tickets += 1;
    });
    expect((await h.request('DELETE', `/api/keys/${key.id}`)).status).toBe(200);
    await page.getByLabel('API token').waitFor({ timeout: 10_000 });
    // Longer than the first reconnect's backoff (500 ms): a socket that retried would have asked for a ticket by now.
    await new Promise((r) => setTimeout(r, 2000));
    expect(tickets).toBe(0);

    await signInWith(ALICE);
    await page.getByTestId('run-id').waitFor();
    await waitFor(async () => (await page.getByTestId('connection').textContent())?.startsWith('Live') === true, { what: 'the socket to be live again' });
    expect(tickets).toBeGreaterThan(0);
  }, 60_000);

  it("says on a team run's page that its user may no longer see it once they are taken off the team", async () => {
    await h.store.teamMembers.grant('payments', 'bob', 'member');
    const run = await h.createRun({ goal: 'a payments run bob has open', model: 'demo', team: 'payments' });
    await page.evaluate('sessionStorage.clear()');
    await page.goto(`${h.api.url}/runs/${run}`);
    await signInWith(BOB);
    await page.getByTestId('run-id').waitFor();
    await waitFor(async () => (await page.getByTestId('connection').textContent())?.startsWith('Live') === true, { what: 'the socket to be live' });

    expect((await h.request('DELETE', '/api/teams/payments/members/bob/member')).status).toBe(204);
    const said = page.getByTestId('run-access-ended');
    await said.waitFor({ timeout: 10_000 });
    expect(await said.textContent()).toContain('You may no longer see this run');
    expect(await page.getByTestId('run-id').count()).toBe(0);
  }, 60_000);
});
