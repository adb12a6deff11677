/**
 * A sub-agent's approval in a real browser (Debian's Chromium, driven by playwright-core), against the real API and a
 * real worker serving a lead agent and its `editor` sub-agent, with a scripted model. Nothing is stubbed in the
 * browser.
 *
 * The parent's page, open before the child asks, shows the child's approval as it is asked (the runs feed tells it);
 * the inbox shows it labelled with the sub-agent and its root run; the parent's page lists it with
 * the sub-agent's label and decides it (through the parent's id) after the confirmation; the child resumes and the
 * parent completes; the card leaves the parent's page.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../support/chromium';
import { z } from 'zod';
import { defineAgent } from '../../activities/agents/define';
import type { WorkerDefinition } from '../../activities/agents/agent-definition';
import { defineTool } from '../../activities/tools/tool';
import type { RunView } from '../../contract/api';
import { scriptedModel, type ModelRequestRecord, type ScriptedAnswer } from '../../testing/scripted-model';
import { startWorker, type RunningWorker } from '../../worker/start-worker';
import { startHarness, type Harness } from '../support/harness';
import { waitFor } from '../support/wait';

const TOKEN = 'alice-subagents-browser-token-01';
const SHOTS = process.env.SCREENSHOTS_DIR;

const published: string[] = [];
const publish = defineTool({
  name: 'publish',
  description: 'Publishes the text',
  input: z.object({ text: z.string() }),
  risk: 'write',
  run: async ({ text }) => {
    published.push(text);
    return 'published';
  },
});

const definition: WorkerDefinition = {
  agents: [
    defineAgent({ name: 'editor', description: 'Edits and publishes', instructions: 'You are the editor.', model: 'demo', tools: [publish], approvals: 'write' }),
    defineAgent({ name: 'lead', description: 'Leads', instructions: 'You are the lead.', model: 'demo', approvals: 'none', subagents: ['editor'] }),
  ],
};

/** The editor asks only once the parent's page is open: the page must learn of the request while it is shown. */
let pageOpen: () => void = () => undefined;
const opened = new Promise<void>((resolve) => (pageOpen = resolve));

async function answer(req: ModelRequestRecord): Promise<ScriptedAnswer> {
  const answered = req.messages.length > 1;
  if (req.system === 'You are the lead.') return answered ? { text: 'All done.' } : { toolCalls: [{ name: 'editor', input: { task: 'publish the note' } }] };
  if (answered) return { text: 'Published.' };
  await opened;
  return { toolCalls: [{ name: 'publish', input: { text: 'the note' } }] };
}

describe('web UI: a sub-agent asks on its parent’s page', () => {
  let h: Harness;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  let worker: RunningWorker | undefined;
  const model = scriptedModel(answer);

  beforeAll(async () => {
    h = await startHarness({ noWorker: true, env: { API_TOKENS: `${TOKEN}:alice` } });
    h.defaultToken = TOKEN;
    const foundation = { store: h.store, client: h.client, bus: h.bus, close: async () => {} };
    worker = await startWorker({ config: h.config, foundation, logger: h.logger, definition, modelFor: () => model, sweeperSchedule: false });

    ({ context, page, profile } = await launchChromium());
    await context.addInitScript(`sessionStorage.setItem('longhaul.token', ${JSON.stringify(TOKEN)})`);
  });
  afterAll(async () => {
    await context?.close();
    if (profile) fs.rmSync(profile, { recursive: true, force: true });
    await worker?.stop();
    await h?.close();
  });

  async function shot(name: string): Promise<void> {
    if (!SHOTS) return;
    fs.mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  }

  it("shows the child's approval, labelled, in the inbox and on the parent's page, and deciding it there resumes the child", async () => {
    const created = await h.request<{ id: string }>('POST', '/api/runs', { body: { agent: 'lead', goal: 'Publish the note [e2e-subagents]' } });
    expect(created.status).toBe(202);
    const id = created.body.id;
    h.track(id, 'lead [e2e-subagents]');
    await page.goto(`${h.api.url}/runs/${id}`);
    await page.getByTestId('run-status').waitFor();
    expect(await page.getByTestId('subagent-approval').count()).toBe(0);
    pageOpen();
    // The request appears on the open page, told by the runs feed, with no reload.
    const card = page.getByTestId('subagent-approval');
    await card.waitFor({ timeout: 30_000 });
    let view: RunView | undefined;
    await waitFor(
      async () => {
        view = (await h.request<RunView>('GET', `/api/runs/${id}`)).body;
        return view.subagentApprovals.length === 1;
      },
      { timeoutMs: 30_000, what: "the child's approval on the parent's view" },
    );
    const { approvalId, subagent } = view!.subagentApprovals[0]!;
    h.track(subagent.runId, 'editor [e2e-subagents]');

    await page.goto(`${h.api.url}/inbox`);
    const item = page.locator(`[data-request="${approvalId}"]`);
    await item.waitFor();
    expect(await item.getByTestId('subagent-label').textContent()).toBe(`Sub-agent editor (run ${subagent.runId}) of run ${id}`);
    await shot('subagent-approval-inbox');

    await page.goto(`${h.api.url}/runs/${id}`);
    await card.waitFor();
    expect(await card.textContent()).toContain('Approve publish?');
    expect(await card.getByTestId('subagent-label').textContent()).toBe(`Sub-agent editor (run ${subagent.runId})`);
    await shot('subagent-approval-parent-page');
    await card.getByRole('button', { name: 'Approve' }).click();
    await page.locator('dialog[open]').getByRole('button', { name: 'Approve' }).click();

    await page.getByTestId('run-status').locator('[data-status="completed"]').waitFor({ timeout: 30_000 });
    expect(published).toEqual(['the note']);
    expect(await h.store.approvals.get(approvalId)).toMatchObject({ status: 'approved', decidedBy: 'alice', channel: 'web', runId: subagent.runId });
    expect((await h.store.runs.get(subagent.runId))!.status).toBe('completed');
    await waitFor(async () => (await page.getByTestId('subagent-approval').count()) === 0, { what: "the card to leave the parent's page" });
  });
});
