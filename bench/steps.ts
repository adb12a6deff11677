/**
 * Per-step cost, like with like: Longhaul, a bare Temporal workflow (one model and one tool activity
 * per step, nothing else) with ordinary and with local activities, and LangGraph JS with its SQLite
 * checkpointer, interleaved run by run in one process on one machine, in two tables:
 *   - in process: every model answers at once in the process (Longhaul: a scripted model adapter), so
 *     each figure is the runtime's own cost per step;
 *   - over HTTP: every system asks the same fake Anthropic server through the official SDK, streamed.
 * One cheap tool call per step. Longhaul and the bare workflows share the tuned dev server `npm start`
 * runs. Goal (issue 22): Longhaul, whose every model and tool call is an ordinary activity, within 1.3 × the
 * bare workflow with two ordinary activities per step (`longhaulToBare`), in both tables. `longhaulDesk` is the
 * same run with a file written at its first step, so its tool calls go to the queue of the worker holding its
 * workspace (not dispatched eagerly with the workflow task). The local-activity floor and LangGraph are shown for
 * reference.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import { ScriptedModel, WRITES_MARKER } from './scripted-model';
import { FakeAnthropic } from '../test/support/fake-anthropic';
import { startHarness, type Harness } from '../test/support/harness';
import { bareActivities } from './bare/activities';
import type { bareAgent, bareLocalAgent } from './bare/workflows';
import { HTTP_BASELINE_MARKER, httpModel, inProcessModel, type BenchModel } from './bench-model';
import { summarize } from './env';
import { stepBreakdown } from './step-breakdown';
import { langGraphAgent } from './langgraph-agent';

/** `longhaulDesk`: Longhaul with a file in the run's workspace from its first step, so its tool calls go to the worker holding it. */
const SYSTEMS = ['longhaul', 'longhaulDesk', 'bare', 'bareLocal', 'langgraph'] as const;
type System = (typeof SYSTEMS)[number];
type Transport = 'inProcess' | 'http';

/** Marker in Longhaul's HTTP runs' goals, for the fake's script. */
const HTTP_LONGHAUL_MARKER = '[steps-longhaul]';

export async function stepsBench(opts: { steps?: number; repetitions?: number } = {}) {
  const steps = opts.steps ?? 20;
  const repetitions = opts.repetitions ?? 12;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-steps-'));
  const fake = new FakeAnthropic();
  await fake.start();
  fake.script(HTTP_LONGHAUL_MARKER, (req) => {
    if (req.assistantTurns === 0 && req.goal.includes(WRITES_MARKER)) return { toolUses: [{ name: 'workspace_write', input: { path: 'notes.txt', content: 'notes' } }] };
    return req.assistantTurns < steps ? { toolUses: [{ name: 'workspace_list', input: {} }] } : { text: 'done' };
  });
  fake.script(HTTP_BASELINE_MARKER, (req) => {
    const [, turn, total] = /turn=(\d+) steps=(\d+)/.exec(req.goal)!.map(Number);
    return turn! > total! ? { text: 'done' } : { toolUses: [{ name: 'workspace_list', input: {} }] };
  });

  const settings = { LOG_LEVEL: 'silent', SEGMENT_MAX_TURNS: '1000' };
  const scripted = new ScriptedModel(steps);
  const harness: Record<Transport, Harness> = {
    inProcess: await startHarness({ modelFor: () => scripted, env: { ...settings, LLM_MODEL: 'scripted' } }),
    http: await startHarness({ env: { ...settings, ANTHROPIC_API_KEY: fake.apiKey, ANTHROPIC_BASE_URL: fake.url, LLM_MODEL: 'claude-sonnet-5-5' } }),
  };
  const connection = await NativeConnection.connect({ address: process.env.LONGHAUL_TEST_TEMPORAL_ADDRESS! });
  const models: Record<Transport, BenchModel> = { inProcess: inProcessModel, http: httpModel(fake.url, fake.apiKey) };
  const bareWorkers = await Promise.all(
    (['inProcess', 'http'] as const).map(async (transport) => {
      const taskQueue = `bare-${transport}-${Date.now()}`;
      const worker = await Worker.create({ connection, taskQueue, workflowsPath: require.resolve('./bare/workflows'), activities: bareActivities(models[transport]) });
      return { transport, taskQueue, worker, running: worker.run() };
    }),
  );
  const bareQueue = (t: Transport) => bareWorkers.find((w) => w.transport === t)!.taskQueue;
  const graphs = { inProcess: langGraphAgent(path.join(dir, 'langgraph-in-process.sqlite'), models.inProcess), http: langGraphAgent(path.join(dir, 'langgraph-http.sqlite'), models.http) };

  /** The workflow id of each system's latest run, per transport, for the breakdown. */
  const latest: Partial<Record<`${Transport}:${System}`, string>> = {};
  /** Each counted run's workflow id and ms per step, per transport and system, for the breakdown. */
  const counted: Partial<Record<`${Transport}:${System}`, { id: string; msPerStep: number }[]>> = {};
  const runOnce = (transport: Transport, system: System, i: number): Promise<unknown> => {
    const h = harness[transport];
    switch (system) {
      case 'longhaul':
      case 'longhaulDesk':
        return (async () => {
          const marked = system === 'longhaulDesk' ? ` ${WRITES_MARKER}` : '';
          const goal = transport === 'http' ? `steps ${i}${marked} ${HTTP_LONGHAUL_MARKER}` : `steps ${i}${marked}`;
          const id = await h.createRun({ goal, ...(transport === 'inProcess' && { model: 'demo' }), approvals: 'none', limits: { maxSteps: steps + 5 } });
          latest[`${transport}:${system}`] = id;
          return h.client.workflow.getHandle(id).result();
        })();
      case 'bare': {
        const workflowId = `bare-${transport}-${Date.now()}-${i}`;
        latest[`${transport}:bare`] = workflowId;
        return h.client.workflow.execute<typeof bareAgent>('bareAgent', { taskQueue: bareQueue(transport), workflowId, args: [steps] });
      }
      case 'bareLocal':
        return h.client.workflow.execute<typeof bareLocalAgent>('bareLocalAgent', { taskQueue: bareQueue(transport), workflowId: `bare-local-${transport}-${Date.now()}-${i}`, args: [steps] });
      case 'langgraph':
        return graphs[transport].run(`thread-${transport}-${i}`, steps);
    }
  };

  try {
    const perStep: Record<Transport, Record<System, number[]>> = {
      inProcess: { longhaul: [], longhaulDesk: [], bare: [], bareLocal: [], langgraph: [] },
      http: { longhaul: [], longhaulDesk: [], bare: [], bareLocal: [], langgraph: [] },
    };
    // Interleaved: every system and transport once per repetition, so drift hits all alike.
    for (let i = 0; i < repetitions + 1; i++) {
      for (const transport of ['inProcess', 'http'] as const) {
        for (const system of SYSTEMS) {
          const started = performance.now();
          await runOnce(transport, system, i);
          const ms = performance.now() - started;
          if (i > 0) {
            // the first repetition warms caches and is not counted
            perStep[transport][system].push(ms / (steps + 1));
            const id = latest[`${transport}:${system}`];
            if (id) (counted[`${transport}:${system}`] ??= []).push({ id, msPerStep: ms / (steps + 1) });
          }
        }
      }
    }
    const table = (transport: Transport) => {
      const figures = Object.fromEntries(SYSTEMS.map((s) => [s, summarize(perStep[transport][s])])) as Record<System, ReturnType<typeof summarize>>;
      const ratio = (other: System) => Number((figures.longhaul.p50 / figures[other].p50).toFixed(2));
      return {
        msPerStep: figures,
        ratios: {
          longhaulToBare: ratio('bare'),
          longhaulDeskToBare: Number((figures.longhaulDesk.p50 / figures.bare.p50).toFixed(2)),
          longhaulToBareLocal: ratio('bareLocal'),
          longhaulToLangGraph: ratio('langgraph'),
        },
      };
    };
    // Where each system's time per step went (Longhaul's and the bare workflow's, ordinary activities both): every
    // counted run's history, the median of each part; `outsideMs`, what the run's wall time had beyond its history
    // (creating it — for Longhaul through the API — and hearing it ended).
    const breakdown = async (transport: Transport, system: 'longhaul' | 'longhaulDesk' | 'bare') => {
      const runs = await Promise.all(
        (counted[`${transport}:${system}`] ?? []).map(async ({ id, msPerStep }) => {
          const { events } = await harness[transport].client.workflow.getHandle(id).fetchHistory();
          const b = stepBreakdown(events!, steps + 1);
          return { ...b, outsideMs: msPerStep - b.totalMs };
        }),
      );
      const median = (pick: (b: (typeof runs)[number]) => number) => Number(summarize(runs.map(pick)).p50.toFixed(2));
      const types = [...new Set(runs.flatMap((b) => Object.keys(b.activities)))];
      return {
        runs: runs.length,
        totalMs: median((b) => b.totalMs),
        workflowTaskMs: median((b) => b.workflowTaskMs),
        workflowTaskWaitMs: median((b) => b.workflowTaskWaitMs),
        activities: Object.fromEntries(types.map((t) => [t, { runMs: median((b) => b.activities[t]?.runMs ?? 0), waitMs: median((b) => b.activities[t]?.waitMs ?? 0) }])),
        otherMs: median((b) => b.otherMs),
        outsideMs: median((b) => b.outsideMs),
      };
    };
    return {
      steps,
      repetitions,
      inProcess: table('inProcess'),
      http: table('http'),
      perStepFromHistory: {
        inProcess: { longhaul: await breakdown('inProcess', 'longhaul'), longhaulDesk: await breakdown('inProcess', 'longhaulDesk'), bare: await breakdown('inProcess', 'bare') },
        http: { longhaul: await breakdown('http', 'longhaul'), longhaulDesk: await breakdown('http', 'longhaulDesk'), bare: await breakdown('http', 'bare') },
      },
      goals: { longhaulToBare: 1.3 },
    };
  } finally {
    for (const w of bareWorkers) w.worker.shutdown();
    await Promise.all(bareWorkers.map((w) => w.running));
    await connection.close();
    for (const h of Object.values(harness)) await h.close();
    await fake.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
