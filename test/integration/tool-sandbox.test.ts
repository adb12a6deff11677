/**
 * The sandbox a suspect tool call runs in (worker/forked-tool-sandbox.ts): the worker entry forked again serves one
 * call over IPC. A tool that kills its process (or blocks it) kills only the child, and the caller gets a typed failure; any other
 * call answers as it would in process (its output, a ToolError's or ToolUnavailableError's meaning, its heartbeats).
 * A tool the child cannot load is the sandbox's failure, not the tool's; a child dies with its worker, even while its
 * tool blocks its event loop (the worker a separate process here, SIGKILLed), or when the worker was gone before it
 * started (the worker writes its pid into the child's environment; the child checks against that).
 */
import { fork, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_AGENT } from '../../contract/agents';
import { ToolError, ToolUnavailableError } from '../../activities/tools/tool';
import { serializeOutput } from '../../activities/tools/tool-output';
import { ToolSandboxDied, ToolSandboxFailed, type SandboxedCall } from '../../activities/tools/tool-sandbox';
import { Workspace } from '../../activities/tools/workspace';
import { createLogger } from '../../shared/logger';
import { forkedToolSandbox } from '../../worker/forked-tool-sandbox';
import { POISON_TOOL } from '../support/poison-tool';
import { freePort } from '../support/ports';
import { SANDBOX_DEPS, sandboxTools } from '../support/sandbox-tools';
import { waitFor } from '../support/wait';

const ENTRY = path.join(__dirname, '..', 'support', 'sandbox-worker.ts');
const logger = createLogger({ level: 'silent' });
const limits = { maxFileBytes: 1024 * 1024, maxTotalBytes: 10 * 1024 * 1024 };

/** Whether a process of that pid is still there (a zombie counts: a reaped one is gone). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('a tool call in a sandbox process', () => {
  const sandbox = forkedToolSandbox({ file: ENTRY, args: [], execArgv: ['--import', 'tsx'] }, logger);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-sandbox-'));
  const run = { runId: 'run-1', owner: 'ann', agent: DEFAULT_AGENT, input: null, goal: 'g', metadata: null };
  const callOf = (tool: string, input: unknown = {}): SandboxedCall => ({
    agent: DEFAULT_AGENT,
    tool,
    input,
    runId: 'run-1',
    run,
    idempotencyKey: 'run-1:turn:1:tool:t1',
    workspaceDir: dir,
    workspaceLimits: limits,
    toolUseId: 't1',
    attempt: 2,
  });
  const io = () => ({ signal: new AbortController().signal, heartbeat: () => undefined });

  beforeAll(() => fs.writeFileSync(path.join(dir, 'notes.txt'), 'kept'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('answers with the output the tool gives in process: its input, ids, run, deps and workspace', async () => {
    const tool = sandboxTools().find((t) => t.name === 'describe_call')!;
    const inProcess = await tool.run(
      { n: 7 },
      { runId: 'run-1', run, deps: SANDBOX_DEPS, idempotencyKey: 'run-1:turn:1:tool:t1', signal: new AbortController().signal, heartbeat: () => undefined, workspace: new Workspace(dir, limits), logger },
    );
    const output = await sandbox.run(callOf('describe_call', { n: 7 }), io());
    expect(output).toBe(serializeOutput(inProcess));
    expect(JSON.parse(output)).toMatchObject({ deps: SANDBOX_DEPS, owner: 'ann', files: [{ path: 'notes.txt' }] });
  }, 60_000);

  it('delivers an answer larger than one IPC write whole before its process exits', async () => {
    expect(await sandbox.run(callOf('big_output'), io())).toBe('x'.repeat(1024 * 1024));
  }, 60_000);

  it('keeps a ToolError a ToolError and a ToolUnavailableError a ToolUnavailableError', async () => {
    const refused = await sandbox.run(callOf('refuse'), io()).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(ToolError);
    expect((refused as Error).message).toBe('refused: bad path');
    const gone = await sandbox.run(callOf('backend_gone'), io()).catch((err: unknown) => err);
    expect(gone).toBeInstanceOf(ToolUnavailableError);
    expect((gone as Error).message).toBe('backend went away');
  }, 60_000);

  it('passes the tool heartbeats on', async () => {
    const beats: unknown[] = [];
    const output = await sandbox.run(callOf('beats'), { signal: new AbortController().signal, heartbeat: (d) => beats.push(d) });
    expect(output).toBe('beat twice');
    expect(beats).toEqual([{ step: 1 }, { step: 2 }]);
  }, 60_000);

  it('fails typed when the tool kills its process, and only that process dies', async () => {
    const died = await sandbox.run(callOf(POISON_TOOL), io()).catch((err: unknown) => err);
    expect(died).toBeInstanceOf(ToolSandboxDied);
    expect(died).toMatchObject({ tool: POISON_TOOL, how: 'was killed by SIGKILL' });
    // This process (the worker's stand-in) lives on, and the next call runs as ever.
    expect(JSON.parse(await sandbox.run(callOf('describe_call', { n: 1 }), io()))).toMatchObject({ n: 1 });
  }, 60_000);

  it('counts a process whose tool blocks its event loop as died, as a worker that stops heartbeating', async () => {
    const blocked = await sandbox.run(callOf('blocks'), { ...io(), unresponsiveAfterMs: 1500 }).catch((err: unknown) => err);
    expect(blocked).toBeInstanceOf(ToolSandboxDied);
    expect((blocked as ToolSandboxDied).how).toMatch(/^stopped responding/);
  }, 60_000);

  it('kills the process of a cancelled call and settles with the cancellation; a tool that waits but does not block lives on till then', async () => {
    const cancel = new AbortController();
    const hung = sandbox.run(callOf('hangs'), { signal: cancel.signal, heartbeat: () => undefined, unresponsiveAfterMs: 1000 }).catch((err: unknown) => err);
    setTimeout(() => cancel.abort(new Error('cancelled by the test')), 3000);
    expect(await hung).toEqual(new Error('cancelled by the test'));
  }, 60_000);

  it('says the sandbox failed, not that the tool became unavailable, when the child cannot load the tool', async () => {
    // An MCP server the child cannot reach (nothing listens there): the tool is not found in the child.
    const saved = process.env.MCP_SERVERS;
    process.env.MCP_SERVERS = JSON.stringify({ ops: { url: `http://127.0.0.1:${await freePort()}/mcp` } });
    try {
      const unreachable = await sandbox.run(callOf('ops__status'), io()).catch((err: unknown) => err);
      expect(unreachable).toBeInstanceOf(ToolSandboxFailed);
      expect(String(unreachable)).toMatch(/ops__status could not be loaded in its sandbox process/);
    } finally {
      if (saved === undefined) delete process.env.MCP_SERVERS;
      else process.env.MCP_SERVERS = saved;
    }
    // An agent the child's catalog does not have.
    const noAgent = await sandbox.run({ ...callOf('describe_call', { n: 1 }), agent: 'not_served_here' }, io()).catch((err: unknown) => err);
    expect(noAgent).toBeInstanceOf(ToolSandboxFailed);
    // Input the child's copy of the tool does not take.
    const badInput = await sandbox.run(callOf('describe_call', { n: 'seven' }), io()).catch((err: unknown) => err);
    expect(badInput).toBeInstanceOf(ToolSandboxFailed);
  }, 60_000);

  it('dies with its worker when the worker is SIGKILLed while the tool blocks the child\'s event loop', async () => {
    const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-sandbox-parent-'));
    const pidFile = path.join(workspace, 'sandbox.pid');
    const parent = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', 'support', 'sandbox-parent.ts'), workspace], { stdio: 'ignore' });
    const parentExited = new Promise((resolve) => parent.once('exit', resolve));
    let child: number | undefined;
    try {
      await waitFor(() => fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8') !== '', { timeoutMs: 30_000, what: 'the sandbox process to run the blocking tool' });
      child = Number(fs.readFileSync(pidFile, 'utf8'));
      expect(alive(child)).toBe(true);
      parent.kill('SIGKILL');
      await parentExited;
      await waitFor(() => !alive(child!), { timeoutMs: 10_000, what: `the sandbox process ${child} to die with its worker` });
    } finally {
      if (parent.exitCode === null && parent.signalCode === null) parent.kill('SIGKILL');
      if (child !== undefined && alive(child)) process.kill(child, 'SIGKILL');
      fs.rmSync(workspace, { recursive: true, force: true });
    }
  }, 60_000);

  it('dies with its worker when the worker was SIGKILLed before the child started, its call already sent', async () => {
    const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-sandbox-parent-'));
    const pidFile = path.join(workspace, 'child.pid');
    const parent = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', 'support', 'sandbox-parent.ts'), workspace, 'dies-at-once'], { stdio: 'ignore' });
    let child: number | undefined;
    try {
      const how = await new Promise((resolve) => parent.once('exit', (code, signal) => resolve(signal ?? code)));
      expect(how).toBe('SIGKILL');
      const pids = fs.readFileSync(pidFile, 'utf8').split(' ').filter(Boolean).map(Number);
      expect(pids).toHaveLength(1);
      child = pids[0]!;
      // It was handed to another parent before it could look: only the pid its worker wrote down tells it so.
      await waitFor(() => !alive(child!), { timeoutMs: 15_000, what: `the sandbox process ${child} to die though its worker was gone before it started` });
    } finally {
      if (child !== undefined && alive(child)) process.kill(child, 'SIGKILL');
      fs.rmSync(workspace, { recursive: true, force: true });
    }
  }, 60_000);

  it('kills a child whose parent is not the worker that says it forked it', async () => {
    // Parent and named worker differ from the start, as when the worker died while the child was loading.
    const child = fork(path.join(__dirname, '..', 'support', 'named-parent-child.ts'), [String(process.pid + 1_000_000)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
    try {
      await new Promise((resolve) => child.once('message', resolve));
      await waitFor(() => child.signalCode !== null || child.exitCode !== null, { timeoutMs: 10_000, what: 'the child to kill itself' });
      expect(child.signalCode).toBe('SIGKILL');
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, 60_000);

  it('says the sandbox failed, not the tool, when its process cannot start', async () => {
    const broken = forkedToolSandbox({ file: path.join(__dirname, 'no-such-entry.js'), args: [], execArgv: [] }, logger);
    const failed = await broken.run(callOf(POISON_TOOL), io()).catch((err: unknown) => err);
    expect(failed).toBeInstanceOf(ToolSandboxFailed);
    expect(String(failed)).toMatch(/before it ran the tool/);
  }, 60_000);
});
