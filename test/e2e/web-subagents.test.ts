/**
 * Sub-agents in the web UI, in a real browser (Debian's Chromium, driven by playwright-core), against the real
 * API, workflow and workers of test/support/subagent-tree.ts: a lead that delegates to two children at once,
 * each of which streams a line and then waits for the test before streaming its second.
 *
 * What it holds to: each delegation is a folded panel in the parent's timeline with its agent and status;
 * opening one follows that child live — its first line shows as streaming text while the child waits, then its
 * whole message once it goes on — while the other, folded, follows nothing; the panel says when the child has
 * completed. The runs list shows the tree as its root with its count of sub-agent runs, and opens to them.
 */
import fs from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../support/chromium';
import { createLonghaulClient } from '../../client';
import { childText, startSubagentTree, type SubagentTree } from '../support/subagent-tree';
import { waitFor } from '../support/wait';

const TOKEN = 'alice-subagents-browser-token-01';

describe('web UI: sub-agents', () => {
  let tree: SubagentTree;
  let client: ReturnType<typeof createLonghaulClient>;
  let context: BrowserContext;
  let page: Page;
  let profile: string;

  beforeAll(async () => {
    tree = await startSubagentTree({ token: TOKEN });
    client = createLonghaulClient({ baseUrl: tree.h.api.url, token: TOKEN });
    ({ context, page, profile } = await launchChromium());
    await context.addInitScript(`sessionStorage.setItem('longhaul.token', ${JSON.stringify(TOKEN)})`);
  });
  afterAll(async () => {
    await context?.close();
    if (profile) fs.rmSync(profile, { recursive: true, force: true });
    await tree?.stop();
  });

  it('nests each child in the parent’s timeline, and an opened child streams its text live', async () => {
    const marker = tree.marker();
    const id = (await client.runs.start({ agent: 'lead', goal: `Report on tides ${marker}` })).id;
    await page.goto(`${tree.h.api.url}/runs/${id}`);

    const panels = page.getByTestId('subagent');
    await waitFor(async () => (await panels.count()) === 2, { what: 'both delegations in the timeline' });
    const researcher = page.locator('[data-testid="subagent"]', { has: page.getByTestId('subagent-agent').getByText('researcher', { exact: true }) });
    const writer = page.locator('[data-testid="subagent"]', { has: page.getByTestId('subagent-agent').getByText('writer', { exact: true }) });
    // Folded, each says how its child is doing (queued, then running), from the runs feed.
    await waitFor(async () => (await researcher.getAttribute('data-status')) === 'running' && (await writer.getAttribute('data-status')) === 'running', { what: 'both panels to say running' });
    expect(await researcher.getByTestId('subagent-cost').textContent()).toMatch(/^\$/);
    const { children } = await client.runs.children(id);
    const researcherId = children.find((c) => c.agent === 'researcher')!.id;
    expect(await researcher.getAttribute('data-child-run')).toBe(researcherId);

    // Opened while the child waits between its lines: its first line is there, as text still being written.
    await researcher.getByTestId('subagent-summary').click();
    const streaming = researcher.getByTestId('streaming-text');
    await streaming.waitFor();
    const { first, whole } = childText('researcher', marker);
    await waitFor(async () => (await streaming.textContent()) === first, { what: 'the researcher’s first line, streaming' });
    expect(await researcher.getByTestId('message-text').count()).toBe(0);
    // The folded child follows nothing.
    expect(await writer.getByTestId('subagent-timeline').count()).toBe(0);

    // It goes on: its whole message, final, and the panel says it completed.
    tree.release('researcher', marker);
    const message = researcher.getByTestId('message-text');
    await message.waitFor();
    expect(await message.textContent()).toBe(whole);
    expect(await researcher.getByTestId('streaming-text').count()).toBe(0);
    await waitFor(async () => (await researcher.getAttribute('data-status')) === 'completed', { what: 'the researcher’s panel to say it completed' });

    tree.release('writer', marker);
    await waitFor(async () => (await writer.getAttribute('data-status')) === 'completed', { what: 'the writer’s panel to say it completed' });
    await page.locator('[data-testid="run-status"] [data-status="completed"]').waitFor();
    // Opened after the child ended: its timeline from the start, its message once.
    await writer.getByTestId('subagent-summary').click();
    await writer.getByTestId('message-text').waitFor();
    expect(await writer.getByTestId('message-text').allTextContents()).toEqual([childText('writer', marker).whole]);
  });

  it('lists the run tree as its root with its count of sub-agent runs, opening to them', async () => {
    const marker = tree.marker();
    const id = (await client.runs.start({ agent: 'lead', goal: `Report on tides ${marker}` })).id;
    for (const agent of ['researcher', 'writer'] as const) tree.release(agent, marker);
    await waitFor(async () => (await client.runs.get(id)).status === 'completed', { what: 'the lead to complete' });
    const childIds = (await client.runs.children(id)).children.map((c) => c.id);
    expect(childIds).toHaveLength(2);

    await page.goto(tree.h.api.url);
    await page.getByTestId('runs-table').waitFor();
    const root = page.locator(`tr[data-run-id="${id}"]`);
    await root.waitFor();
    const toggle = root.getByTestId('toggle-children');
    expect(await toggle.textContent()).toContain('2 sub-agent runs');
    // Folded: no child's row.
    for (const child of childIds) expect(await page.locator(`tr[data-run-id="${child}"]`).count()).toBe(0);

    await toggle.click();
    for (const child of childIds) await page.locator(`tr[data-run-id="${child}"][data-depth="1"]`).waitFor();
    expect(await toggle.getAttribute('aria-expanded')).toBe('true');
    await toggle.click();
    for (const child of childIds) await page.locator(`tr[data-run-id="${child}"]`).waitFor({ state: 'detached' });
  });
});
