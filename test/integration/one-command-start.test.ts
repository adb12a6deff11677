/**
 * `npm start` with nothing configured: it builds, then starts its own dev server persisted under
 * DATA_DIR, a worker and the API; a demo run completes; a second `npm start` meanwhile is refused in
 * one line without touching the running instance's build; a SIGTERM to npm stops all of it; after
 * starting again — without rebuilding, nothing changed — the run and its Temporal history are
 * still there.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { freePort } from '../support/ports';
import { waitFor } from '../support/wait';

const ROOT = path.join(__dirname, '..', '..');

async function startAll(env: Record<string, string>): Promise<{ child: ChildProcess; output: () => string; url: string }> {
  // The real command, through npm: what a user types, and what a process supervisor signals.
  const child = spawn('npm', ['start'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so a failed test can still clean up whatever npm left behind
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor(() => /Web UI and API\s+(\S+)/.test(out) || child.exitCode !== null, { timeoutMs: 120_000, what: 'npm start to print its URL' });
  if (child.exitCode !== null) throw new Error(`start exited ${child.exitCode}:\n${out}`);
  return { child, output: () => out, url: /Web UI and API\s+(\S+)/.exec(out)![1]! };
}

async function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  return exited;
}

/** Whatever is left in the child's process group: nothing, unless signals stopped at npm. */
function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // ESRCH: the group is already empty
  }
}

describe('npm start', () => {
  let dataDir: string;
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const c of children) {
      await stop(c);
      killGroup(c);
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs everything in one command, stops all of it on a SIGTERM to npm, and runs survive a restart', async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-start-'));
    const temporalPort = await freePort();
    const env = {
      DATA_DIR: dataDir,
      PORT: String(await freePort()),
      TEMPORAL_DEV_PORT: String(temporalPort),
      TEMPORAL_DEV_UI_PORT: '0',
      TEMPORAL_ADDRESS: '',
      ANTHROPIC_API_KEY: '',
      DEMO_STREAM_DELAY_MS: '0',
      LOG_LEVEL: 'warn',
    };
    // The dev server also binds ports derived from its own (HTTP at +1000): one taken by another suite's server makes
    // it exit at once. That is the machine, not the product: pick fresh ports and start once more.
    const first = await startAll(env).catch(async (err: Error) => {
      if (!/the Temporal dev server exited|is taken by another program/.test(err.message)) throw err;
      Object.assign(env, { PORT: String(await freePort()), TEMPORAL_DEV_PORT: String(await freePort()) });
      return startAll(env);
    });
    children.push(first.child);
    expect(first.output()).toContain('demo (offline');
    expect(first.output()).toMatch(/Build is current|Built in/);
    expect(first.output()).not.toMatch(/webpack|modules by path/); // bundler output stays out of the log

    const created = await fetch(`${first.url}/api/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ goal: 'Plan a picnic', approvals: 'none' }),
    });
    expect(created.status).toBe(202);
    const { id } = (await created.json()) as { id: string };
    let run: { status: string; model: string } | undefined;
    await waitFor(async () => {
      run = (await (await fetch(`${first.url}/api/runs/${id}`)).json()) as typeof run;
      return run!.status === 'completed';
    }, { what: 'the demo run to complete' });
    expect(run!.model).toBe('demo');
    const events = (await (await fetch(`${first.url}/api/runs/${id}/events`)).json()) as { events: { type: string }[] };
    expect(events.events.map((e) => e.type)).toEqual(expect.arrayContaining(['run.started', 'llm.message', 'tool.completed', 'run.completed']));

    // A second start while this one runs: one line naming the running process and its URL, exit 1,
    // and the running instance's build untouched.
    const fingerprint = path.join(ROOT, 'dist', '.build-fingerprint');
    const builtAt = fs.statSync(fingerprint).mtimeMs;
    const rival = spawn('npm', ['start'], { cwd: ROOT, env: { ...process.env, ...env, PORT: String(await freePort()) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let rivalOut = '';
    rival.stdout.on('data', (d: Buffer) => (rivalOut += d.toString()));
    rival.stderr.on('data', (d: Buffer) => (rivalOut += d.toString()));
    expect(await new Promise<number | null>((resolve) => rival.once('exit', resolve))).toBe(1);
    const refusal = rivalOut.split('\n').filter((l) => l.includes('already running'));
    expect(refusal).toHaveLength(1);
    expect(refusal[0]).toContain(`process ${JSON.parse(fs.readFileSync(path.join(ROOT, '.tmp', 'start.json'), 'utf8')).pid}`);
    expect(refusal[0]).toContain(first.url);
    expect(rivalOut).not.toMatch(/Building|Build is current/);
    expect(fs.statSync(fingerprint).mtimeMs).toBe(builtAt);

    // A SIGTERM to npm itself stops everything (API, worker and the dev server it started); then start
    // again on the same DATA_DIR.
    expect(await stop(first.child)).toBe(0);
    await waitFor(async () => {
      try {
        await (await Connection.connect({ address: `127.0.0.1:${env.TEMPORAL_DEV_PORT}`, connectTimeout: 300 })).close();
        return false;
      } catch {
        return true;
      }
    }, { what: 'the dev server to be stopped' });

    const second = await startAll(env);
    children.push(second.child);
    expect(second.output()).toContain('Build is current'); // nothing changed: no rebuild
    const again = (await (await fetch(`${second.url}/api/runs/${id}`)).json()) as { status: string };
    expect(again.status).toBe('completed');
    const connection = await Connection.connect({ address: `127.0.0.1:${env.TEMPORAL_DEV_PORT}` });
    const { workflowExecutionInfo } = await connection.workflowService.describeWorkflowExecution({ namespace: 'default', execution: { workflowId: id } });
    expect(workflowExecutionInfo?.type?.name).toBe('agentRunWorkflow');
    await connection.close();
    expect(await stop(second.child)).toBe(0);
  });
});
