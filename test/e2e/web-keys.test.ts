/**
 * The Keys page in a real browser (Debian's Chromium, driven by playwright-core): create a key and see its secret
 * once (copied to the clipboard), use it, revoke it from the page with a confirm, and find it refused; after a
 * reload the secret is nowhere on the page.
 */
import fs from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../support/chromium';
import { startHarness, type Harness } from '../support/harness';
import { waitFor } from '../support/wait';

const TOKEN = 'alice-browser-token-0123';

describe('web UI: API keys', () => {
  let h: Harness;
  let context: BrowserContext;
  let page: Page;
  let profile: string;

  beforeAll(async () => {
    h = await startHarness({ noWorker: true, env: { API_TOKENS: `${TOKEN}:alice` } });
    h.defaultToken = TOKEN;
    ({ context, page, profile } = await launchChromium());
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: h.api.url });
  });
  afterAll(async () => {
    await context?.close();
    fs.rmSync(profile, { recursive: true, force: true });
    await h.close();
  });

  it('creates a key shown once with copy, and revokes it so the API refuses it', async () => {
    await page.goto(h.api.url);
    await page.getByLabel('API token').fill(TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Runs' }).waitFor();
    await page.getByRole('link', { name: 'Keys' }).click();
    await page.getByRole('heading', { name: 'API keys' }).waitFor();

    const form = page.getByRole('form', { name: 'New API key' });
    await form.getByLabel('Name').fill('browser made');
    await form.getByRole('checkbox', { name: /runs:write/ }).check();
    await form.getByRole('button', { name: 'Create key' }).click();
    const shown = page.getByLabel('The new API key');
    await shown.waitFor();
    const key = await shown.inputValue();
    expect(key).toMatch(/^lh_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    await page.getByRole('button', { name: 'Copy' }).click();
    await page.getByRole('button', { name: 'Copied' }).waitFor();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(key);

    const id = key.split('_')[1]!;
    const row = page.locator(`[data-key-id="${id}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain('runs:read, runs:write');
    expect(await row.getByTestId('key-state').textContent()).toBe('active');
    expect((await h.request('GET', '/api/runs', { token: key })).status).toBe(200);

    // Gone after a reload: the secret is shown once.
    await page.reload();
    await row.waitFor();
    expect(await page.content()).not.toContain(key);

    await row.getByRole('button', { name: 'Revoke browser made' }).click();
    await page.getByRole('button', { name: 'Revoke key' }).click();
    await waitFor(async () => /^revoked/.test((await row.getByTestId('key-state').textContent()) ?? ''), { what: 'the page to show the key revoked' });
    const refused = await h.request('GET', '/api/runs', { token: key });
    expect([refused.status, refused.body.error.code]).toEqual([401, 'key_revoked']);
  });

  it('fits a phone: the page never scrolls sideways, with a new key shown', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${h.api.url}/keys`);
    await page.getByRole('heading', { name: 'API keys' }).waitFor();
    const form = page.getByRole('form', { name: 'New API key' });
    await page.getByText('New key').click();
    await form.getByLabel('Name').fill('a phone made this key with a rather long name');
    await form.getByRole('button', { name: 'Create key' }).click();
    await page.getByLabel('The new API key').waitFor();
    expect(await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth')).toBeLessThanOrEqual(0);
  });
});
