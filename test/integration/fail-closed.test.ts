/**
 * Approvals fail closed across workers that differ: separate worker processes on Postgres, each with its
 * own tool set or floor. Worker B makes the model call and classifies the tool call, is drained (SIGTERM),
 * and worker A runs the call. Whatever B knew, a call that needs approval by A's own definition of the tool,
 * or under A's MIN_APPROVALS, never runs unapproved: the run asks a human, and after approval it runs once.
 *
 * - B lacks the MCP server whose destructive tool A has (the incident: B classified the call `read`).
 * - B and A disagree about a tool's risk (A's operator set `risk`, B still trusts the annotation): A refuses
 *   the call B let through (`tool.refused`), and the run asks.
 * - A follow-up to a run made with `approvals: none`, after a restart with `MIN_APPROVALS=write`.
 * - A firing of a schedule made with `approvals: none` before the floor was raised: its run has the floor's policy.
 * - Quick steps (quick tools run in the workflow's worker) under `MIN_APPROVALS=all`: refused inside them, the
 *   calls go one by one and each is put to a human.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunEventOf } from '../../contract/events';
import { FakeAnthropic } from '../support/fake-anthropic';
import { startHarness, type Harness } from '../support/harness';
import { readCalls } from '../support/mcp-test-server';
import { startWorkerProcess, type ChildHandle } from '../support/processes';
import { waitFor } from '../support/wait';

const SERVER_SCRIPT = path.join(__dirname, '..', 'support', 'mcp-test-server.ts');

describe('approvals fail closed across workers with different tools', () => {
  const fake = new FakeAnthropic();
  const mcpState = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-failclosed-mcp-'));
  const dirs: string[] = [];
  const workers: ChildHandle[] = [];
  let h: Harness;

  const filesServer = (extra: Record<string, unknown> = {}) =>
    JSON.stringify({ files: { command: process.execPath, args: ['--import', 'tsx', SERVER_SCRIPT, '--stdio', mcpState], ...extra } });

  /** A worker on a machine of its own (its own DATA_DIR), sharing Postgres and Temporal. */
  async function worker(env: Record<string, string>, harness: Harness = h): Promise<ChildHandle> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-failclosed-'));
    dirs.push(dir);
    const w = await startWorkerProcess({ ...harness.env, DATA_DIR: dir, ...env });
    workers.push(w);
    return w;
  }

  /** Drains `w` (SIGTERM) while it makes the run's first model call, so that call is classified there and finishes there. */
  async function drainDuringFirstModelCall(w: ChildHandle, marker: string): Promise<void> {
    await waitFor(() => fake.requestsFor(marker).length === 1, { what: `the first model call of ${marker}` });
    w.child.kill('SIGTERM');
    expect(await w.exited).toBe(0);
  }

  /** A first turn that streams slowly (so a worker can be drained in the middle of it) and asks for `call`. */
  function script(marker: string, call: { name: string; input: Record<string, unknown> }) {
    fake.script(marker, (req) =>
      req.assistantTurns === 0
        ? { text: 'Doing it now.', chunkChars: 1, delayMs: 300, toolUses: [call] }
        : { text: `Done: ${req.lastToolResults.map((r) => r.content).join(' | ')}` },
    );
  }

  const approveNext = async (id: string, harness: Harness = h) => {
    const waiting = await harness.getRun(id);
    const res = await harness.request('POST', `/api/runs/${id}/approvals/${waiting.pendingApprovals[0].approvalId}`, { body: { decision: 'approve' } });
    expect(res.status).toBe(200);
  };

  /** Waits until the run stops moving on its own; it must be waiting for a human, not done. */
  const expectWaitingApproval = async (id: string, harness: Harness = h) => {
    const run = await harness.waitForStatus(id, ['waiting_approval', 'completed', 'failed'], { timeoutMs: 60_000 });
    expect({ status: run.status, statusDetail: run.statusDetail }).toMatchObject({ status: 'waiting_approval' });
    return run;
  };

  const callsOf = (tool: string) => readCalls(mcpState).filter((c) => c.tool === tool);

  beforeAll(async () => {
    await fake.start();
    h = await startHarness({
      database: 'postgres',
      noWorker: true,
      bus: 'database',
      env: {
        ANTHROPIC_API_KEY: fake.apiKey,
        ANTHROPIC_BASE_URL: fake.url,
        LLM_MODEL: 'claude-sonnet-5-5',
        WORKER_SHUTDOWN_GRACE_SEC: '20',
        WORKER_STICKY_TIMEOUT_SEC: '1',
      },
    });
  });
  beforeEach(async () => {
    for (const w of workers.splice(0)) await w.kill('SIGTERM');
  });
  afterAll(async () => {
    for (const w of workers) await w.kill('SIGKILL');
    await h.close();
    await fake.stop();
    for (const d of [...dirs, mcpState]) fs.rmSync(d, { recursive: true, force: true });
  });

  it.each([
    ['lacks its server', 'fc-unknown', {}],
    ['could not reach its server at its start', 'fc-unreachable', { MCP_SERVERS: JSON.stringify({ files: { url: 'http://127.0.0.1:1/mcp' } }) }],
  ])('never runs a destructive MCP tool unapproved when the worker that classified the call %s', async (_case, name, bEnv) => {
    const marker = `[${name}]`;
    script(marker, { name: 'mcp__files__delete_record', input: { id: name } });
    const b = await worker(bEnv); // does not know the tool
    const id = await h.createRun({ goal: `Delete a record ${marker}`, approvals: 'write' });
    await drainDuringFirstModelCall(b, marker);
    const message = (await h.events(id)).find((e): e is RunEventOf<'llm.message'> => e.type === 'llm.message');
    expect(message?.data.toolCalls).toEqual([expect.objectContaining({ name: 'mcp__files__delete_record', risk: 'irreversible' })]);

    await worker({ MCP_SERVERS: filesServer() }); // A: has the server, and its destructive tool
    await expectWaitingApproval(id);
    const deleted = () => callsOf('delete_record').filter((c) => c.args.id === name);
    expect(deleted()).toEqual([]);
    await approveNext(id);
    const done = await h.waitForStatus(id, 'completed', { timeoutMs: 60_000 });
    expect(done.result).toBe(`Done: Deleted ${name}`);
    expect(deleted()).toHaveLength(1);
    expect(fake.requestsFor(marker)).toHaveLength(2); // the first model call was made once, on B
  });

  it('refuses, on the worker that runs it, a call its own definition says needs approval, and asks a human', async () => {
    script('[fc-override]', { name: 'mcp__files__purge_cache', input: { region: 'eu' } });
    const b = await worker({ MCP_SERVERS: filesServer() }); // trusts the annotation: purge_cache is a read
    const id = await h.createRun({ goal: 'Purge the cache [fc-override]', approvals: 'write' });
    await drainDuringFirstModelCall(b, '[fc-override]');
    const message = (await h.events(id)).find((e): e is RunEventOf<'llm.message'> => e.type === 'llm.message');
    expect(message?.data.toolCalls).toEqual([expect.objectContaining({ risk: 'read' })]);

    await worker({ MCP_SERVERS: filesServer({ risk: { purge_cache: 'irreversible' } }) }); // A: the operator says otherwise
    await expectWaitingApproval(id);
    expect(callsOf('purge_cache')).toEqual([]);
    const refused = (await h.events(id)).filter((e) => e.type === 'tool.refused');
    expect(refused.map((e) => e.data)).toEqual([expect.objectContaining({ name: 'mcp__files__purge_cache', risk: 'irreversible', policy: 'write', reason: 'approval_required' })]);
    // The human is asked about the risk and policy A applied, in so many words.
    const asked = (await h.events(id)).filter((e): e is RunEventOf<'approval.requested'> => e.type === 'approval.requested');
    expect(asked.map((e) => e.data)).toEqual([expect.objectContaining({ kind: 'tool', risk: 'irreversible' })]);
    expect(asked[0]!.data.reason).toMatch(/mcp__files__purge_cache is an irreversible action and needs approval under the write policy/);
    await approveNext(id);
    await h.waitForStatus(id, 'completed', { timeoutMs: 60_000 });
    expect(callsOf('purge_cache')).toHaveLength(1);
    expect((await h.events(id)).filter((e) => e.type === 'tool.started')).toHaveLength(1);
  });

  it('applies MIN_APPROVALS, raised after a run was made with `approvals: none`, to the run’s follow-up', async () => {
    fake.script('[fc-floor]', (req) => {
      switch (req.assistantTurns) {
        case 0:
          return { toolUses: [{ name: 'workspace_write', input: { path: 'a.txt', content: 'first' } }] };
        case 1:
          return { text: 'Wrote a.txt.' };
        case 2:
          return { toolUses: [{ name: 'workspace_write', input: { path: 'b.txt', content: 'second' } }] };
        default:
          return { text: 'Wrote b.txt.' };
      }
    });
    const before = await worker({}); // MIN_APPROVALS unset: `none` runs write unasked, as they asked
    const id = await h.createRun({ goal: 'Write files [fc-floor]', approvals: 'none' });
    await h.waitForStatus(id, 'completed', { timeoutMs: 60_000 });
    expect((await h.events(id)).filter((e) => e.type === 'approval.requested')).toEqual([]);
    await before.kill('SIGTERM');

    await worker({ MIN_APPROVALS: 'write' }); // the restart with the floor raised
    const res = await h.request('POST', `/api/runs/${id}/messages`, { body: { text: 'Now write b.txt' } });
    expect(res.status).toBe(202);
    await h.waitForEvent(id, 'user.message', () => true, 60_000);
    await expectWaitingApproval(id);
    expect((await h.events(id)).filter((e) => e.type === 'tool.refused').map((e) => e.data)).toEqual([
      expect.objectContaining({ name: 'workspace_write', risk: 'write', policy: 'write', reason: 'approval_required' }),
    ]);
    expect((await h.request('GET', `/api/runs/${id}/workspace`)).body.files.map((f: { path: string }) => f.path)).toEqual(['a.txt']);
    await approveNext(id);
    const done = await h.waitForStatus(id, 'completed', { timeoutMs: 60_000 });
    expect(done.result).toBe('Wrote b.txt.');
    expect((await h.request('GET', `/api/runs/${id}/workspace`)).body.files.map((f: { path: string }) => f.path)).toEqual(['a.txt', 'b.txt']);
    expect((await h.events(id)).filter((e) => e.type === 'tool.started')).toHaveLength(2);
  });

  it('starts a schedule’s run under MIN_APPROVALS raised after the schedule was made', async () => {
    fake.script('[fc-schedule]', (req) =>
      req.assistantTurns === 0 ? { toolUses: [{ name: 'workspace_write', input: { path: 'c.txt', content: 'third' } }] } : { text: 'Wrote c.txt.' },
    );
    const created = await h.request('POST', '/api/schedules', { body: { name: 'Daily [fc-schedule]', goal: 'Write c.txt [fc-schedule]', everySec: 86_400, approvals: 'none' } });
    expect(created.status).toBe(201);
    await worker({ MIN_APPROVALS: 'write' }); // the floor raised since the schedule was made
    expect((await h.request('POST', `/api/schedules/${created.body.id}/trigger`)).status).toBe(202);
    let id = '';
    await waitFor(
      async () => {
        id = (await h.request('GET', `/api/runs?scheduleId=${created.body.id}`)).body.runs[0]?.id ?? '';
        return id !== '';
      },
      { what: 'the firing to start a run' },
    );
    const waiting = await expectWaitingApproval(id);
    expect(waiting.approvals).toBe('write');
    // Asked by the run's own policy before the call was sent, not after a worker refused it.
    expect((await h.events(id)).filter((e) => e.type === 'tool.refused')).toEqual([]);
    await approveNext(id);
    expect((await h.waitForStatus(id, 'completed', { timeoutMs: 60_000 })).result).toBe('Wrote c.txt.');
    expect((await h.request('DELETE', `/api/schedules/${created.body.id}`)).status).toBe(204);
  });
});
