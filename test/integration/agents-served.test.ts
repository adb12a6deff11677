/**
 * A worker with a definition of two agents serves them: it publishes both (and the default agent)
 * with their versions, polls each agent's own task queue, and withdraws when it stops.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { agentTaskQueue, DEFAULT_AGENT } from '../../contract/agents';
import { eventKeys } from '../../contract/keys';
import { RUN_WORKFLOW } from '../../contract/workflow-messages';
import { runInputFor } from '../../shared/runs/run-input';
import { startWorker, type RunningWorker } from '../../worker/start-worker';
import { agentsWorker } from '../support/agents-worker';
import { startHarness, type Harness } from '../support/harness';
import { waitFor } from '../support/wait';

const definition = agentsWorker;

describe('a worker serving agents', () => {
  let h: Harness;
  let running: RunningWorker | undefined;

  beforeAll(async () => {
    h = await startHarness({ noWorker: true });
  });
  afterAll(async () => {
    await running?.stop();
    await h.close();
  });

  it('publishes its agents, runs each agent’s runs from its own queue, and withdraws when it stops', async () => {
    const foundation = { store: h.store, client: h.client, bus: h.bus, close: async () => {} };
    running = await startWorker({ config: h.config, foundation, logger: h.logger, definition, sweeperSchedule: false });
    const { agents, identity } = running;
    const versionOf = (name: string) => agents.get(name)!.version;

    // Published: each served agent with its version, and its version's data.
    const served = await h.store.agents.workers();
    expect(served.map((w) => [w.identity, w.agent, w.version]).sort()).toEqual(
      [
        [identity, DEFAULT_AGENT, versionOf(DEFAULT_AGENT)],
        [identity, 'alpha', versionOf('alpha')],
        [identity, 'beta', versionOf('beta')],
      ].sort(),
    );
    const beta = await h.store.agents.version('beta', versionOf('beta'));
    expect(beta?.data).toEqual(agents.get('beta')!.data);
    expect(beta?.data.tools.map((t) => t.name)).toEqual(['workspace_read', 'lookup_invoice']);
    expect((await h.store.agents.current('alpha'))?.version.version).toBe(versionOf('alpha'));

    // A run of alpha, its workflow on alpha's queue: this worker picks it up (its first bookkeeping moves it out of queued).
    const taskQueue = agentTaskQueue(h.taskQueue, 'alpha');
    expect(taskQueue).not.toBe(h.taskQueue);
    const limits = { maxSteps: 5, maxCostUsd: 1, maxDurationSec: 600 };
    const queued = await h.store.queueRun(
      { id: `run_agents_${Date.now().toString(36)}`, owner: 'tester', goal: 'Say hello [agents-served]', model: 'demo', approvals: 'none', limits, agent: 'alpha', agentVersion: versionOf('alpha') },
      100,
      [{ key: eventKeys.queued(), type: 'run.queued', data: { goal: 'Say hello [agents-served]', model: 'demo', approvals: 'none', limits } }],
    );
    if ('queueFull' in queued) throw new Error('queue full');
    const { run } = queued;
    h.track(run.id, 'Say hello [agents-served]');
    await h.client.workflow.start(RUN_WORKFLOW, { workflowId: run.id, taskQueue, args: [runInputFor(h.config, run, h.config.approvals.timeoutSec)] });
    let status: string | undefined;
    await waitFor(
      async () => {
        status = (await h.store.runs.get(run.id))?.status;
        return status !== undefined && status !== 'queued';
      },
      { what: () => `the run of alpha to leave queued (last: ${status})` },
    );
    const handle = h.client.workflow.getHandle(run.id);
    expect((await handle.describe()).taskQueue).toBe(taskQueue);
    // What the run goes on to do is the run workflow's business, not this test's.
    await handle.terminate('the test has seen what it needed');

    // Stopped (drained): it serves nothing any more.
    await running.stop();
    running = undefined;
    expect((await h.store.agents.workers()).filter((w) => w.identity === identity)).toEqual([]);
    // The versions stay: runs pinned to them go on reading them.
    expect(await h.store.agents.version('alpha', versionOf('alpha'))).toBeDefined();
  });

  it('serves them from a worker process too, which withdraws when it is told to stop (SIGTERM: a drain)', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', 'support', 'agents-worker.ts')], {
      env: { ...process.env, ...h.env, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      let served: string[] = [];
      await waitFor(
        async () => {
          served = (await h.store.agents.workers()).map((w) => w.agent).sort();
          return served.length === 3 || child.exitCode !== null;
        },
        { timeoutMs: 60_000, what: () => `the worker process to serve its agents (serving: ${served.join(', ') || 'none'}; output: ${out})` },
      );
      expect(served).toEqual(['alpha', 'beta', DEFAULT_AGENT]);
      await waitFor(() => /worker polling/.test(out), { what: 'the worker process to poll' });
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(await h.store.agents.workers()).toEqual([]);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  it('withdraws its agents when its Workers cannot be made after it published them', async () => {
    const foundation = { store: h.store, client: h.client, bus: h.bus, close: async () => {} };
    // A workflow bundle that is not there: the first Worker cannot be made, after the agents were published.
    const config = { ...h.config, temporal: { ...h.config.temporal, workflowBundlePath: path.join(__dirname, 'no-such-bundle.js') } };
    await expect(startWorker({ config, foundation, logger: h.logger, definition, sweeperSchedule: false })).rejects.toThrow();
    // Not served: no live worker is said to serve alpha (before, it read as served until its beats were old, or for good).
    expect(await h.store.agents.workers('alpha')).toEqual([]);
  });

  it('refuses to start with a definition it cannot serve, saying which agent and why', async () => {
    const foundation = { store: h.store, client: h.client, bus: h.bus, close: async () => {} };
    const bad = { agents: [{ name: 'gamma', description: 'Needs a server.', instructions: 'Search.', tools: [{ mcp: 'crm' }] }] };
    await expect(startWorker({ config: h.config, foundation, logger: h.logger, definition: bad, sweeperSchedule: false })).rejects.toThrow(
      'agent "gamma": tools[0]: MCP server crm is not configured (MCP_SERVERS has none)',
    );
    expect(await h.store.agents.workers('gamma')).toEqual([]);
  });
});
