/**
 * OpenTelemetry across processes: with OTEL_EXPORTER_OTLP_ENDPOINT set, an HTTP request that
 * starts a run, the Temporal client's start, the workflow, its activities, and the model and tool
 * calls inside them arrive at a local OTLP receiver as one trace — from the API process and the
 * worker process — with the model, tokens, tool name, idempotency key and outcome on their spans.
 */
import { FakeAnthropic } from '../support/fake-anthropic';
import { startHarness, type Harness } from '../support/harness';
import { OtlpReceiver } from '../support/otlp-receiver';
import { freePort } from '../support/ports';
import { startApiProcess, startWorkerProcess, type ChildHandle } from '../support/processes';
import { waitFor } from '../support/wait';

describe('traces', () => {
  const fake = new FakeAnthropic();
  const receiver = new OtlpReceiver();
  let h: Harness;
  const children: ChildHandle[] = [];

  beforeAll(async () => {
    await fake.start();
    await receiver.start();
    h = await startHarness({ noWorker: true, env: { ANTHROPIC_API_KEY: fake.apiKey, ANTHROPIC_BASE_URL: fake.url, LLM_MODEL: 'claude-sonnet-5-5' } });
  });
  afterAll(async () => {
    for (const c of children) await c.kill('SIGKILL');
    await h.close();
    await receiver.stop();
    await fake.stop();
  });

  it('follows a request into the workflow, its activities and its model and tool calls, as one trace', async () => {
    const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '100' };
    children.push(await startWorkerProcess({ ...h.env, ...otel }, { plain: true }));
    const port = await freePort();
    children.push(await startApiProcess({ ...h.env, ...otel, PORT: String(port) }));
    fake.script('[trace-me]', (req) =>
      req.assistantTurns === 0 ? { text: 'Writing it down.', toolUses: [{ name: 'workspace_write', input: { path: 't.md', content: 'traced' } }] } : { text: 'Traced.' },
    );
    const res = await fetch(`http://127.0.0.1:${port}/api/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ goal: 'Trace me [trace-me]', approvals: 'none' }) });
    const { id } = (await res.json()) as { id: string };
    h.track(id, 'Trace me [trace-me]'); // a traced run's history: a replay fixture of its own
    await h.waitForStatus(id, 'completed');

    const request = () => receiver.spans.find((s) => s.service === 'longhaul-api' && s.name === 'POST /api/runs/');
    await waitFor(() => !!request(), { what: () => `the API's request span (got ${receiver.spans.map((s) => `${s.service}:${s.name}`).join(', ')})` });
    const traceId = request()!.traceId;
    const inTrace = () => receiver.spans.filter((s) => s.traceId === traceId);
    const names = () => inTrace().map((s) => `${s.service}:${s.name}`);
    await waitFor(() => inTrace().filter((s) => s.name === 'model.call').length === 2 && inTrace().some((s) => s.name === 'tool.call') && inTrace().some((s) => s.name === 'RunWorkflow:agentRunWorkflow'), {
      what: () => `the model and tool spans in the request's trace (has ${names().join(', ')})`,
    });

    // Both processes, and every layer: API request → client start → workflow → activities → calls.
    expect(names()).toEqual(
      expect.arrayContaining([
        'longhaul-api:POST /api/runs/',
        'longhaul-api:StartWorkflow:agentRunWorkflow',
        'longhaul-worker:RunWorkflow:agentRunWorkflow',
        'longhaul-worker:RunActivity:callModel',
        'longhaul-worker:RunActivity:runTool',
        'longhaul-worker:model.call',
        'longhaul-worker:tool.call',
      ]),
    );
    const byId = new Map(inTrace().map((s) => [s.spanId, s]));
    const parentName = (s: { parentSpanId: string }) => byId.get(s.parentSpanId)?.name;
    const model = inTrace().find((s) => s.name === 'model.call')!;
    expect(parentName(model)).toBe('RunActivity:callModel');
    expect(model.attributes).toMatchObject({ 'gen_ai.request.model': 'claude-sonnet-5-5', 'longhaul.run_id': id, 'longhaul.outcome': 'ok' });
    expect(model.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
    expect(String(model.attributes['longhaul.idempotency_key'])).toContain(id);
    const tool = inTrace().find((s) => s.name === 'tool.call')!;
    expect(parentName(tool)).toBe('RunActivity:runTool');
    expect(tool.attributes).toMatchObject({ 'longhaul.tool': 'workspace_write', 'longhaul.outcome': 'ok', 'longhaul.run_id': id });
    expect(String(tool.attributes['longhaul.idempotency_key'])).toContain(id);
    expect(parentName(inTrace().find((s) => s.name === 'StartWorkflow:agentRunWorkflow')!)).toBe('POST /api/runs/');
  });
});
