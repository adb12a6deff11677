/**
 * The web UI's agents in a real browser (Debian's Chromium, driven by playwright-core), against the real API
 * and real workers: a worker definition serving `invoice_checker` (structured input and output, a tool that
 * reads and one that always asks), the real workflow and activities, and a scripted model (longhaul/testing's)
 * answering by the run's input. Nothing is stubbed in the browser.
 *
 * The Agents page lists the agent with its live worker and tools; the new run form is drawn from the agent's
 * input schema and validates it; a posted `{ agent, input }` runs to its structured output, shown on its
 * page; the server's `invalid_input` lands on its field; a run waiting for an approval is upgraded to a
 * newer version of the agent and moves to it, with `run.upgraded` in its timeline.
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
import type { RunEventOf } from '../../contract/events';
import { scriptedModel, type ModelRequestRecord, type ScriptedAnswer } from '../../testing/scripted-model';
import { startWorker, type RunningWorker } from '../../worker/start-worker';
import { startHarness, type Harness } from '../support/harness';
import { waitFor } from '../support/wait';

const TOKEN = 'alice-agents-browser-token-0123';
const SHOTS = process.env.SCREENSHOTS_DIR;
const short = (version: string): string => version.slice(0, 8);

const lookupInvoice = defineTool({
  name: 'lookup_invoice',
  description: 'Reads an invoice',
  input: z.object({ invoiceId: z.string() }),
  risk: 'read',
  run: async ({ invoiceId }) => ({ invoiceId, amountCents: 4200 }),
});
const paid: string[] = [];
const payInvoice = defineTool({
  name: 'pay_invoice',
  description: 'Pays an invoice',
  input: z.object({ invoiceId: z.string() }),
  risk: 'irreversible',
  run: async ({ invoiceId }) => {
    paid.push(invoiceId);
    return { paid: invoiceId };
  },
});

/** The agent as a deploy defines it: `instructions` and the input's largest amount differ between deploys. */
function checkerWorker(instructions: string, maxAmountCents?: number): WorkerDefinition {
  const amount = z.number().int();
  return {
    agents: [
      defineAgent({
        name: 'invoice_checker',
        description: 'Checks an invoice against its order before paying it',
        instructions,
        model: 'demo',
        tools: [lookupInvoice, payInvoice],
        approvals: { policy: 'write', tools: { pay_invoice: 'always' } },
        limits: { defaults: { maxSteps: 10 }, max: { maxSteps: 20 } },
        input: z.object({ invoiceId: z.string().min(1).describe('The invoice to check'), amountCents: maxAmountCents === undefined ? amount : amount.max(maxAmountCents) }),
        output: z.object({ approved: z.boolean(), reason: z.string() }),
      }),
    ],
  };
}

/**
 * The model: a run whose input names INV-9 pays it (and waits for its approval), any other looks its invoice
 * up; once a tool has answered, the final result.
 */
function answer(request: ModelRequestRecord): ScriptedAnswer {
  const opening = JSON.stringify(request.messages[0]);
  const toolAnswered = request.messages.some((m) => Array.isArray(m.content) && m.content.some((b) => b.type === 'tool_result'));
  if (opening.includes('INV-9')) {
    return toolAnswered ? { output: { approved: true, reason: 'paid once approved' } } : { text: 'Paying it.', toolCalls: [{ name: 'pay_invoice', input: { invoiceId: 'INV-9' } }] };
  }
  return toolAnswered ? { output: { approved: true, reason: 'matches the order' } } : { toolCalls: [{ name: 'lookup_invoice', input: { invoiceId: 'INV-1' } }] };
}

describe('web UI: agents', () => {
  let h: Harness;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  const model = scriptedModel(answer);
  const workers: RunningWorker[] = [];

  async function serve(definition: WorkerDefinition): Promise<RunningWorker> {
    const foundation = { store: h.store, client: h.client, bus: h.bus, close: async () => {} };
    const running = await startWorker({ config: h.config, foundation, logger: h.logger, definition, modelFor: () => model, sweeperSchedule: false });
    workers.push(running);
    return running;
  }
  async function stop(running: RunningWorker): Promise<void> {
    workers.splice(workers.indexOf(running), 1);
    await running.stop();
  }
  const versionOf = (running: RunningWorker): string => running.agents.get('invoice_checker')!.version;

  let first: RunningWorker;

  beforeAll(async () => {
    h = await startHarness({ noWorker: true, env: { API_TOKENS: `${TOKEN}:alice` } });
    h.defaultToken = TOKEN;
    first = await serve(checkerWorker('Check the invoice against the order.'));

    ({ context, page, profile } = await launchChromium());
    await context.addInitScript(`sessionStorage.setItem('longhaul.token', ${JSON.stringify(TOKEN)})`);
  });
  afterAll(async () => {
    await context?.close();
    if (profile) fs.rmSync(profile, { recursive: true, force: true });
    for (const running of [...workers]) await stop(running);
    await h.close();
  });

  async function shot(name: string): Promise<void> {
    if (!SHOTS) return;
    fs.mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  }

  async function run(id: string): Promise<RunView> {
    const res = await h.request<RunView>('GET', `/api/runs/${id}`);
    expect(res.status).toBe(200);
    return res.body;
  }

  it('lists the agent with its current version, the live worker serving it, its tools and schemas', async () => {
    await page.goto(h.api.url);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Agents' }).click();
    await page.getByRole('heading', { name: 'Agents', level: 1 }).waitFor();
    const agent = page.locator('[data-agent="invoice_checker"]');
    await agent.getByText('Checks an invoice against its order before paying it').waitFor();
    expect(await agent.getByTestId('current-version').textContent()).toBe(short(versionOf(first)));

    const served = await agent.getByTestId('workers').textContent();
    expect(served).toContain(first.identity);
    expect(served).toContain(short(versionOf(first)));

    await agent.getByTestId('tools').first().locator('summary').click();
    const tools = agent.getByTestId('tools').first();
    expect(await tools.locator('tr[data-tool="pay_invoice"]').textContent()).toMatch(/irreversible.*always asks.*custom/);
    expect(await tools.locator('tr[data-tool="lookup_invoice"]').textContent()).toMatch(/read.*by risk.*custom/);

    // Schemas stay folded until asked for.
    const input = agent.getByTestId('input-schema').first();
    expect(await input.locator('pre').isVisible()).toBe(false);
    await input.locator('summary').click();
    expect(await input.locator('pre').textContent()).toContain('"invoiceId"');
    await agent.getByTestId('output-schema').first().locator('summary').click();
    expect(await agent.getByTestId('output-schema').first().locator('pre').textContent()).toContain('"approved"');
    await shot('agents');
  });

  it('draws the new run form from the input schema, validates it, shows the server’s complaint by its field, and runs { agent, input } to its output', async () => {
    const posted: unknown[] = [];
    const onRequest = (req: { method(): string; url(): string; postDataJSON(): unknown }) => {
      if (req.method() === 'POST' && new URL(req.url()).pathname === '/api/runs') posted.push(req.postDataJSON());
    };
    page.on('request', onRequest);
    try {
      await page.goto(`${h.api.url}/runs/new`);
      const select = page.getByTestId('agent-select');
      await select.waitFor();
      // The default agent first, and with it the form as it always was.
      expect(await select.locator('option').first().getAttribute('value')).toBe('default');
      await page.getByLabel('Goal').waitFor();

      await select.selectOption('invoice_checker');
      await page.locator('#input_invoiceId').waitFor();
      expect(await page.getByLabel('Goal').count()).toBe(0);

      // Left empty, a required field gets the form's own message and nothing is posted.
      await page.locator('#input_amountCents').fill('250000');
      await page.getByRole('button', { name: 'Start run' }).click();
      const fieldError = page.locator('#input_invoiceId__error');
      await fieldError.waitFor();
      expect(await fieldError.textContent()).toBe("must have required property 'invoiceId'");
      expect(await page.locator('#input_amountCents__error').count()).toBe(0);
      expect(posted).toEqual([]);

      // The form passes what the schema it was drawn from allows; the server checks against the agent's
      // current version. With one schema both agree (the same JSON Schema, two validators), so the refusal
      // comes as it does in a deployment: a newer version, stricter about the amount, is deployed between
      // drawing the form and sending it.
      const strict = await serve(checkerWorker('Check the invoice against the order.', 100_000));
      await waitFor(async () => (await h.store.agents.current('invoice_checker'))?.version.version === versionOf(strict), { what: 'the stricter version to be current' });
      await page.locator('#input_invoiceId').fill('INV-1');
      await page.getByRole('button', { name: 'Start run' }).click();
      await page.getByTestId('input-problems').waitFor();
      expect(await page.getByTestId('input-problems').textContent()).toBe('/amountCents must be <= 100000');
      expect(await page.locator('#input_amountCents__error').textContent()).toBe('must be <= 100000');
      expect(posted).toEqual([{ agent: 'invoice_checker', input: { invoiceId: 'INV-1', amountCents: 250000 } }]);
      await shot('agent-run-form');

      // That deploy is withdrawn; the first version is current again, and the run is accepted.
      await stop(strict);
      await waitFor(async () => (await h.store.agents.current('invoice_checker'))?.version.version === versionOf(first), { what: 'the first version to be current again' });
      await page.locator('#input_amountCents').fill('4200');
      await page.getByRole('button', { name: 'Start run' }).click();
      await page.waitForURL(/\/runs\/run_/);
      expect(posted[1]).toEqual({ agent: 'invoice_checker', input: { invoiceId: 'INV-1', amountCents: 4200 } });
    } finally {
      page.off('request', onRequest);
    }

    const runId = new URL(page.url()).pathname.split('/').at(-1)!;
    h.track(runId, 'invoice_checker INV-1 [e2e-agents-form]');
    await page.getByTestId('run-status').locator('[data-status="completed"]').waitFor({ timeout: 30_000 });
    await page.getByTestId('run-output').waitFor();
    expect(JSON.parse((await page.getByTestId('run-output').textContent())!)).toEqual({ approved: true, reason: 'matches the order' });
    expect(await page.getByTestId('run-agent').textContent()).toBe(`invoice_checker ${short(versionOf(first))}`);
    await page.getByTestId('run-input').locator('summary').click();
    expect(JSON.parse((await page.getByTestId('run-input').locator('pre').textContent())!)).toEqual({ invoiceId: 'INV-1', amountCents: 4200 });
    expect((await run(runId)).output).toEqual({ approved: true, reason: 'matches the order' });
    await shot('agent-run-output');

    // Its row in the list names the agent and version.
    await page.goto(h.api.url);
    const row = page.locator(`tr[data-run-id="${runId}"]`);
    await row.getByTestId('run-agent').waitFor();
    expect(await row.getByTestId('run-agent').textContent()).toBe(`invoice_checker @${short(versionOf(first))}`);
  });

  it('upgrades a run waiting for an approval to the version a newer deploy serves, which it runs on after the approval', async () => {
    const created = await h.request<{ id: string }>('POST', '/api/runs', { body: { agent: 'invoice_checker', input: { invoiceId: 'INV-9', amountCents: 9900 } } });
    expect(created.status).toBe(202);
    const runId = created.body.id;
    h.track(runId, 'invoice_checker INV-9 [e2e-agents-upgrade]');
    await h.waitForStatus(runId, 'waiting_approval', { timeoutMs: 30_000 });
    const from = versionOf(first);
    expect((await run(runId)).agentVersion).toBe(from);

    // A deploy: a worker whose agent has other instructions starts, the old one drains.
    const second = await serve(checkerWorker('Check the invoice against the order, then pay it if it matches.'));
    const to = versionOf(second);
    expect(to).not.toBe(from);
    await stop(first);
    await waitFor(async () => (await h.store.agents.current('invoice_checker'))?.version.version === to, { what: 'the newer version to be current' });

    await page.goto(`${h.api.url}/runs/${runId}`);
    expect(await page.getByTestId('run-agent').textContent()).toBe(`invoice_checker ${short(from)}`);
    await page.getByRole('button', { name: `Upgrade to current version (${short(to)})` }).click();
    await page.getByTestId('upgrade-pending').waitFor();
    expect(await page.getByRole('button', { name: /Upgrade to current version/ }).count()).toBe(0);
    expect((await run(runId)).upgradePending).toBe(true);
    await shot('agent-run-upgrade');

    const approval = page.getByTestId('approval');
    await approval.waitFor();
    expect(await approval.textContent()).toContain('pay_invoice');
    await approval.getByRole('button', { name: 'Approve' }).click();
    await page.getByTestId('run-status').locator('[data-status="completed"]').waitFor({ timeout: 30_000 });
    expect(paid).toEqual(['INV-9']);

    const upgraded = (await h.events(runId)).find((e): e is RunEventOf<'run.upgraded'> => e.type === 'run.upgraded');
    expect(upgraded?.data).toMatchObject({ agent: 'invoice_checker', from, to });
    await page.getByText(`Upgraded invoice_checker from version ${short(from)} to ${short(to)} at turn ${upgraded!.data.turn}`).waitFor();
    await waitFor(async () => (await page.getByTestId('run-agent').textContent()) === `invoice_checker ${short(to)}`, { what: 'the run page to show the new version' });
    expect(await page.getByTestId('upgrade-pending').count()).toBe(0);
    const after = await run(runId);
    expect(after).toMatchObject({ agentVersion: to, upgradePending: false, output: { approved: true, reason: 'paid once approved' } });
    await shot('agent-run-upgraded');
  });
  it('creates a schedule of the agent from its input form, lists it with its agent and input, and its firing runs as the agent; and one of the default agent with a goal and a cron', async () => {
    await page.goto(h.api.url);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Schedules' }).click();
    const form = page.getByTestId('new-schedule');
    await form.locator('summary').click();
    await form.getByLabel('Name').fill('Check INV-1 hourly');
    await form.getByTestId('agent-select').selectOption('invoice_checker');
    await form.locator('#input_invoiceId').waitFor();
    expect(await form.getByLabel('Goal').count()).toBe(0);

    // The form's own check first: nothing is created without the invoice.
    await form.locator('#input_amountCents').fill('4200');
    await form.getByRole('button', { name: 'Create schedule' }).click();
    expect(await form.locator('#input_invoiceId__error').textContent()).toBe("must have required property 'invoiceId'");
    expect((await h.request<{ schedules: unknown[] }>('GET', '/api/schedules')).body.schedules).toEqual([]);

    await form.locator('#input_invoiceId').fill('INV-1');
    await form.getByLabel('Seconds between firings').fill('3600');
    await form.getByRole('button', { name: 'Create schedule' }).click();
    const card = page.locator('article.schedule', { has: page.getByRole('heading', { name: 'Check INV-1 hourly' }) });
    await card.waitFor();
    const id = (await card.getAttribute('data-schedule-id'))!;
    expect((await h.request('GET', `/api/schedules/${id}`)).body).toMatchObject({ agent: 'invoice_checker', input: { invoiceId: 'INV-1', amountCents: 4200 }, everySec: 3600 });
    expect(await card.getByTestId('schedule-agent').textContent()).toBe('invoice_checker');
    await card.getByTestId('schedule-input').locator('summary').click();
    expect(JSON.parse((await card.getByTestId('schedule-input').locator('pre').textContent())!)).toEqual({ invoiceId: 'INV-1', amountCents: 4200 });
    await card.getByText('every 3600 s').waitFor();
    await shot('agent-schedule');

    // Fired now, its run is the agent's, with the schedule's input, and ends with its output.
    await card.getByRole('button', { name: 'Run now' }).click();
    const link = card.getByRole('list', { name: 'Latest runs of Check INV-1 hourly' }).getByRole('link').first();
    await link.waitFor({ timeout: 20_000 });
    const runId = (await link.getAttribute('href'))!.split('/').at(-1)!;
    h.track(runId, 'invoice_checker INV-1 [e2e-agents-schedule]');
    await h.waitForStatus(runId, 'completed', { timeoutMs: 30_000 });
    expect(await run(runId)).toMatchObject({ agent: 'invoice_checker', input: { invoiceId: 'INV-1', amountCents: 4200 }, output: { approved: true, reason: 'matches the order' }, scheduleId: id });
    expect((await h.request('DELETE', `/api/schedules/${id}`)).status).toBe(204);

    // The default agent: a goal, as schedules always took, here on a cron in a timezone; no agent named.
    await form.getByLabel('Name').fill('Weekday plan');
    await form.getByTestId('agent-select').selectOption('default');
    await form.getByLabel('Goal').fill('Plan the day');
    await form.getByLabel('On a cron schedule').check();
    await form.getByLabel('Cron (five fields)').fill('0 9 * * 1-5');
    await form.getByLabel('Timezone').fill('Europe/Lisbon');
    await form.getByRole('button', { name: 'Create schedule' }).click();
    const plain = page.locator('article.schedule', { has: page.getByRole('heading', { name: 'Weekday plan' }) });
    await plain.getByText('cron 0 9 * * 1-5 (Europe/Lisbon)').waitFor();
    expect(await plain.getByTestId('schedule-agent').count()).toBe(0);
    const plainId = (await plain.getAttribute('data-schedule-id'))!;
    expect((await h.request('GET', `/api/schedules/${plainId}`)).body).toMatchObject({ agent: null, input: null, goal: 'Plan the day', cron: '0 9 * * 1-5', timezone: 'Europe/Lisbon' });
    expect((await h.request('DELETE', `/api/schedules/${plainId}`)).status).toBe(204);
  });
});
