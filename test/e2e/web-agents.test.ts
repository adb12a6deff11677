/**
 * The web UI's agents in a real browser (Debian's Chromium, driven by playwright-core): the Agents
 * page from versions published straight into the store, the new run form drawn from an agent's
 * input schema (its own validation, then `{ agent, input }` posted, the server's complaints shown),
 * and a run's agent, version, upgrade and structured output.
 *
 * Routes of issue 24 that this branch's API does not have yet are answered in the browser by small
 * stubs (`page.route`), each named where it is set: GET /api/agents (built from the same store, and
 * only while the server answers it 404), POST /api/runs as an agent, POST /api/runs/:id/upgrade, and
 * the agent fields of a run's view.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page, type Route } from 'playwright-core';
import { z } from 'zod';
import type { AgentData } from '../../contract/agents';
import { startHarness, type Harness } from '../support/harness';
import { waitFor } from '../support/wait';

const TOKEN = 'alice-agents-browser-token-0123';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const OLD = '0123456789abcdef';
const NEW = 'fedcba9876543210';
const WORKER = 'test-host-4242-agents';
const SHOTS = process.env.SCREENSHOTS_DIR;

/** An agent as a worker would publish it: zod's own JSON Schemas, a custom tool that always asks. */
function invoiceChecker(description: string): AgentData {
  return {
    name: 'invoice_checker',
    description,
    instructions: 'Check the invoice against the order.',
    model: { default: 'demo', allowed: ['demo'] },
    tools: [
      { name: 'lookup_invoice', description: 'Reads an invoice', inputSchema: { type: 'object' }, risk: 'read', source: 'custom' },
      { name: 'pay_invoice', description: 'Pays an invoice', inputSchema: { type: 'object' }, risk: 'irreversible', approval: 'always', source: 'custom' },
    ],
    approvals: 'write',
    limits: { defaults: { maxSteps: 10 }, max: { maxSteps: 20 } },
    inputSchema: z.toJSONSchema(z.object({ invoiceId: z.string().min(1).describe('The invoice to check'), amountCents: z.number().int() })) as Record<string, unknown>,
    outputSchema: z.toJSONSchema(z.object({ approved: z.boolean(), reason: z.string() })) as Record<string, unknown>,
    outputRetries: 2,
    relay: { segmentMaxTurns: null, summaryInstruction: null },
    promptCaching: true,
  };
}

describe('web UI: agents', () => {
  let h: Harness;
  let context: BrowserContext;
  let page: Page;
  let profile: string;

  beforeAll(async () => {
    h = await startHarness({ env: { API_TOKENS: `${TOKEN}:alice` } });
    h.defaultToken = TOKEN;
    await h.store.agents.publishVersion('invoice_checker', OLD, invoiceChecker('Checks invoices (old wording)'));
    await h.store.agents.publishVersion('invoice_checker', NEW, invoiceChecker('Checks an invoice against its order before paying it'));
    await h.store.agents.serve(WORKER, [{ agent: 'invoice_checker', version: NEW }]);

    profile = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
      viewport: { width: 1200, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (err) => process.stderr.write(`page error: ${err.message}\n`));
    await context.addInitScript(`sessionStorage.setItem('longhaul.token', ${JSON.stringify(TOKEN)})`);
    // Stub (until the API's route is merged): GET /api/agents from the store, as the API will answer it.
    await context.route('**/api/agents', async (route) => {
      const real = await route.fetch();
      if (real.status() !== 404) return route.fulfill({ response: real });
      return route.fulfill({ json: await agentsFromStore() });
    });
  });
  afterAll(async () => {
    await context?.close();
    fs.rmSync(profile, { recursive: true, force: true });
    await h.close();
  });

  async function shot(name: string): Promise<void> {
    if (!SHOTS) return;
    fs.mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  }

  /** `GET /api/agents` as the design has it, read from the store the workers publish to. */
  async function agentsFromStore() {
    const versions = await h.store.agents.versions();
    const names = [...new Set(versions.map((v) => v.name))];
    return {
      agents: await Promise.all(
        names.map(async (name) => {
          const current = await h.store.agents.current(name);
          const own = versions.filter((v) => v.name === name);
          return {
            name,
            description: current!.version.data.description,
            currentVersion: current!.version.version,
            versions: own.map((v) => ({
              version: v.version,
              publishedAt: v.publishedAt,
              inputSchema: v.data.inputSchema,
              outputSchema: v.data.outputSchema,
              model: v.data.model,
              approvals: v.data.approvals,
              limits: v.data.limits,
              tools: v.data.tools.map((t) => ({ name: t.name, description: t.description, risk: t.risk, approval: t.approval ?? 'by_risk', source: t.source })),
            })),
            workers: (await h.store.agents.workers(name)).map((w) => ({ identity: w.identity, version: w.version, seenAt: w.seenAt })),
          };
        }),
      ),
    };
  }

  it('lists each agent with its versions, tools, schemas and the workers serving it', async () => {
    await page.goto(h.api.url);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Agents' }).click();
    await page.getByRole('heading', { name: 'Agents', level: 1 }).waitFor();
    const agent = page.locator('[data-agent="invoice_checker"]');
    await agent.getByText('Checks an invoice against its order before paying it').waitFor();
    expect(await agent.getByTestId('current-version').textContent()).toBe(NEW.slice(0, 8));

    const workers = agent.getByTestId('workers');
    expect(await workers.textContent()).toContain(WORKER);
    expect(await workers.textContent()).toContain(NEW.slice(0, 8));

    await agent.getByTestId('tools').first().locator('summary').click();
    const pay = agent.getByTestId('tools').first().locator('tr[data-tool="pay_invoice"]');
    expect(await pay.textContent()).toMatch(/irreversible.*always asks.*custom/);
    expect(await agent.getByTestId('tools').first().locator('tr[data-tool="lookup_invoice"]').textContent()).toMatch(/read.*by risk/);

    // Schemas stay folded until asked for.
    const input = agent.getByTestId('input-schema').first();
    expect(await input.locator('pre').isVisible()).toBe(false);
    await input.locator('summary').click();
    expect(await input.locator('pre').textContent()).toContain('"invoiceId"');
    await agent.getByTestId('output-schema').first().locator('summary').click();
    expect(await agent.getByTestId('output-schema').first().locator('pre').textContent()).toContain('"approved"');

    await agent.getByTestId('older-versions').locator('summary').first().click();
    expect(await agent.getByTestId('older-versions').textContent()).toContain(OLD.slice(0, 8));
    await shot('agents');
  });

  it('draws the new run form from the agent’s input schema, validates it, shows the server’s complaints and posts { agent, input }', async () => {
    const realRun = await h.createRun({ goal: 'Stands in for the agent run [e2e-agents-form]', model: 'demo', approvals: 'none' });
    const posted: unknown[] = [];
    let answer: 'invalid' | 'created' = 'invalid';
    // Stub (until the API's route is merged): POST /api/runs as an agent. Other creations reach the server.
    await page.route('**/api/runs', async (route: Route) => {
      const body = route.request().method() === 'POST' ? (route.request().postDataJSON() as Record<string, unknown>) : null;
      if (!body || !('agent' in body)) return route.fallback();
      posted.push(body);
      if (answer === 'invalid') {
        return route.fulfill({
          status: 400,
          json: { error: { code: 'invalid_input', message: 'The input does not match the agent’s input schema', details: [{ path: '/amountCents', message: 'must be <= 100000' }] } },
        });
      }
      return route.fulfill({ status: 202, json: { id: realRun, status: 'queued', links: {} } });
    });

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

    // Filled, it posts { agent, input }; the server's complaints appear beside the form.
    await page.locator('#input_invoiceId').fill('INV-1');
    await page.getByRole('button', { name: 'Start run' }).click();
    await page.getByTestId('input-problems').waitFor();
    expect(await page.getByTestId('input-problems').textContent()).toBe('/amountCents must be <= 100000');
    expect(await page.locator('#input_amountCents__error').textContent()).toBe('must be <= 100000');
    expect(posted).toEqual([{ agent: 'invoice_checker', input: { invoiceId: 'INV-1', amountCents: 250000 } }]);
    await shot('agent-run-form');

    answer = 'created';
    await page.locator('#input_amountCents').fill('4200');
    await page.getByRole('button', { name: 'Start run' }).click();
    await page.waitForURL(`**/runs/${realRun}`);
    expect(posted[1]).toEqual({ agent: 'invoice_checker', input: { invoiceId: 'INV-1', amountCents: 4200 } });

    // Back to the default agent: the goal box, and a run that names no agent reaches the real server.
    await page.goto(`${h.api.url}/runs/new`);
    await page.getByTestId('agent-select').selectOption('default');
    await page.getByLabel('Goal').fill('A plain run [e2e-agents-default]');
    await page.getByLabel('Model').fill('demo');
    await page.getByRole('button', { name: 'Start run' }).click();
    await page.waitForURL(/\/runs\/run_/);
    expect(posted).toHaveLength(2);
    await page.unroute('**/api/runs');
  });

  it('shows a run’s agent and version in the list and on its page, upgrades it, and shows its output', async () => {
    const runId = await h.createRun({ goal: 'Check INV-7 [e2e-agents-run]', model: 'demo', approvals: 'none' });
    await h.waitForStatus(runId, 'completed', { timeoutMs: 30_000 });
    let view: Record<string, unknown> = { agent: 'invoice_checker', agentVersion: OLD, input: { invoiceId: 'INV-7', amountCents: 4200 }, output: null, upgradePending: false, status: 'running', endedAt: null };
    const upgrades: string[] = [];
    // Stubs (until the API's fields and route are merged): the run's agent fields over the server's own view and list, and the upgrade.
    await page.route('**/api/ws-ticket', (route) => route.fulfill({ status: 503, json: { error: { code: 'unavailable', message: 'no socket in this test' } } }));
    await page.route(`**/api/runs/${runId}`, async (route) => {
      const real = await route.fetch();
      return route.fulfill({ response: real, json: { ...((await real.json()) as object), ...view } });
    });
    await page.route(/\/api\/runs\?/, async (route) => {
      const real = await route.fetch();
      const list = (await real.json()) as { runs: { id: string }[] };
      return route.fulfill({ response: real, json: { ...list, runs: list.runs.map((r) => (r.id === runId ? { ...r, agent: 'invoice_checker', agentVersion: OLD } : r)) } });
    });
    await page.route(`**/api/runs/${runId}/upgrade`, async (route) => {
      upgrades.push(route.request().method());
      view = { ...view, upgradePending: true };
      return route.fulfill({ status: 202, json: { id: runId, agent: 'invoice_checker', from: OLD, status: 'upgrading' } });
    });

    await page.goto(h.api.url);
    const row = page.locator(`tr[data-run-id="${runId}"]`);
    await row.getByTestId('run-agent').waitFor();
    expect(await row.getByTestId('run-agent').textContent()).toBe(`invoice_checker @${OLD.slice(0, 8)}`);

    await page.goto(`${h.api.url}/runs/${runId}`);
    expect(await page.getByTestId('run-agent').textContent()).toBe(`invoice_checker ${OLD.slice(0, 8)}`);
    await page.getByTestId('run-input').locator('summary').click();
    expect(JSON.parse((await page.getByTestId('run-input').locator('pre').textContent())!)).toEqual({ invoiceId: 'INV-7', amountCents: 4200 });
    await page.getByRole('button', { name: `Upgrade to current version (${NEW.slice(0, 8)})` }).click();
    await page.getByTestId('upgrade-pending').waitFor();
    await shot('agent-run-upgrade');
    expect(upgrades).toEqual(['POST']);
    expect(await page.getByRole('button', { name: /Upgrade to current version/ }).count()).toBe(0);

    // Completed at the current version: no upgrade offered, the output shown as JSON.
    view = { ...view, agentVersion: NEW, upgradePending: false, status: 'completed', endedAt: new Date().toISOString(), output: { approved: true, reason: 'matches the order' } };
    await page.reload();
    await page.getByTestId('run-output').waitFor();
    expect(JSON.parse((await page.getByTestId('run-output').textContent())!)).toEqual({ approved: true, reason: 'matches the order' });
    await shot('agent-run-output');
    expect(await page.getByRole('button', { name: /Upgrade to current version/ }).count()).toBe(0);
    await waitFor(async () => (await page.getByTestId('upgrade-pending').count()) === 0, { what: 'no pending upgrade on a completed run' });
    await page.unrouteAll();
  });
});
