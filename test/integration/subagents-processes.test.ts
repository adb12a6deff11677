/**
 * Sub-agents across worker processes (test/support/subagents-worker.ts, the fake Messages API over HTTP, Postgres or
 * SQLite as the suite runs): a worker SIGKILLed while a lead's children run, each child in the middle of an effect,
 * and the children then finished by a second process that serves the child agent alone, the lead's own agent
 * served by nobody until a third process comes.
 *
 * What it holds to: every child completes; no child is started twice (one `runs` row and one workflow execution per
 * child id, one `subagent.started` each); no effect happens twice (the outside world applies each once, under the one
 * idempotency key its child's call gives); a child runs on another process than its parent; and the parent, once a
 * worker serves it again, answers from every child's result.
 */
import type { HistoryEvent } from '../support/history-calls';
import { CountingServer } from '../support/counting-server';
import { FakeAnthropic } from '../support/fake-anthropic';
import { startHarness, type Harness } from '../support/harness';
import { startWorkerProcess, type ChildHandle } from '../support/processes';
import { waitFor } from '../support/wait';

const CHILDREN = 3;
const ENTRY = 'test/support/subagents-worker.ts';

describe('sub-agents across worker processes', () => {
  const fake = new FakeAnthropic();
  const outside = new CountingServer();
  const workers: ChildHandle[] = [];
  let h: Harness;

  const env = () => ({
    ANTHROPIC_API_KEY: fake.apiKey,
    ANTHROPIC_BASE_URL: fake.url,
    LLM_MODEL: 'claude-sonnet-5-5',
    HTTP_TOOL_ALLOWED_HOSTS: outside.host,
    // The counting server applies a request once per Idempotency-Key: an interrupted one is re-sent, not asked about.
    HTTP_TOOL_IDEMPOTENT_HOSTS: outside.host,
    ACTIVITY_HEARTBEAT_TIMEOUT_SEC: '2',
    ACTIVITY_MAX_ATTEMPTS: '12',
    WORKER_STICKY_TIMEOUT_SEC: '2',
  });
  async function spawnWorker(agents?: string): Promise<ChildHandle> {
    const w = await startWorkerProcess({ ...h.env, ...(agents && { SUBAGENTS_WORKER_AGENTS: agents }) }, { entry: ENTRY });
    workers.push(w);
    return w;
  }

  beforeAll(async () => {
    await fake.start();
    await outside.start();
    h = await startHarness({ noWorker: true, env: env() });
  });
  afterAll(async () => {
    for (const w of workers) await w.kill('SIGKILL');
    await h?.close();
    await fake.stop();
    await outside.stop();
  });

  it('finishes every child once, each effect once, after the worker running them is SIGKILLed; the children on another process than their parent', async () => {
    fake.script('[subkill-lead]', (req) =>
      req.assistantTurns === 0
        ? { text: 'Delegating.', toolUses: Array.from({ length: CHILDREN }, (_, n) => ({ name: 'researcher', input: { task: `Find fact ${n} [subkill-child]` } })) }
        : { text: `Report: ${req.lastToolResults.map((r) => r.content).join(' | ')}` },
    );
    fake.script('[subkill-child]', (req) => {
      const n = /Find fact (\d+)/.exec(req.goal)![1];
      return req.assistantTurns === 0
        ? { toolUses: [{ name: 'http_request', input: { method: 'POST', url: `${outside.url}/facts/${n}`, body: '{}' } }] }
        : { text: `fact ${n}` };
    });
    outside.hold((r) => r.path.startsWith('/facts/'));

    const first = await spawnWorker();
    const id = await h.createRun({ goal: 'Report [subkill-lead]', agent: 'lead', approvals: 'none' });
    // Every child is in the middle of its effect: the outside world has it, nobody has recorded it.
    await waitFor(() => outside.heldCount() === CHILDREN, { timeoutMs: 60_000, what: 'every child to reach its effect' });
    await first.kill('SIGKILL');
    outside.release();

    // The child agent alone: its runs go on here, the lead's run waits for a worker serving its agent.
    const second = await spawnWorker('researcher');
    const children = await h.store.runs.children(id);
    expect(children).toHaveLength(CHILDREN);
    for (const child of children) {
      h.track(child.id, '[researcher]');
      expect((await h.waitForStatus(child.id, ['completed', 'failed', 'cancelled'], { timeoutMs: 120_000 })).status).toBe('completed');
    }
    expect((await h.store.runs.get(id))!.status).not.toBe('completed');
    for (const child of children) {
      const events: HistoryEvent[] = (await h.client.workflow.getHandle(child.id).fetchHistory()).events ?? [];
      const lastTask = events.filter((e) => e.workflowTaskCompletedEventAttributes).at(-1);
      expect(lastTask?.workflowTaskCompletedEventAttributes?.identity).toMatch(new RegExp(`^${second.pid}@`));
    }

    // A worker serving the lead again: it answers from every child's result.
    await spawnWorker();
    const lead = await h.waitForStatus(id, ['completed', 'failed', 'cancelled'], { timeoutMs: 120_000 });
    expect(lead.status).toBe('completed');
    expect(lead.result).toBe(`Report: ${Array.from({ length: CHILDREN }, (_, n) => `fact ${n}`).join(' | ')}`);

    // No child started twice: one row, one workflow execution and one subagent.started per child.
    expect(await h.store.runs.countChildren(id)).toBe(CHILDREN);
    const leadEvents = await h.events(id);
    expect(leadEvents.filter((e) => e.type === 'subagent.started')).toHaveLength(CHILDREN);
    expect(leadEvents.filter((e) => e.type === 'subagent.completed')).toHaveLength(CHILDREN);
    for (const child of children) {
      const executions = [];
      for await (const execution of h.client.workflow.list({ query: `WorkflowId = '${child.id}'` })) executions.push(execution.runId);
      expect(executions).toHaveLength(1);
    }
    // No effect twice: each applied once, under its child's call's one key, recorded once in the ledger.
    for (const child of children) {
      const n = /Find fact (\d+)/.exec(child.goal)![1];
      const events = await h.events(child.id);
      const done = events.find((e) => e.type === 'tool.completed');
      if (done?.type !== 'tool.completed') throw new Error(`child ${child.id} recorded no completed call`);
      const { toolUseId } = done.data;
      const key = `${child.id}:turn:1:tool:${toolUseId}`;
      expect(new Set(outside.requests.filter((r) => r.path === `/facts/${n}`).map((r) => r.idempotencyKey))).toEqual(new Set([key]));
      expect(outside.applied.filter((r) => r.path === `/facts/${n}`)).toHaveLength(1);
      expect(await h.store.effects.get(key)).toMatchObject({ status: 'completed' });
      expect(events.filter((e) => e.type === 'tool.completed')).toHaveLength(1);
      expect(events.filter((e) => e.type === 'run.completed')).toHaveLength(1);
    }
  });
});
