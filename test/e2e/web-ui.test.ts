/**
 * The web UI in a real browser (Debian's Chromium, driven by playwright-core): sign in, start a run
 * from the form, watch it stream, approve from the page, survive a dropped socket and a reload with
 * no duplicate or missing entries, cancel with a confirm; agent output shown as text only; usable at
 * phone width. With SCREENSHOTS_DIR set it saves the screenshots shown in the README.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Page, Route, WebSocket } from 'playwright-core';
import { launchChromium } from '../support/chromium';
import { CountingServer } from '../support/counting-server';
import { FakeAnthropic, type FakeRequest } from '../support/fake-anthropic';
import { startHarness, type Harness } from '../support/harness';
import { waitFor } from '../support/wait';

const TOKEN = 'alice-browser-token-0123';
const SHOTS = process.env.SCREENSHOTS_DIR;

describe('web UI', () => {
  const fake = new FakeAnthropic();
  const outside = new CountingServer();
  let h: Harness;
  let context: BrowserContext;
  let page: Page;
  let profile: string;

  beforeAll(async () => {
    await fake.start();
    await outside.start();
    h = await startHarness({
      env: {
        API_TOKENS: `${TOKEN}:alice`,
        ANTHROPIC_API_KEY: fake.apiKey,
        ANTHROPIC_BASE_URL: fake.url,
        LLM_MODEL: 'claude-sonnet-5-5',
        HTTP_TOOL_ALLOWED_HOSTS: outside.host,
        TEMPORAL_UI_URL: 'http://127.0.0.1:8233/',
        USER_DAILY_BUDGET_USD: '50',
      },
    });
    h.defaultToken = TOKEN;
    ({ context, page, profile } = await launchChromium());
  });
  afterAll(async () => {
    await context?.close();
    fs.rmSync(profile, { recursive: true, force: true });
    await h.close();
    await fake.stop();
    await outside.stop();
  });

  async function shot(name: string): Promise<void> {
    if (!SHOTS) return;
    fs.mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: false });
  }

  /**
   * Holds the page's POSTs to `pathPrefix` until `release()`: what the page shows before the server has answered
   * is what it did at once, whatever the machine's load (a time limit could not tell the two apart).
   */
  async function holdPosts(pathPrefix: string): Promise<{ release: () => Promise<void> }> {
    let held = 0;
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    const matches = (url: URL) => url.pathname.startsWith(pathPrefix);
    const handler = async (route: Route) => {
      if (route.request().method() !== 'POST') return route.continue();
      held += 1;
      await opened;
      await route.continue();
    };
    await page.route(matches, handler);
    return {
      async release() {
        open();
        await waitFor(() => held > 0, { what: `the page's POST to ${pathPrefix}` });
        await page.unroute(matches, handler);
      },
    };
  }

  /** The seqs of the entries on the page; each must appear once. */
  async function renderedSeqs(): Promise<number[]> {
    return page.$$eval('[data-testid="timeline"] [data-seq]', (els) => els.map((e) => Number(e.getAttribute('data-seq'))));
  }

  /** Every event that makes an entry of its own, in the order the page should show them. */
  async function expectedSeqs(runId: string): Promise<number[]> {
    const own = new Set(['run.queued', 'run.started', 'llm.message', 'llm.retry', 'approval.requested', 'input.requested', 'run.paused', 'run.resumed', 'run.handoff', 'run.stalled', 'limit.exceeded', 'run.completed', 'run.failed', 'run.cancelled', 'user.message']);
    return (await h.events(runId)).filter((e) => own.has(e.type)).map((e) => e.seq);
  }

  async function expectTimelineMatchesServer(runId: string): Promise<void> {
    let shown: number[] = [];
    let expected: number[] = [];
    await waitFor(
      async () => {
        shown = await renderedSeqs();
        expected = await expectedSeqs(runId);
        return JSON.stringify(shown) === JSON.stringify(expected);
      },
      { what: () => `the page to show every entry once: shown ${JSON.stringify(shown)}, expected ${JSON.stringify(expected)}` },
    );
  }

  const slowText = (s: string, n = 4) => s.repeat(n);
  function reportScript(marker: string) {
    return (req: FakeRequest) =>
      req.assistantTurns === 0
        ? {
            text: slowText('I will check the forecast and then post it to the team channel. '),
            chunkChars: 4,
            delayMs: 40,
            toolUses: [{ name: 'http_request', input: { method: 'POST', url: `${outside.url}/reports/${marker}`, body: '{"forecast":"sunny"}' } }],
          }
        : { text: slowText('Posted the forecast. Sunny all week, with a light breeze on Thursday. '), chunkChars: 4, delayMs: 40 };
  }

  it('signs in, starts a run from the form, streams it, and is approved from the page', async () => {
    fake.script('[e2e-main]', reportScript('main'));
    await page.goto(h.api.url);
    await page.getByLabel('API token').fill(TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Runs' }).waitFor();
    expect(await page.evaluate("sessionStorage.getItem('longhaul.token')")).toBe(TOKEN);
    expect(page.url()).not.toContain(TOKEN);

    await page.getByRole('link', { name: 'New run' }).first().click();
    await page.getByLabel('Goal').fill('Check the weather and report it [e2e-main]');
    await page.getByLabel('Ask for approval before').selectOption('write');
    await page.getByLabel('Max steps').fill('10');
    await page.getByRole('button', { name: 'Start run' }).click();
    await page.waitForURL(/\/runs\/run_/);
    const runId = page.url().split('/').pop()!;

    // Streaming: the text grows on the page before the message is complete.
    const streaming = page.getByTestId('streaming-text');
    await streaming.waitFor();
    const early = (await streaming.textContent()) ?? '';
    await waitFor(async () => ((await streaming.textContent().catch(() => '')) ?? '').length > early.length + 8, { what: 'the streamed text to grow' });
    await page.getByTestId('connection').getByText('Live').waitFor();
    await shot('streaming-run');

    const approval = page.getByTestId('approval');
    await approval.waitFor();
    await page.getByTestId('run-status').getByText('Waiting for you: approval').waitFor();
    await expect(approval.textContent()).resolves.toContain('http_request');
    // The call as a request people read (method, URL, body pretty-printed), the raw JSON a click away.
    const request = approval.getByTestId('http-request');
    await request.getByText(`POST ${outside.url}/reports/main`).waitFor();
    expect(await request.textContent()).toContain('"forecast": "sunny"');
    await shot('approval');
    await approval.getByRole('button', { name: 'Raw JSON' }).click();
    expect(await approval.getByTestId('raw-input').textContent()).toContain('"method": "POST"');
    await approval.getByRole('button', { name: 'Readable view' }).click();
    await approval.getByLabel('Comment (optional)').fill('go ahead');
    await approval.getByRole('button', { name: 'Approve' }).click();
    await page.getByTestId('approval-outcome').getByText('Approved by alice: “go ahead”').waitFor();

    await page.getByTestId('run-status').locator('[data-status="completed"]').waitFor({ timeout: 30_000 });
    await page.getByRole('region', { name: 'Result' }).waitFor();
    expect(outside.applied.filter((r) => r.path === '/reports/main')).toHaveLength(1);
    await page.locator('[data-tool="http_request"] .tool-status', { hasText: 'done' }).waitFor();
    await expectTimelineMatchesServer(runId);
    const stored = (await h.events(runId)).filter((e) => e.type === 'llm.message');
    const shown = await page.getByTestId('message-text').allTextContents();
    expect(shown).toEqual(stored.map((e) => e.data.text));
  });

  it('recovers from a dropped socket with no duplicate or missing entries', async () => {
    fake.script('[e2e-drop]', (req) =>
      req.assistantTurns < 3
        ? { text: slowText(`Step ${req.assistantTurns}: listing things slowly. `, 6), chunkChars: 4, delayMs: 30, toolUses: [{ name: 'workspace_list', input: {} }] }
        : { text: 'Finished after the reconnect.', chunkChars: 4, delayMs: 30 },
    );
    const runId = await h.createRun({ goal: 'Survive a dropped socket [e2e-drop]', approvals: 'none' });
    await page.goto(`${h.api.url}/runs/${runId}`);
    await page.getByTestId('streaming-text').waitFor();
    await page.getByTestId('connection').getByText('Live').waitFor();

    await h.restartApi(); // every socket drops; the server comes back on the same port
    await page.getByTestId('connection').getByText('Live').waitFor({ timeout: 30_000 });
    await page.getByTestId('run-status').locator('[data-status="completed"]').waitFor({ timeout: 60_000 });
    await expectTimelineMatchesServer(runId);
    const seqs = await renderedSeqs();
    expect(new Set(seqs).size).toBe(seqs.length);
    const stored = (await h.events(runId)).filter((e) => e.type === 'llm.message').map((e) => e.data.text);
    expect(await page.getByTestId('message-text').allTextContents()).toEqual(stored);
  });

  it('rebuilds the page after a reload mid-run', async () => {
    fake.script('[e2e-reload]', (req) =>
      req.assistantTurns < 2
        ? { text: slowText(`Part ${req.assistantTurns} of a long job. `, 6), chunkChars: 4, delayMs: 30, toolUses: [{ name: 'workspace_list', input: {} }] }
        : { text: 'Done despite the reload.', chunkChars: 4, delayMs: 30 },
    );
    const runId = await h.createRun({ goal: 'Reload me [e2e-reload]', approvals: 'none' });
    await page.goto(`${h.api.url}/runs/${runId}`);
    await page.getByTestId('streaming-text').waitFor();
    await page.reload();
    await page.getByTestId('run-status').locator('[data-status="completed"]').waitFor({ timeout: 60_000 });
    await expectTimelineMatchesServer(runId);
    expect(await page.getByTestId('message-text').allTextContents()).toEqual((await h.events(runId)).filter((e) => e.type === 'llm.message').map((e) => e.data.text));
  });

  it('cancels a run after a confirmation', async () => {
    fake.script('[e2e-cancel]', () => ({ toolUses: [{ name: 'ask_user', input: { question: 'Which city?' } }] }));
    const runId = await h.createRun({ goal: 'Wait for me [e2e-cancel]' });
    await page.goto(`${h.api.url}/runs/${runId}`);
    await page.getByTestId('question').getByText('Which city?').waitFor();
    await page.getByTestId('run-status').getByText('Waiting for you: question').waitFor();
    await page.getByRole('button', { name: 'Cancel run' }).click();
    const dialog = page.getByRole('dialog', { name: 'Cancel this run?' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Keep running' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect((await h.getRun(runId)).status).toBe('waiting_input');
    await page.getByRole('button', { name: 'Cancel run' }).click();
    await dialog.getByRole('button', { name: 'Cancel run' }).click();
    await page.getByTestId('run-status').locator('[data-status="cancelled"]').waitFor({ timeout: 30_000 });
    expect((await h.getRun(runId)).status).toBe('cancelled');
    // Nothing in an ended run still says waiting or running.
    await page.locator('.tool-status', { hasText: 'stopped with the run' }).first().waitFor();
    expect(await page.locator('.tool-status').evaluateAll((els) => els.map((e) => e.textContent))).not.toContain('waiting');
    await page.getByTestId('question').locator('.outcome').waitFor(); // expired with the run, or closed: no longer asking
    expect(await page.getByLabel('Your answer').count()).toBe(0);
    expect(await page.getByTestId('go-to-request').count()).toBe(0);
  });

  it('answers the agent’s question from the page', async () => {
    fake.script('[e2e-ask]', (req) =>
      req.assistantTurns === 0 ? { toolUses: [{ name: 'ask_user', input: { question: 'Which city?' } }] } : { text: `Forecast for ${req.lastToolResults[0]?.content}.` },
    );
    const runId = await h.createRun({ goal: 'Ask me [e2e-ask]' });
    await page.goto(`${h.api.url}/runs/${runId}`);
    const question = page.getByTestId('question');
    await question.getByLabel('Your answer').fill('Lisbon');
    await question.getByRole('button', { name: 'Send answer' }).click();
    await page.getByTestId('run-status').locator('[data-status="completed"]').waitFor({ timeout: 30_000 });
    await page.getByText('Forecast for Lisbon.').first().waitFor();
  });

  it('continues a completed run from the message box under the timeline', async () => {
    fake.script('[e2e-follow]', (req) => ({ text: req.assistantTurns === 0 ? 'Lisbon: sunny.' : 'Porto: cloudy.' }));
    const runId = await h.createRun({ goal: 'Weather please [e2e-follow]', approvals: 'none' });
    await page.goto(`${h.api.url}/runs/${runId}`);
    await page.getByTestId('run-status').locator('[data-status="completed"]').waitFor({ timeout: 30_000 });
    await page.getByTestId('follow-up').fill('Now Porto.');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.locator('.entry-user').getByText('Now Porto.').waitFor({ timeout: 20_000 });
    await page.getByText('Porto: cloudy.').first().waitFor({ timeout: 30_000 });
    await page.getByTestId('run-status').locator('[data-status="completed"]').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('follow-up').inputValue()).toBe('');
  });

  it('lists runs with their status in words, filters them, and updates live', async () => {
    fake.script('[e2e-list]', (req) => (req.assistantTurns === 0 ? { toolUses: [{ name: 'ask_user', input: { question: 'Go?' } }] } : { text: 'listed run done' }));
    await page.goto(h.api.url);
    const runId = await h.createRun({ goal: 'Appear in the list [e2e-list]' });
    const row = page.locator(`tr[data-run-id="${runId}"]`);
    await row.waitFor({ timeout: 20_000 });
    await row.getByText('Waiting for you: question').waitFor({ timeout: 20_000 });
    await shot('runs-list');
    // The run finishes elsewhere; the list follows without a reload.
    await h.request('POST', `/api/runs/${runId}/input`, { body: { text: 'yes' } });
    await row.getByText('Completed').waitFor({ timeout: 20_000 });
    expect(await row.locator('[data-status]').getAttribute('data-status')).toBe('completed');
    await page.getByTestId('status-filter').selectOption('cancelled');
    await page.locator(`tr[data-run-id="${runId}"]`).waitFor({ state: 'detached' });
    await page.getByTestId('status-filter').selectOption('completed');
    await page.locator(`tr[data-run-id="${runId}"]`).waitFor();
  });

  it('shows agent and tool output as text, never as HTML', async () => {
    const payload = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>';
    fake.script('[e2e-xss]', (req) =>
      req.assistantTurns === 0
        ? { text: `Look: ${payload}`, toolUses: [{ name: 'workspace_write', input: { path: 'x.html', content: payload } }] }
        : { text: `Wrote ${payload}` },
    );
    const runId = await h.createRun({ goal: `XSS ${payload} [e2e-xss]`, approvals: 'none' });
    await page.goto(`${h.api.url}/runs/${runId}`);
    await page.getByTestId('run-status').locator('[data-status="completed"]').waitFor({ timeout: 30_000 });
    expect(await page.evaluate('typeof window.__xss')).toBe('undefined');
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(await page.locator('#main script').count()).toBe(0);
    await page.getByText(`Wrote ${payload}`).first().waitFor();
    await page.getByRole('heading', { name: `XSS ${payload} [e2e-xss]` }).waitFor();
    // The browser would block inline script anyway: the server sends a strict Content-Security-Policy.
    const res = await fetch(`${h.api.url}/runs/${runId}`);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");

    // The file it wrote, in the run's file browser: listed, opened as text, never as a page; then released.
    const workspace = page.getByTestId('workspace');
    await workspace.getByRole('button', { name: 'x.html' }).click();
    await workspace.getByTestId('file-text').getByText(payload).waitFor();
    expect(await page.evaluate('typeof window.__xss')).toBe('undefined');
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    // Its Download link is a blob of the app's origin: opened in a tab, it is saved, never run as a page of the app.
    const href = await workspace.getByRole('link', { name: 'Download' }).getAttribute('href');
    const tab = await page.context().newPage();
    const opened = await tab.goto(href!).then(
      () => 'rendered',
      (err: unknown) => (/Download is starting/.test(String(err)) ? 'downloaded' : String(err)),
    );
    expect(opened).toBe('downloaded');
    expect(await tab.evaluate('typeof window.__xss')).toBe('undefined');
    await tab.close();
    await shot('workspace-files');
    await workspace.getByRole('button', { name: 'Release workspace' }).click();
    await workspace.getByText('released').waitFor();
    expect((await h.request('GET', `/api/runs/${runId}/workspace`)).body.state).toBe('released');
  });

  it('lists schedules with their next and last firings and latest runs, and pauses, fires, resumes and deletes them', async () => {
    const created = await h.request('POST', '/api/schedules', { body: { name: 'Hourly plan', goal: 'Plan the hour', everySec: 3600, model: 'demo', approvals: 'none' } });
    const id = created.body.id as string;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Schedules' }).click();
    const card = page.locator(`[data-schedule-id="${id}"]`);
    await card.getByRole('heading', { name: 'Hourly plan' }).waitFor();
    await card.getByText('every 3600 s').waitFor();
    expect(await card.getByTestId('next-firing').textContent()).toMatch(/^in \d+( min|s)$/);
    expect(await card.getByTestId('last-firing').textContent()).toBe('never');

    await card.getByRole('button', { name: 'Run now' }).click();
    await card.getByRole('list', { name: 'Latest runs of Hourly plan' }).getByRole('link').first().waitFor({ timeout: 20_000 });
    await card.getByTestId('last-firing').getByText(/ago$/).waitFor({ timeout: 20_000 });
    await shot('schedules');

    await card.getByRole('button', { name: 'Pause' }).click();
    await card.getByText('Paused').waitFor();
    expect((await h.request('GET', `/api/schedules/${id}`)).body.paused).toBe(true);
    await card.getByRole('button', { name: 'Resume' }).click();
    await card.getByRole('button', { name: 'Pause' }).waitFor();

    await card.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete schedule' }).click();
    await card.waitFor({ state: 'detached' });
    expect((await h.request('GET', `/api/schedules/${id}`)).status).toBe(404);
  });

  it('shows when each entry happened, how long the run took, its id, and runs it again', async () => {
    const runId = await h.createRun({ goal: 'Again please [e2e-again]', model: 'demo', approvals: 'none' });
    await page.goto(`${h.api.url}/runs/${runId}`);
    await page.getByTestId('run-status').locator('[data-status="completed"]').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('run-id').textContent()).toBe(runId);
    expect(await page.getByTestId('elapsed').textContent()).toMatch(/^\d+(\.\d)? (ms|s)$|min/);
    // Every time shown is an event's own time. (A run that ended before the page opened shows its status from
    // the snapshot first; its timeline follows over the socket.)
    await expectTimelineMatchesServer(runId);
    const stamps = await page.getByTestId('timeline').locator('time.when').evaluateAll((els) => els.map((e) => e.getAttribute('datetime')));
    const ats = new Set((await h.events(runId)).map((e) => e.at));
    expect(stamps.length).toBeGreaterThan(3);
    for (const at of stamps) expect(ats.has(at!)).toBe(true);

    await page.getByRole('button', { name: 'Run again' }).click();
    await page.waitForURL((u) => /^\/runs\/run_/.test(u.pathname) && !u.pathname.endsWith(runId));
    const again = page.url().split('/').pop()!;
    expect(await h.getRun(again)).toMatchObject({ goal: 'Again please [e2e-again]', model: 'demo', approvals: 'none' });
  });

  it('gathers what waits across runs in the inbox, counts it, shows file writes as text and diffs, and clears as I decide', async () => {
    fake.script('[e2e-inbox-write]', (req) =>
      req.assistantTurns === 0
        ? { toolUses: [{ name: 'workspace_write', input: { path: 'notes.md', content: 'alpha\nbeta\ndelta\n' } }] }
        : req.assistantTurns === 1
          ? { toolUses: [{ name: 'workspace_write', input: { path: 'notes.md', content: 'alpha\nBETA\ndelta\ngamma\n' } }] }
          : { text: 'Notes written twice.' },
    );
    fake.script('[e2e-inbox-ask]', (req) => (req.assistantTurns === 0 ? { toolUses: [{ name: 'ask_user', input: { question: 'Which colour for the notes?' } }] } : { text: 'Teal it is.' }));
    const writer = await h.createRun({ goal: 'Keep notes [e2e-inbox-write]', approvals: 'write' });
    await h.waitForStatus(writer, 'waiting_approval');
    const asker = await h.createRun({ goal: 'Pick a colour [e2e-inbox-ask]', approvals: 'none' });
    await h.waitForStatus(asker, 'waiting_input');

    await page.goto(`${h.api.url}/inbox`);
    const inbox = page.getByTestId('inbox');
    await inbox.locator('li').nth(1).waitFor();
    expect(await inbox.locator('li').count()).toBe(2);
    expect(await page.getByTestId('inbox-count').textContent()).toBe('2');
    // Oldest first, each with its run and its expiry.
    expect(await inbox.locator('li .who').allTextContents()).toEqual(['Approve workspace_write? · write', 'The agent asks']);
    expect(await inbox.getByTestId('expiry').first().textContent()).toMatch(/^expires in /);
    // What the approval would let run is on the card: the file and its text.
    expect(await inbox.locator('li').first().getByTestId('write-path').textContent()).toBe('notes.md');
    expect(await inbox.locator('li').first().getByTestId('write-content').textContent()).toBe('alpha\nbeta\ndelta\n');
    await shot('inbox');

    // From the inbox straight to the request: its card has the keyboard, so `a` means it (after a confirmation).
    await inbox.getByRole('link', { name: 'Keep notes [e2e-inbox-write]' }).click();
    await page.waitForURL((u) => u.pathname === `/runs/${writer}` && u.hash.startsWith('#approval-'));
    const first = page.locator('[data-testid="approval"][data-pending="true"]');
    await waitFor(async () => (await page.evaluate('document.activeElement?.id')) === (await first.getAttribute('id')), { what: 'the request to have the focus' });
    expect(await first.getByTestId('write-path').textContent()).toBe('notes.md');
    expect(await first.getByTestId('write-content').textContent()).toBe('alpha\nbeta\ndelta\n'); // the file's text, not escaped JSON
    await page.keyboard.press('a');
    const confirm = page.getByRole('dialog', { name: 'Approve workspace_write?' });
    await confirm.getByRole('button', { name: 'Approve' }).click();
    await page.getByTestId('approval-outcome').first().getByText('Approved by alice').waitFor();

    // The second write replaces a file that exists: the card shows what changes.
    const goTo = page.getByTestId('go-to-request');
    await goTo.waitFor({ timeout: 30_000 });
    await goTo.click();
    const diff = page.locator('[data-testid="approval"][data-pending="true"]').getByTestId('write-diff');
    await diff.waitFor();
    await diff.scrollIntoViewIfNeeded();
    expect(await diff.locator('.diff-del').allTextContents()).toEqual(['- beta\n']);
    expect(await diff.locator('.diff-add').allTextContents()).toEqual(['+ BETA\n', '+ gamma\n']);
    await shot('approval-diff');

    // Decided in place from the inbox, after the run page's confirmation, with a comment; the count drops at once.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: /Inbox/ }).click();
    const waitingWrite = page.getByTestId('inbox').locator('li', { hasText: 'Keep notes [e2e-inbox-write]' });
    await waitingWrite.getByLabel('Comment (optional)').fill('Keep beta in lower case.');
    await waitingWrite.getByRole('button', { name: 'Reject' }).click();
    const rejecting = page.getByRole('dialog', { name: 'Reject workspace_write?' });
    // The confirmation says what it decides: the change to the file (shown once the file's current text has come).
    const rejectingDiff = rejecting.getByTestId('write-diff');
    await rejectingDiff.waitFor();
    expect(await rejectingDiff.locator('.diff-add').allTextContents()).toEqual(['+ BETA\n', '+ gamma\n']);
    const rejection = await holdPosts(`/api/runs/${writer}/approvals/`);
    await rejecting.getByRole('button', { name: 'Reject' }).click();
    await waitFor(async () => (await page.getByTestId('inbox-count').textContent().catch(() => null)) === '1', { timeoutMs: 10_000, what: 'the count to drop to 1 before the decision is answered' });
    await rejection.release();
    await h.waitForStatus(writer, 'completed');
    expect((await h.events(writer)).flatMap((e) => (e.type === 'approval.decided' ? [[e.data.decision, e.data.comment]] : []))).toEqual([
      ['approved', null],
      ['rejected', 'Keep beta in lower case.'],
    ]);
    await page.goto(`${h.api.url}/runs/${writer}`);
    await page.getByTestId('run-status').locator('[data-status="completed"]').waitFor({ timeout: 30_000 });

    // Money: one row per model turn, the cost line, the cap and today's spend against the budget.
    await page.getByTestId('spend').locator('summary').click();
    const turns = (await h.events(writer)).filter((e) => e.type === 'llm.message');
    // The status comes with the run's view, the turns with its events over the socket: wait for the rows.
    const rows = page.getByTestId('turns-table').locator('tbody tr');
    let shown = 0;
    await waitFor(async () => (shown = await rows.count()) === turns.length, { what: () => `${turns.length} turns in the spend table (shown: ${shown})` });
    await page.getByTestId('sparkline').waitFor();
    expect(await page.getByTestId('budget').textContent()).toContain('daily budget');
    await shot('spend');

    // The question, answered in place.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: /Inbox/ }).click();
    const question = page.getByTestId('inbox').locator('li', { hasText: 'Pick a colour [e2e-inbox-ask]' });
    await question.getByLabel('Your answer').fill('teal');
    const answer = await holdPosts(`/api/runs/${asker}/input`);
    await question.getByRole('button', { name: 'Send answer' }).click();
    await page.getByTestId('inbox-empty').waitFor({ timeout: 10_000 }); // while the answer is held
    expect(await page.getByTestId('inbox-count').count()).toBe(0);
    await answer.release();
    expect((await h.waitForStatus(asker, 'completed')).result).toBe('Teal it is.');
    expect((await h.events(asker)).find((e) => e.type === 'input.received')?.data).toMatchObject({ text: 'teal', by: 'alice' });

    // More than a page waits (issue 26): questions of runs written straight to the store (no workflows; below the
    // writer's run, so the runs list stays as it was). The first 50 show, the count says all 55, "Show more" reads on.
    const paged = Array.from({ length: 55 }, (_, i) => ({ runId: `run_e2e_page_${i}`, id: `ask_e2e_page_${i}` }));
    for (const [i, { runId, id }] of paged.entries()) {
      await h.store.runs.insert({ id: runId, owner: 'alice', goal: `Paged [e2e-inbox-page] ${i}`, model: 'demo', approvals: 'none', limits: { maxSteps: 5, maxCostUsd: 1, maxDurationSec: 60 }, parentRunId: writer, depth: 1 });
      await h.store.runs.updateState(runId, { status: 'waiting_input' });
      await h.store.inputs.insert({ id, runId, turn: 1, toolUseId: `tu_${id}`, question: `Paged question ${i}?`, requestedAt: new Date(Date.now() - 60_000 + i).toISOString(), expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
    }
    try {
      await page.reload();
      await page.getByTestId('inbox-more').waitFor({ timeout: 10_000 });
      expect(await page.getByTestId('inbox').locator('li').count()).toBe(50);
      expect(await page.getByTestId('inbox-count').textContent()).toBe('55');
      await page.getByTestId('inbox-more').click();
      await waitFor(async () => (await page.getByTestId('inbox').locator('li').count()) === 55, { timeoutMs: 10_000, what: 'all 55 after "Show more"' });
      expect(await page.getByTestId('inbox-more').count()).toBe(0);
      expect(await page.getByTestId('inbox').locator('li').last().textContent()).toContain('Paged question 54?');
    } finally {
      for (const { runId, id } of paged) {
        await h.store.inputs.settle(id, { status: 'expired' });
        await h.store.runs.delete(runId);
      }
    }
  });

  it('lists a run created over the API at once, with duration, turns and cost, and keeps search and filter in the address', async () => {
    // What the page's socket hears of the runs feed.
    const feed: string[] = [];
    const listen = (ws: WebSocket) => ws.on('framereceived', ({ payload }) => typeof payload === 'string' && payload.includes('"runs.changed"') && feed.push(payload));
    page.on('websocket', listen);
    await page.goto(h.api.url);
    await page.getByTestId('connection').getByText('Live').waitFor();
    const runId = await h.createRun({ goal: 'A zebra crossing [e2e-live-list]', model: 'demo', approvals: 'none' });
    // No reload and no poll: the runs feed on the socket names it, and the list shows it. (The row alone proves
    // nothing: the page's first read of the list may land after the run was created.)
    await waitFor(() => feed.some((payload) => payload.includes(runId)), { timeoutMs: 10_000, what: 'the runs feed to name the new run' });
    await page.locator(`tr[data-run-id="${runId}"]`).waitFor({ timeout: 10_000 });
    page.off('websocket', listen);
    const row = page.locator(`tr[data-run-id="${runId}"]`);
    await row.locator('[data-status="completed"]').waitFor({ timeout: 30_000 });
    const run = await h.getRun(runId);
    expect(await row.locator('td[data-label="Turns"]').textContent()).toBe(String(run.turn));
    expect(await row.getByTestId('duration').textContent()).toMatch(/\d/);
    expect(await row.locator('td[data-label="Cost"]').textContent()).toBe('$0');

    await page.getByTestId('search').fill('ZEBRA');
    await waitFor(async () => (await page.locator('tr[data-run-id]').count()) === 1, { what: 'the search to leave one run' });
    await page.getByTestId('status-filter').selectOption('completed');
    await waitFor(
      () => {
        const q = new URL(page.url()).searchParams;
        return q.get('status') === 'completed' && q.get('q') === 'ZEBRA';
      },
      { what: () => `filters in the address: ${page.url()}` },
    );
    await page.reload();
    expect(await page.getByTestId('search').inputValue()).toBe('ZEBRA');
    expect(await page.getByTestId('status-filter').inputValue()).toBe('completed');
    await page.locator(`tr[data-run-id="${runId}"]`).waitFor();
    expect(await page.locator('tr[data-run-id]').count()).toBe(1);
  });

  it('edits and reruns a run, and links it to Temporal', async () => {
    const runId = await h.createRun({ goal: 'Edit me [e2e-edit]', model: 'demo', approvals: 'none', limits: { maxSteps: 7 } });
    await page.goto(`${h.api.url}/runs/${runId}`);
    await page.getByTestId('run-status').locator('[data-status="completed"]').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('temporal-link').getAttribute('href')).toBe(`http://127.0.0.1:8233/namespaces/${h.config.temporal.namespace}/workflows/${runId}`);
    await page.getByRole('link', { name: 'Edit and run again' }).click();
    await page.getByRole('heading', { name: 'Edit and run again' }).waitFor();
    await waitFor(async () => (await page.getByLabel('Goal').inputValue()) === 'Edit me [e2e-edit]', { what: 'the form to be filled from the run' });
    expect(await page.getByLabel('Max steps').inputValue()).toBe('7');
    expect(await page.getByLabel('Ask for approval before').inputValue()).toBe('none');
    await page.getByLabel('Goal').fill('Edited [e2e-edit]');
    await page.getByRole('button', { name: 'Start run' }).click();
    await page.waitForURL((u) => /^\/runs\/run_/.test(u.pathname) && !u.pathname.endsWith(runId));
    const edited = page.url().split('/').pop()!;
    expect(await h.getRun(edited)).toMatchObject({ goal: 'Edited [e2e-edit]', model: 'demo', approvals: 'none', limits: { maxSteps: 7 } });
  });

  it('has keyboard shortcuts: / to search, ? to list them', async () => {
    await page.goto(`${h.api.url}/schedules`);
    await page.locator('body').press('?');
    const help = page.getByTestId('shortcuts');
    await help.getByText('Search runs').waitFor();
    await page.keyboard.press('Escape');
    await help.waitFor({ state: 'hidden' });
    await page.locator('body').press('/');
    await page.waitForURL((u) => u.pathname === '/');
    await waitFor(async () => (await page.evaluate('document.activeElement?.dataset?.shortcut')) === 'search', { what: 'the search to have the focus' });
  });

  it('follows the system dark mode', async () => {
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.goto(h.api.url);
    await page.getByTestId('runs-table').waitFor();
    const bg = await page.evaluate<string>('getComputedStyle(document.body).backgroundColor || getComputedStyle(document.documentElement).backgroundColor');
    const root = await page.evaluate<string>('getComputedStyle(document.documentElement).backgroundColor');
    expect([bg, root]).toContain('rgb(21, 23, 27)');
    await shot('runs-list-dark');
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('works at phone width and from the keyboard', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(h.api.url);
    await page.getByTestId('runs-table').waitFor();
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    // Keyboard only: reach the form, fill it, submit it.
    await page.goto(`${h.api.url}/runs/new`);
    await page.getByLabel('Goal').focus();
    await page.keyboard.type('Typed with the keyboard [e2e-list]');
    await page.keyboard.press('Tab'); // model
    await page.keyboard.press('Tab'); // approvals
    await page.keyboard.press('Tab'); // max steps
    await page.keyboard.type('3');
    await page.getByRole('button', { name: 'Start run' }).focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/runs\/run_/);
    expect(await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth')).toBeLessThanOrEqual(0);
    // A request waiting below a long timeline is one tap away: the bar stays in view while the page scrolls.
    fake.script('[e2e-phone-wait]', (req) =>
      req.assistantTurns < 4
        ? { text: slowText(`Step ${req.assistantTurns}: a long paragraph that fills the small screen. `, 6), toolUses: [{ name: req.assistantTurns < 3 ? 'workspace_list' : 'workspace_write', input: req.assistantTurns < 3 ? {} : { path: 'p.md', content: 'phone' } }] }
        : { text: 'done' },
    );
    const waiting = await h.createRun({ goal: 'Wait on a phone [e2e-phone-wait]', approvals: 'write' });
    await h.waitForStatus(waiting, 'waiting_approval');
    await page.goto(`${h.api.url}/runs/${waiting}`);
    const bar = page.getByTestId('go-to-request');
    await bar.waitFor();
    await page.getByTestId('spend').waitFor();
    // The timeline arrives over the socket after the page shows: scroll once it is long enough to scroll.
    await waitFor(async () => {
      await page.evaluate('window.scrollTo(0, document.documentElement.scrollHeight)');
      return (await page.evaluate<number>('window.scrollY')) > 200;
    }, { what: 'the timeline to make the page long enough to scroll' });
    await waitFor(async () => {
      const box = await bar.boundingBox();
      return !!box && box.y >= 0 && box.y + box.height <= 844;
    }, { what: 'the bar to stay in view at the bottom of the page' });
    await bar.click();
    const card = page.locator('[data-testid="approval"][data-pending="true"]');
    await waitFor(async () => {
      const box = await card.boundingBox();
      return !!box && box.y < 844 && box.y + box.height > 0;
    }, { what: 'the approval to be in view' });
    await shot('phone-approval');
    await card.getByRole('button', { name: 'Reject' }).click();
    await h.waitForStatus(waiting, ['completed', 'running', 'failed']);
    // Every form control has a label.
    await page.goto(`${h.api.url}/runs/new`);
    const unlabelled = await page.evaluate<number>(
      `[...document.querySelectorAll('input, select, textarea')].filter((el) => !(el.id && document.querySelector('label[for="' + el.id + '"]')) && !el.closest('label')).length`,
    );
    expect(unlabelled).toBe(0);
    await page.setViewportSize({ width: 1200, height: 900 });
  });

  it('starts a run on a team from the team picker, which offers only the teams I may start runs on, and shows the team', async () => {
    await h.store.teamMembers.grant('payments', 'alice', 'member');
    await h.store.teamMembers.grant('billing', 'alice', 'viewer');
    try {
      await page.goto(`${h.api.url}/runs/new`);
      const picker = page.getByLabel('Team');
      await picker.waitFor();
      expect(await picker.locator('option').allTextContents()).toEqual(['payments', 'Personal (no team)']);
      expect(await picker.inputValue()).toBe('payments');
      await page.getByLabel('Goal').fill('A team run [e2e-team]');
      await page.getByLabel('Model').fill('demo');
      await page.getByRole('button', { name: 'Start run' }).click();
      await page.waitForURL(/\/runs\/run_/);
      await page.getByTestId('run-team').getByText('payments').waitFor();
      expect((await h.getRun(page.url().split('/').pop()!)).team).toBe('payments');
    } finally {
      await h.store.teamMembers.revoke('payments', 'alice', 'member');
      await h.store.teamMembers.revoke('billing', 'alice', 'viewer');
    }
  });
});
