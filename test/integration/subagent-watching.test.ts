/**
 * Watching a run tree: a lead that delegates to two sub-agents at once (test/support/subagent-tree.ts, whose
 * children each stream a line, wait for the test, then stream a second), watched through the typed client and
 * through `longhaul watch` run as its own process.
 *
 * What it holds to: `runs.watch(id, { children: true })` yields the parent's `subagent.*` events typed and each
 * child's items labelled with the child's run id and agent — both children's text while they stream (the first
 * lines arrive before either child may go on), every child's text whole and once, every event once and in order,
 * though every connection is cut while the children stream — and ends with the parent; `runs.children(id)` lists the children and the runs list shows the root with its
 * count, not the children; `longhaul watch` prints each child's lines indented under the parent, each once, and
 * exits 0 when the parent completes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createLonghaulClient, type ChildWatchItem, type RunEvent, type WatchItem } from '../../client';
import { CHILD_AGENTS, childText, startSubagentTree, type ChildAgent, type SubagentTree } from '../support/subagent-tree';
import { waitFor } from '../support/wait';

const ROOT = path.join(__dirname, '..', '..');
const TOKEN = 'alice-watch-token-0123456789';

describe('watching sub-agents', () => {
  let tree: SubagentTree;
  let client: ReturnType<typeof createLonghaulClient>;
  /** The `longhaul watch` process, ended here if a failing test left it running. */
  let watcher: ChildProcess | undefined;

  beforeAll(async () => {
    tree = await startSubagentTree({ token: TOKEN });
    client = createLonghaulClient({ baseUrl: tree.h.api.url, token: TOKEN });
  });
  afterAll(async () => {
    if (watcher && watcher.exitCode === null) watcher.kill();
    await tree?.stop();
  });

  const startLead = async (marker: string) => (await client.runs.start({ agent: 'lead', goal: `Report on tides ${marker}` })).id;

  it('runs.watch with children: the parent’s subagent events, and both children’s text as it streams, labelled, once each, through a dropped connection', async () => {
    const marker = tree.marker();
    const id = await startLead(marker);
    const items: (WatchItem | ChildWatchItem)[] = [];
    /** Each child's text as its deltas add up, by run id. */
    const streamed = new Map<string, string>();
    let dropped = false;
    for await (const item of client.runs.watch(id, { children: true })) {
      items.push(item);
      if (item.type === 'child' && item.item.type === 'text') {
        streamed.set(item.runId, (streamed.get(item.runId) ?? '') + item.item.delta);
        // Both children have streamed their first line while both still wait: every connection is cut (the API
        // restarts on its port), then they may finish — each stream resumes where it was.
        const firsts = [...streamed.values()].filter((t) => CHILD_AGENTS.some((a) => t.startsWith(childText(a, marker).first)));
        if (firsts.length === 2 && !dropped) {
          dropped = true;
          await tree.h.restartApi();
          for (const agent of CHILD_AGENTS) tree.release(agent, marker);
        }
      }
    }

    expect(dropped).toBe(true);
    // Each child's stream was cut and resumed by itself.
    expect(new Set(items.flatMap((i) => (i.type === 'child' && i.item.type === 'reconnecting' ? [i.runId] : []))).size).toBe(2);

    // The parent's own events, typed, each once and in order, ending with its completion.
    const parentEvents = items.flatMap((i) => (i.type === 'event' ? [i.event] : []));
    expect(parentEvents.map((e) => e.seq)).toEqual(parentEvents.map((_, n) => n + 1));
    expect(parentEvents[parentEvents.length - 1]!.type).toBe('run.completed');
    const started = parentEvents.filter((e): e is Extract<RunEvent, { type: 'subagent.started' }> => e.type === 'subagent.started');
    expect(started.map((e) => e.data.agent).sort()).toEqual(['researcher', 'writer']);
    const completed = parentEvents.filter((e): e is Extract<RunEvent, { type: 'subagent.completed' }> => e.type === 'subagent.completed');
    expect(completed.map((e) => e.data.childRunId).sort()).toEqual(started.map((e) => e.data.childRunId).sort());

    for (const s of started) {
      const agent = s.data.agent as ChildAgent;
      const own = items.filter((i): i is ChildWatchItem => i.type === 'child' && i.runId === s.data.childRunId);
      // Labelled: the child's run id, its agent, its parent, one level down.
      expect(own.every((i) => i.agent === agent && i.parentRunId === id && i.depth === 1)).toBe(true);
      // Its text streamed before it was final (the first line came while the child waited), whole and once.
      expect(streamed.get(s.data.childRunId)).toBe(childText(agent, marker).whole);
      // Its events, each once and in order, from its queueing to its completion.
      const events = own.flatMap((i) => (i.item.type === 'event' ? [i.item.event] : []));
      expect(events.map((e) => e.seq)).toEqual(events.map((_, n) => n + 1));
      expect(events[0]!.type).toBe('run.queued');
      expect(events[events.length - 1]!.type).toBe('run.completed');
      const message = events.find((e) => e.type === 'llm.message');
      expect(message?.type === 'llm.message' && message.data.text).toBe(childText(agent, marker).whole);
    }
    // No child item is of a run other than the two children.
    const childIds = new Set(started.map((e) => e.data.childRunId));
    expect(items.every((i) => i.type !== 'child' || childIds.has(i.runId))).toBe(true);

    // The tree as lists read it: the children through runs.children, the root alone (with its count) in the list.
    const { children } = await client.runs.children(id);
    expect(children.map((c) => c.id).sort()).toEqual([...childIds].sort());
    expect(children.every((c) => c.status === 'completed' && c.childCount === 0)).toBe(true);
    const { runs } = await client.runs.list({ limit: 100 });
    expect(runs.find((r) => r.id === id)?.childCount).toBe(2);
    expect(runs.some((r) => childIds.has(r.id))).toBe(false);
    expect((await client.runs.list({ limit: 100, children: true })).runs.filter((r) => childIds.has(r.id))).toHaveLength(2);
  });

  it('longhaul watch prints each child’s lines indented under the parent as they stream, once each, and ends with the parent', async () => {
    const marker = tree.marker();
    const id = await startLead(marker);
    const line = (agent: ChildAgent, text: string) => `  ${agent} │ ${text.replace(/\n$/, '')}`;
    let released = false;
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = (watcher = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'client', 'cli', 'main.ts'), 'watch', id], {
        cwd: ROOT,
        env: { ...process.env, LONGHAUL_URL: tree.h.api.url, LONGHAUL_TOKEN: TOKEN },
        stdio: ['ignore', 'pipe', 'pipe'],
      }));
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        // Both children's first lines are printed while both still wait: only then may they finish.
        if (!released && CHILD_AGENTS.every((a) => stdout.includes(line(a, childText(a, marker).first)))) {
          released = true;
          for (const agent of CHILD_AGENTS) tree.release(agent, marker);
        }
      });
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.once('close', (code) => resolve({ code, stdout, stderr }));
    });

    expect(result.stderr).toBe('');
    expect(released).toBe(true);
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    for (const agent of CHILD_AGENTS) {
      const { first, second } = childText(agent, marker);
      expect(lines.filter((l) => l === line(agent, first))).toHaveLength(1);
      expect(lines.filter((l) => l === line(agent, second))).toHaveLength(1);
      expect(lines.filter((l) => l.startsWith('⇢ sub-agent ') && l.includes(agent))).toHaveLength(1);
      expect(lines.filter((l) => l.startsWith(`  ${agent} │ ✔ completed after 1 turns`))).toHaveLength(1);
    }
    // The parent's own text and ending are not indented, and its ending is the last thing printed.
    expect(lines).toContain('Delegating both parts.');
    expect(result.stdout.trimEnd().split('\n').pop()).toMatch(/^✔ completed after 2 turns/);
    await waitFor(async () => (await client.runs.get(id)).status === 'completed', { what: 'the lead to be completed' });

    // `longhaul runs` lists the tree as its root, with its count of sub-agent runs.
    const listed = await new Promise<string>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'client', 'cli', 'main.ts'), 'runs', '--limit', '100'], {
        cwd: ROOT,
        env: { ...process.env, LONGHAUL_URL: tree.h.api.url, LONGHAUL_TOKEN: TOKEN },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.once('close', () => resolve(stdout));
    });
    expect(listed.split('\n').find((l) => l.startsWith(id))).toMatch(/\(\+2 sub-agent runs\)$/);
    const childIds = (await client.runs.children(id)).children.map((c) => c.id);
    expect(childIds.some((c) => listed.includes(c))).toBe(false);
  });
});
