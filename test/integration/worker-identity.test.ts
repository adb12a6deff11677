/**
 * Workers in containers on one volume: every container's node is PID 1, and they share DATA_DIR.
 * Each worker process still gets a workspace folder of its own, and no worker's clean-up removes a
 * folder another live worker uses; a dead worker's folder goes once its mark has gone stale.
 */
import fs from 'node:fs';
import path from 'node:path';
import { LEFTOVER_AFTER_MS } from '../../shared/workspaces/workspace-sync';
import { FakeAnthropic } from '../support/fake-anthropic';
import { startHarness, type Harness } from '../support/harness';
import { startWorkerProcess, type ChildHandle } from '../support/processes';
import { waitFor } from '../support/wait';

const PID_ONE = path.join(__dirname, '..', 'support', 'pid-one.cjs');

describe('two worker processes with one DATA_DIR and one process id', () => {
  const fake = new FakeAnthropic();
  let h: Harness;
  const workers: ChildHandle[] = [];

  beforeAll(async () => {
    await fake.start();
    h = await startHarness({ noWorker: true, env: { ANTHROPIC_API_KEY: fake.apiKey, ANTHROPIC_BASE_URL: fake.url, LLM_MODEL: 'claude-sonnet-5-5' } });
  });
  afterAll(async () => {
    for (const w of workers) await w.kill();
    await h.close();
    await fake.stop();
  });

  const parent = () => path.join(h.config.dataDir, 'workspaces');
  const folders = () => (fs.existsSync(parent()) ? fs.readdirSync(parent()).filter((name) => name.startsWith('w-')).sort() : []);
  const folderOf = new Map<ChildHandle, string>();
  /** A worker that believes it is PID 1; its folder is the one that appeared when it started (it makes it before polling). */
  const startAsPidOne = async () => {
    const before = folders();
    const w = await startWorkerProcess({ ...h.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${PID_ONE}`.trim() }, { plain: true });
    workers.push(w);
    expect(w.output()).toMatch(/"pid":1,/); // it really believes it is PID 1
    const added = folders().filter((name) => !before.includes(name));
    expect(added).toHaveLength(1); // a folder of its own, not one it shares
    folderOf.set(w, path.join(parent(), added[0]!));
    return w;
  };
  const folder = (w: ChildHandle) => folderOf.get(w)!;

  it('gives each its own folder, and neither one’s clean-up touches the other’s', async () => {
    const a = await startAsPidOne();
    const b = await startAsPidOne();
    expect(folders()).toEqual([path.basename(folder(a)), path.basename(folder(b))].sort());

    // A run with a file in its workspace, held by whichever worker ran the tool call, in use while its model call streams.
    fake.script('[identity]', (req) => {
      if (req.assistantTurns === 0) return { text: 'Writing.', toolUses: [{ name: 'workspace_write', input: { path: 'notes.txt', content: 'in use' } }] };
      return { text: 'Thinking slowly about what was written. '.repeat(8), chunkChars: 8, delayMs: 30 };
    });
    const id = await h.createRun({ goal: 'Keep a file [identity]', approvals: 'none' });
    await waitFor(() => fake.requestsFor('[identity]').length >= 2, { what: 'the second model call, after the file was saved' });
    const holders = [a, b].filter((w) => fs.existsSync(path.join(folder(w), id, 'notes.txt')));
    expect(holders).toHaveLength(1);

    // A third worker, PID 1 as well, starts and cleans up: the live workers' folders stay, the file with them.
    const c = await startAsPidOne();
    expect(c.output()).not.toContain('removed workspace folders');
    expect(fs.readFileSync(path.join(folder(holders[0]!), id, 'notes.txt'), 'utf8')).toBe('in use');
    expect((await h.waitForStatus(id, ['completed', 'failed'])).status).toBe('completed');

    // A worker that died: once its mark is stale, the next worker to start removes its folder, and only that.
    await a.kill('SIGKILL');
    const longAgo = new Date(Date.now() - LEFTOVER_AFTER_MS - 60_000);
    fs.utimesSync(path.join(folder(a), '.alive'), longAgo, longAgo);
    const d = await startAsPidOne();
    expect(d.output()).toContain(`"removed":["${path.basename(folder(a))}"]`);
    expect(folders()).toEqual([b, c, d].map((w) => path.basename(folder(w))).sort());
  });
});
