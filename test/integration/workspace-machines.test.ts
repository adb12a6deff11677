/**
 * Workspaces that follow the run across machines: two worker processes with separate DATA_DIRs
 * sharing Postgres. The worker holding a run's files is SIGKILLed while the run waits for an
 * approval; the run goes on on the other worker, which restores the files from the durable copy,
 * and no tool runs twice. While both workers live, a run's tool calls stay with the worker that
 * holds its workspace, so nothing is restored at all.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FakeAnthropic } from '../support/fake-anthropic';
import { startHarness, type Harness } from '../support/harness';
import { startWorkerProcess, type ChildHandle } from '../support/processes';
import { waitFor } from '../support/wait';

describe('workspaces across worker machines', () => {
  const fake = new FakeAnthropic();
  let h: Harness;
  const workers: ChildHandle[] = [];
  const dirs: string[] = [];

  /** A worker on a machine of its own: its own DATA_DIR, the shared database and Temporal. */
  async function machine(): Promise<ChildHandle> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-machine-'));
    dirs.push(dir);
    const w = await startWorkerProcess({ ...h.env, DATA_DIR: dir });
    workers.push(w);
    return w;
  }

  beforeAll(async () => {
    await fake.start();
    // Writes a.txt, then dir/b.txt, then reads a.txt back and answers with it.
    fake.script('[machines', (req) => {
      switch (req.assistantTurns) {
        case 0:
          return { toolUses: [{ name: 'workspace_write', input: { path: 'a.txt', content: `alpha of ${req.goal}` } }] };
        case 1:
          return { toolUses: [{ name: 'workspace_write', input: { path: 'dir/b.txt', content: 'beta' } }] };
        case 2:
          return { toolUses: [{ name: 'workspace_read', input: { path: 'a.txt' } }] };
        default:
          return { text: `a.txt says: ${req.lastToolResults[0]?.content}` };
      }
    });
    h = await startHarness({
      database: 'postgres',
      noWorker: true,
      bus: 'database',
      env: { ANTHROPIC_API_KEY: fake.apiKey, ANTHROPIC_BASE_URL: fake.url, LLM_MODEL: 'claude-sonnet-5-5' },
    });
  });
  afterAll(async () => {
    for (const w of workers) await w.kill();
    await h.close();
    await fake.stop();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  const approveNext = async (id: string) => {
    const waiting = await h.waitForStatus(id, 'waiting_approval');
    await h.request('POST', `/api/runs/${id}/approvals/${waiting.pendingApprovals[0].approvalId}`, { body: { decision: 'approve' } });
  };

  it('goes on with every file on another machine after the one holding them is killed, running no tool twice', async () => {
    const first = await machine();
    const id = await h.createRun({ goal: 'survive [machines-kill]', approvals: 'write' });
    await approveNext(id);
    // The second write waits for approval: the first file is durable, held by the first machine.
    await waitFor(async () => (await h.request('GET', `/api/runs/${id}/workspace`)).body.version === 1 && (await h.request('GET', `/api/runs/${id}`)).body.status === 'waiting_approval', {
      what: 'the second approval with a.txt saved',
    });
    await machine();
    await first.kill('SIGKILL');
    await approveNext(id);
    const done = await h.waitForStatus(id, 'completed', { timeoutMs: 60_000 });
    expect(done.result).toBe('a.txt says: alpha of Goal: survive [machines-kill]');

    const events = await h.events(id);
    expect(events.filter((e) => e.type === 'tool.started')).toHaveLength(3); // each tool once
    const restores = events.filter((e) => e.type === 'workspace.restored');
    expect(restores).toHaveLength(1);
    expect(restores[0]!.data).toMatchObject({ files: 1 });
    const view = (await h.request('GET', `/api/runs/${id}/workspace`)).body;
    expect(view.files.map((f: { path: string }) => f.path)).toEqual(['a.txt', 'dir/b.txt']);
  });

  it('keeps a run’s tool calls on the machine that holds its workspace: no restores while it lives', async () => {
    await machine(); // two live machines now
    const ids = await Promise.all([1, 2, 3].map((n) => h.createRun({ goal: `stay ${n} [machines-stay]`, approvals: 'none' })));
    for (const id of ids) await h.waitForStatus(id, 'completed', { timeoutMs: 60_000 });
    for (const id of ids) {
      const events = await h.events(id);
      expect(events.filter((e) => e.type === 'tool.completed')).toHaveLength(3);
      expect(events.filter((e) => e.type === 'workspace.restored')).toEqual([]);
    }
  });
});
