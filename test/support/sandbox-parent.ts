/**
 * A stand-in worker for the test that a sandbox process dies with its worker (test/integration/tool-sandbox.test.ts):
 * forks the sandbox entry (sandbox-worker.ts) as a worker would, hands it `blocks_saying_pid` with the workspace
 * folder given as its argument, and waits, to be SIGKILLed by the test while the child's event loop is blocked.
 * With `dies-at-once` as its second argument it SIGKILLs itself as soon as the call is handed over, while the child
 * is still loading, first writing the child's pid to `child.pid` in the folder.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_AGENT } from '../../contract/agents';
import { createLogger } from '../../shared/logger';
import { forkedToolSandbox } from '../../worker/forked-tool-sandbox';

const dir = process.argv[2]!;
const diesAtOnce = process.argv[3] === 'dies-at-once';
const sandbox = forkedToolSandbox({ file: path.join(__dirname, 'sandbox-worker.ts'), args: [], execArgv: ['--import', 'tsx'] }, createLogger({ level: 'silent' }));
const run = { runId: 'run-1', owner: 'ann', agent: DEFAULT_AGENT, input: null, goal: 'g', metadata: null };
// No unresponsiveAfterMs: this parent never kills the child itself.
void sandbox.run(
  { agent: DEFAULT_AGENT, tool: 'blocks_saying_pid', input: {}, runId: 'run-1', run, idempotencyKey: 'run-1:turn:1:tool:t1', workspaceDir: dir, workspaceLimits: { maxFileBytes: 1024, maxTotalBytes: 1024 }, toolUseId: 't1', attempt: 2 },
  { signal: new AbortController().signal, heartbeat: () => undefined },
);

if (diesAtOnce) {
  // The fork and the call's write to the IPC channel happened in run(); a turn of the loop later the call sits in the
  // channel, to be read by a child whose worker is already gone.
  const children = fs
    .readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const ppid = fs.readFileSync(`/proc/${p}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[1];
        // Not tsx's own helper process: the forked sandbox entry.
        return ppid === String(process.pid) && fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('sandbox-worker.ts');
      } catch {
        return false;
      }
    });
  fs.writeFileSync(path.join(dir, 'child.pid'), children.join(' '));
  setImmediate(() => process.kill(process.pid, 'SIGKILL'));
}
