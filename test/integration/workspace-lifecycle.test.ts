/**
 * A workspace's life through the API: written by tools, hibernated while the run waits for an
 * approval (the worker's local copy gone, the durable copy kept), restored at the next tool call,
 * read file by file, released on request once the run has ended — and by retention.
 */
import fs from 'node:fs';
import path from 'node:path';
import { startHarness, type Harness } from '../support/harness';
import { FakeAnthropic } from '../support/fake-anthropic';
import { waitFor } from '../support/wait';

describe('workspace lifecycle', () => {
  const fake = new FakeAnthropic();
  let h: Harness;

  beforeAll(async () => {
    await fake.start();
    // Writes a page, then (approved) a note, then reads the page back and answers with it.
    fake.script('[workspace', (req) => {
      switch (req.assistantTurns) {
        case 0:
          return { toolUses: [{ name: 'workspace_write', input: { path: 'site/index.html', content: '<script>alert(1)</script><h1>hi</h1>' } }] };
        case 1:
          return { toolUses: [{ name: 'workspace_write', input: { path: 'notes/todo.md', content: '- water plants' } }] };
        case 2:
          return { toolUses: [{ name: 'workspace_read', input: { path: 'site/index.html' } }] };
        default:
          return { text: `read back: ${req.lastToolResults[0]?.content}` };
      }
    });
    h = await startHarness({
      env: {
        ANTHROPIC_API_KEY: fake.apiKey,
        ANTHROPIC_BASE_URL: fake.url,
        LLM_MODEL: 'claude-sonnet-5-5',
        WORKSPACE_IDLE_SEC: '1',
        WORKSPACE_RETENTION_SEC: '4',
      },
    });
  });
  afterAll(async () => {
    await h.close();
    await fake.stop();
  });

  const workspaceOf = async (id: string) => (await h.request('GET', `/api/runs/${id}/workspace`)).body;
  /** The harness's one worker keeps its copies under DATA_DIR/workspaces/w-<identity>/<runId>. */
  const localCopy = (id: string) => {
    const parent = path.join(h.config.dataDir, 'workspaces');
    const own = fs.readdirSync(parent).filter((name) => name.startsWith('w-'));
    if (own.length !== 1) throw new Error(`expected one worker folder, found ${own.join(', ')}`);
    return path.join(parent, own[0]!, id);
  };

  it('hibernates while the run waits, restores at the next tool call, serves files, and releases on request', async () => {
    const id = await h.createRun({ goal: 'keep a workspace [workspace-1]', approvals: 'write' });
    // First write approved; the second waits for its approval long enough to hibernate.
    const first = await h.waitForStatus(id, 'waiting_approval');
    await h.request('POST', `/api/runs/${id}/approvals/${first.pendingApprovals[0].approvalId}`, { body: { decision: 'approve' } });
    await waitFor(async () => (await h.request('GET', `/api/runs/${id}`)).body.pendingApprovals?.[0]?.tool === 'workspace_write' && (await workspaceOf(id)).version === 1, {
      what: 'the second approval, after the first file was saved',
    });
    // The janitor records `hibernated`, then removes the local copy: wait for both.
    await waitFor(async () => (await workspaceOf(id)).state === 'hibernated' && !fs.existsSync(localCopy(id)), { what: 'the workspace to hibernate and its local copy to go' });
    expect(await workspaceOf(id)).toMatchObject({ state: 'hibernated', files: [{ path: 'site/index.html' }] });

    const second = (await h.request('GET', `/api/runs/${id}`)).body;
    await h.request('POST', `/api/runs/${id}/approvals/${second.pendingApprovals[0].approvalId}`, { body: { decision: 'approve' } });
    const done = await h.waitForStatus(id, 'completed');
    expect(done.result).toBe('read back: <script>alert(1)</script><h1>hi</h1>');

    const events = await h.events(id);
    const lifecycle = events.filter((e) => e.type.startsWith('workspace.')).map((e) => e.type);
    expect(lifecycle.slice(0, 2)).toEqual(['workspace.hibernated', 'workspace.restored']);
    expect(events.find((e) => e.type === 'workspace.restored')!.data).toMatchObject({ files: 1, worker: expect.stringContaining('@') });
    const view = await workspaceOf(id);
    expect(view.files.map((f: { path: string }) => f.path)).toEqual(['notes/todo.md', 'site/index.html']);

    // A file is a download with its type, sandboxed, never a page of this origin.
    const file = await fetch(`${h.api.url}/api/runs/${id}/workspace/files/site/index.html`);
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(file.headers.get('content-disposition')).toBe("attachment; filename*=UTF-8''index.html");
    expect(file.headers.get('content-security-policy')).toContain('sandbox');
    expect(await file.text()).toBe('<script>alert(1)</script><h1>hi</h1>');
    expect((await fetch(`${h.api.url}/api/runs/${id}/workspace/files/nope.txt`)).status).toBe(404);
    expect((await fetch(`${h.api.url}/api/runs/${id}/workspace/files/..%2F..%2Fetc%2Fpasswd`)).status).toBe(404);

    const released = await h.request('POST', `/api/runs/${id}/workspace/release`);
    expect([released.status, released.body.state, released.body.files]).toEqual([200, 'released', []]);
    expect((await h.events(id)).filter((e) => e.type === 'workspace.released').map((e) => e.data)).toEqual([{ reason: 'request' }]);
    expect((await fetch(`${h.api.url}/api/runs/${id}/workspace/files/site/index.html`)).status).toBe(404);
    const blobs = await h.store.db.selectFrom('workspace_blobs').select('hash').where('run_id', '=', id).execute();
    expect(blobs).toEqual([]);

    const metrics = (await h.request('GET', '/metrics')).body as string;
    expect(metrics).toMatch(/^longhaul_workspaces\{state="released"\} [1-9]/m);
    expect(metrics).toMatch(/^longhaul_workspace_stored_bytes \d+$/m);
    expect(metrics).toMatch(/^longhaul_workspace_local_bytes \d+$/m);
  });

  it('refuses to release a live run’s workspace, and releases an ended one by retention', async () => {
    const id = await h.createRun({ goal: 'another workspace [workspace-2]', approvals: 'write' });
    await h.waitForStatus(id, 'waiting_approval');
    const early = await h.request('POST', `/api/runs/${id}/workspace/release`);
    expect([early.status, early.body.error.code]).toEqual([409, 'run_not_ended']);
    await h.request('POST', `/api/runs/${id}/cancel`);
    await h.waitForStatus(id, 'cancelled');
    // Nothing was written (the first write never got its approval): no workspace to release.
    expect((await workspaceOf(id)).state).toBeNull();

    const kept = await h.createRun({ goal: 'a workspace to keep [workspace-3]', approvals: 'none' });
    await h.waitForStatus(kept, 'completed');
    await waitFor(async () => (await workspaceOf(kept)).state === 'released', { timeoutMs: 30_000, what: 'release by retention' });
    expect((await h.events(kept)).filter((e) => e.type === 'workspace.released').map((e) => e.data)).toEqual([{ reason: 'retention' }]);
  });
});
