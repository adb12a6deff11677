/**
 * Agents through the API, the client and the CLI, with agent versions put straight into the store as a
 * worker would publish them (no agent code loaded anywhere here): GET /api/agents; runs that name an
 * agent refused for an unknown agent or bad input, accepted with good input — pinned to the version,
 * their workflow on the agent's own task queue — and, with no worker serving the agent, shown waiting
 * for one; the upgrade request; schedules that carry the agent; `longhaul agents`, `run --agent --input`
 * and `upgrade` as a process.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createLonghaulClient, LonghaulError, RunFailedError } from '../../client';
import { agentTaskQueue } from '../../contract/agents';
import { agentData, INVOICE_CHECKER } from '../support/agent-data';
import { startHarness, type Harness } from '../support/harness';

const ROOT = path.join(__dirname, '..', '..');
const ALICE = 'alice-token-0123456789';
const BOB = 'bob-token-0123456789ab';
const V1 = '1111111111111111';
const V2 = '2222222222222222';
const GOOD = { invoiceId: 'INV-1', amountCents: 4200 };

describe('agents through the API', () => {
  let h: Harness;
  const started: string[] = [];

  beforeAll(async () => {
    h = await startHarness({ env: { API_TOKENS: `${ALICE}:alice,${BOB}:bob` } });
    h.defaultToken = ALICE;
    await h.store.agents.publishVersion('invoice_checker', V1, INVOICE_CHECKER);
    await h.store.agents.publishVersion('summarizer', V1, agentData({ name: 'summarizer', approvals: 'none' }));
    await h.store.agents.serve('worker-elsewhere', [{ agent: 'summarizer', version: V1 }]);
  });
  afterAll(async () => {
    // Runs of agents nothing serves never end by themselves.
    await Promise.all(started.map((id) => h.client.workflow.getHandle(id).terminate('test over').catch(() => undefined)));
    await h.close();
  });

  const createAgentRun = async (body: Record<string, unknown>, headers: Record<string, string> = {}) => {
    const res = await h.request('POST', '/api/runs', { body, headers });
    if (res.status === 202) started.push(res.body.id as string);
    return res;
  };

  it('lists the agents, their versions with tools and schemas, and the live workers serving each', async () => {
    const res = await h.request('GET', '/api/agents');
    expect(res.status).toBe(200);
    const byName = Object.fromEntries((res.body.agents as { name: string }[]).map((a) => [a.name, a]));
    expect(Object.keys(byName)).toEqual(['default', 'invoice_checker', 'summarizer']);
    expect(byName.default).toMatchObject({ currentVersion: null, versions: [], workers: [] }); // no worker here publishes yet
    expect(byName.invoice_checker).toMatchObject({
      description: 'Checks an invoice against its order',
      currentVersion: V1,
      workers: [],
      versions: [
        {
          version: V1,
          inputSchema: INVOICE_CHECKER.inputSchema,
          outputSchema: INVOICE_CHECKER.outputSchema,
          model: { default: 'demo', allowed: ['demo'] },
          approvals: 'write',
          limits: INVOICE_CHECKER.limits,
          tools: [
            { name: 'pay_invoice', description: 'Pays an invoice', risk: 'irreversible', approval: 'always', source: 'custom' },
            { name: 'lookup_invoice', description: 'Reads an invoice', risk: 'by_input', approval: 'by_risk', source: 'custom' },
          ],
        },
      ],
    });
    expect(byName.summarizer).toMatchObject({ currentVersion: V1, workers: [{ identity: 'worker-elsewhere', version: V1 }] });
    expect((await h.request('GET', '/api/agents', { token: '' })).status).toBe(401);
  });

  it('refuses an unknown agent and input that fails the schema, with each problem by path', async () => {
    const unknown = await createAgentRun({ agent: 'nobody', input: GOOD });
    expect([unknown.status, unknown.body.error.code]).toEqual([400, 'unknown_agent']);
    const badName = await createAgentRun({ agent: 'Not A Name', goal: 'g' });
    expect([badName.status, badName.body.error.code]).toEqual([400, 'invalid_request']);
    const bad = await createAgentRun({ agent: 'invoice_checker', input: { invoiceId: 'INV-1', amountCents: 'lots' } });
    expect([bad.status, bad.body.error.code]).toEqual([400, 'invalid_input']);
    expect(bad.body.error.details).toEqual([{ path: '/amountCents', message: 'must be integer' }]);
    const none = await createAgentRun({ agent: 'invoice_checker', goal: 'check it' });
    expect([none.status, none.body.error.code]).toEqual([400, 'invalid_input']);
    expect((await h.store.runs.list({ owner: 'alice', limit: 10 })).length).toBe(0); // nothing recorded
  });

  it('accepts good input: the run is pinned to the version, on the agent’s queue, and says no worker serves it', async () => {
    const res = await createAgentRun({ agent: 'invoice_checker', input: GOOD }, { 'Idempotency-Key': 'agent-1' });
    expect(res.status).toBe(202);
    const id = res.body.id as string;
    const row = (await h.store.runs.get(id))!;
    expect(row).toMatchObject({ agent: 'invoice_checker', agentVersion: V1, input: GOOD, goal: JSON.stringify(GOOD), model: 'demo', approvals: 'write' });
    expect(row.limits).toMatchObject({ maxSteps: 8 });
    const queued = (await h.events(id)).find((e) => e.type === 'run.queued');
    expect(queued?.data).toMatchObject({ agent: 'invoice_checker', agentVersion: V1 });
    const described = await h.client.workflow.getHandle(id).describe();
    expect(described.taskQueue).toBe(agentTaskQueue(h.taskQueue, 'invoice_checker'));
    expect(described.taskQueue).toBe(`${h.taskQueue}.agent.invoice_checker`);

    // The same key with another input is another request.
    const reused = await createAgentRun({ agent: 'invoice_checker', input: { ...GOOD, amountCents: 1 } }, { 'Idempotency-Key': 'agent-1' });
    expect([reused.status, reused.body.error.code]).toEqual([409, 'idempotency_key_reused']);

    // Nothing polls the agent's queue (the harness's worker serves the deployment's): the run waits, and says why.
    const view = await h.getRun(id);
    expect(view).toMatchObject({ status: 'queued', worker: 'unavailable', agent: 'invoice_checker', agentVersion: V1, input: GOOD, output: null, upgradePending: false });
    expect(view.statusDetail).toContain('no live worker serves agent invoice_checker');
    const listed = (await h.request('GET', '/api/runs')).body.runs.find((r: { id: string }) => r.id === id);
    expect(listed).toMatchObject({ worker: 'unavailable', agent: 'invoice_checker', agentVersion: V1, input: GOOD, output: null });
    expect(listed.statusDetail).toContain('no live worker serves agent invoice_checker');
  });

  it('runs a request that names no agent as before, beside agent runs', async () => {
    const id = await h.createRun({ goal: 'plan [agents-plain]', model: 'demo', approvals: 'none' });
    const done = await h.waitForStatus(id, 'completed');
    expect(done).toMatchObject({ agent: null, agentVersion: null, input: null, output: null, upgradePending: false });
    expect((await h.client.workflow.getHandle(id).describe()).taskQueue).toBe(h.taskQueue);
    const queued = (await h.events(id)).find((e) => e.type === 'run.queued');
    expect(queued?.data).not.toHaveProperty('agent');
  });

  it('takes an upgrade request for a live agent run, and refuses one for a run with no agent or one that ended', async () => {
    const id = (await createAgentRun({ agent: 'invoice_checker', input: GOOD })).body.id as string;
    await h.store.agents.publishVersion('invoice_checker', V2, { ...INVOICE_CHECKER, description: 'Checks invoices, v2' });
    const res = await h.request('POST', `/api/runs/${id}/upgrade`);
    expect([res.status, res.body]).toEqual([202, { id, agent: 'invoice_checker', from: V1, status: 'upgrading' }]);
    expect((await h.store.runs.get(id))!.upgradeRequestedAt).not.toBeNull();
    expect((await h.getRun(id)).upgradePending).toBe(true);
    expect((await h.request('POST', `/api/runs/${id}/upgrade`, { token: BOB })).status).toBe(404);
    expect((await h.request('POST', '/api/runs/run_nope/upgrade')).body.error.code).toBe('run_not_found');
    // A new run gets the latest published version now (no live worker says otherwise).
    const newer = (await createAgentRun({ agent: 'invoice_checker', input: GOOD })).body.id as string;
    expect((await h.store.runs.get(newer))!.agentVersion).toBe(V2);

    const plain = await h.createRun({ goal: 'plan [agents-upgrade-plain]', model: 'demo', approvals: 'none' });
    const noAgent = await h.request('POST', `/api/runs/${plain}/upgrade`);
    expect([noAgent.status, noAgent.body.error.code]).toEqual([409, 'run_has_no_agent']);

    await h.client.workflow.getHandle(newer).terminate('ended for the test');
    await h.store.runs.updateState(newer, { status: 'cancelled', statusDetail: null, ended: true });
    const ended = await h.request('POST', `/api/runs/${newer}/upgrade`);
    expect([ended.status, ended.body.error.code]).toEqual([409, 'run_not_active']);
  });

  it('keeps the agent and input on a schedule, and fires it on the agent’s queue', async () => {
    const res = await h.request('POST', '/api/schedules', { body: { name: 'nightly check', agent: 'invoice_checker', input: GOOD, everySec: 86_400 } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ agent: 'invoice_checker', input: GOOD, goal: JSON.stringify(GOOD) });
    const schedule = (await h.store.schedules.get(res.body.id))!;
    expect(schedule.request).toMatchObject({ agent: 'invoice_checker', input: GOOD, approvals: 'write', limits: { maxSteps: 8 } });
    const described = await h.client.schedule.getHandle(res.body.id).describe();
    expect(described.action).toMatchObject({ taskQueue: agentTaskQueue(h.taskQueue, 'invoice_checker') });
    const bad = await h.request('POST', '/api/schedules', { body: { name: 'bad', agent: 'invoice_checker', input: {}, everySec: 86_400 } });
    expect([bad.status, bad.body.error.code]).toEqual([400, 'invalid_input']);
    await h.request('DELETE', `/api/schedules/${res.body.id}`);
  });

  it('pins a run that names the default agent to its version, on the deployment’s queue', async () => {
    await h.store.agents.publishVersion('default', V1, agentData({ name: 'default', approvals: 'none' }));
    const id = await h.createRun({ agent: 'default', goal: 'plan [agents-default]' });
    expect(await h.store.runs.get(id)).toMatchObject({ agent: 'default', agentVersion: V1, input: null });
    expect((await h.client.workflow.getHandle(id).describe()).taskQueue).toBe(h.taskQueue);
    expect((await h.waitForStatus(id, 'completed')).worker).toBeNull();
  });

  it('continues an ended agent run on its agent’s queue', async () => {
    const id = 'run_agent_continued';
    await h.store.runs.insert({ id, owner: 'alice', goal: 'g', model: 'demo', approvals: 'write', limits: { maxSteps: 5, maxCostUsd: 1, maxDurationSec: 600 }, metadata: null, idempotencyKey: null, agent: 'invoice_checker', agentVersion: V1, input: GOOD });
    await h.store.runs.updateState(id, { status: 'completed', statusDetail: null, result: 'done', ended: true });
    // Its caps may be raised only within its agent's maxima (invoice_checker: 20 steps).
    const over = await h.request('POST', `/api/runs/${id}/messages`, { body: { text: 'more', limits: { maxSteps: 21 } } });
    expect([over.status, over.body.error.message]).toEqual([400, 'limits.maxSteps is 21; agent invoice_checker allows at most 20']);
    const res = await h.request('POST', `/api/runs/${id}/messages`, { body: { text: 'once more' } });
    expect([res.status, res.body.continued]).toEqual([202, true]);
    started.push(id);
    expect((await h.client.workflow.getHandle(id).describe()).taskQueue).toBe(agentTaskQueue(h.taskQueue, 'invoice_checker'));
  });

  it('the client: lists agents, starts an agent run, upgrades it, and waits for results', async () => {
    const client = createLonghaulClient({ baseUrl: h.api.url, token: ALICE });
    expect((await client.agents.list()).agents.map((a) => a.name)).toContain('invoice_checker');
    const created = await client.runs.start({ agent: 'invoice_checker', input: GOOD });
    started.push(created.id);
    expect((await client.runs.get(created.id)).agent).toBe('invoice_checker');
    expect(await client.runs.upgrade(created.id)).toMatchObject({ id: created.id, status: 'upgrading' });
    await expect(client.runs.start({ agent: 'invoice_checker', input: { invoiceId: 7 } })).rejects.toMatchObject({ code: 'invalid_input', status: 400 });
    // A run nothing serves does not end: the wait gives up when told to.
    await expect(client.runs.result(created.id, { timeoutMs: 600 })).rejects.toMatchObject({ code: 'timeout' });

    const done = await client.runs.start({ goal: 'plan [agents-client-result]', model: 'demo', approvals: 'none' });
    const result = await client.runs.result(done.id);
    expect(result).toMatchObject({ status: 'completed', output: null });
    expect(typeof result.result).toBe('string');

    const capped = await client.runs.start({ goal: 'loop [agents-client-capped]', model: 'demo', approvals: 'none', limits: { maxSteps: 1 } });
    const failure = await client.runs.result(capped.id).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(RunFailedError);
    expect(failure).toMatchObject({ runId: capped.id, status: 'failed', code: 'limit_exceeded' });
    expect(failure).not.toBeInstanceOf(LonghaulError);
  });

  /** Runs `longhaul …` as its own process, in `cwd`. */
  function longhaul(args: string[], cwd = ROOT): Promise<{ code: number | null; stdout: string; stderr: string }> {
    // tsx named by its file: `cwd` may be anywhere (an --input @file is read relative to it).
    const child = spawn(process.execPath, ['--import', pathToFileURL(path.join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href, path.join(ROOT, 'client', 'cli', 'main.ts'), ...args], {
      cwd,
      env: { ...process.env, LONGHAUL_URL: h.api.url, LONGHAUL_TOKEN: ALICE },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
  }

  it('the CLI: agents, run --agent --input (inline and @file), bad JSON, an unknown agent, upgrade', async () => {
    const listed = await longhaul(['agents']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^invoice_checker\s+2222222222222222\s+2 versions, no live worker/m);
    expect(listed.stdout).toMatch(/^summarizer\s+1111111111111111\s+1 version, 1 worker/m);
    expect(JSON.parse((await longhaul(['agents', '--json'])).stdout).agents.length).toBe(3);

    const inline = await longhaul(['run', '--agent', 'invoice_checker', '--input', JSON.stringify(GOOD), '--json']);
    expect(inline.code).toBe(0);
    const { id } = JSON.parse(inline.stdout) as { id: string };
    started.push(id);
    expect((await h.store.runs.get(id))!.input).toEqual(GOOD);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-cli-input-'));
    fs.writeFileSync(path.join(dir, 'invoice.json'), JSON.stringify({ invoiceId: 'INV-9', amountCents: 1 }));
    const fromFile = await longhaul(['run', '--agent', 'invoice_checker', '--input', '@invoice.json', 'INV-9 for ACME'], dir);
    expect(fromFile.code).toBe(0);
    const fileRun = fromFile.stdout.trim();
    started.push(fileRun);
    expect(await h.store.runs.get(fileRun)).toMatchObject({ input: { invoiceId: 'INV-9', amountCents: 1 }, goal: 'INV-9 for ACME' });

    const badJson = await longhaul(['run', '--agent', 'invoice_checker', '--input', '{invoiceId:']);
    expect(badJson.code).toBe(2);
    expect(badJson.stderr).toContain('--input is not valid JSON');
    const noFile = await longhaul(['run', '--agent', 'invoice_checker', '--input', '@missing.json'], dir);
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toContain(`cannot read ${path.join(dir, 'missing.json')}: ENOENT`);
    fs.rmSync(dir, { recursive: true, force: true });

    const unknown = await longhaul(['run', '--agent', 'nobody', '--input', '{}']);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain('(unknown_agent)');
    const invalid = await longhaul(['run', '--agent', 'invoice_checker', '--input', '{}']);
    expect(invalid.code).toBe(3);
    expect(invalid.stderr).toContain('(invalid_input)');

    const upgraded = await longhaul(['upgrade', id]);
    expect(upgraded.code).toBe(0);
    expect(upgraded.stdout).toContain(`${id} moves from invoice_checker 2222222222222222 to its current version`);
  });
});
