/**
 * longhaul/testing as a developer uses it: an agent's runs on the real workflow and activities, on the
 * time-skipping test server, with a scripted model. Today's default agent with a worker's own tools; the
 * agent + input + output cases run once the API takes `agent` and `input` (issue 24).
 */
import { z } from 'zod';
import { waitFor } from '../support/wait';
import { defineTool } from '../../activities/tools/tool';
import type { AgentDefinition, WorkerDefinition } from '../../activities/agents/agent-definition';
import { SYSTEM_PROMPT } from '../../activities/model/prompts';
import { OUTPUT_TOOL } from '../../contract/agents';
import { ApiError, createTestEnvironment, RunFailedError, scriptedModel, type ScriptedAnswer, type ScriptedModel, type TestConfig, type TestEnvironment } from '../../testing';

/** What the invoice tools did, so a test can tell a call that ran from one that did not. */
const paid: { invoiceId: string; amountCents: number; owner: string }[] = [];

const lookupInvoice = defineTool({
  name: 'lookup_invoice',
  description: 'Looks an invoice up by its id.',
  input: z.object({ invoiceId: z.string() }),
  risk: 'read',
  run: async ({ invoiceId }) => ({ invoiceId, amountCents: 4200, vendor: 'Acme' }),
});

const payInvoice = defineTool({
  name: 'pay_invoice',
  description: 'Pays an invoice.',
  input: z.object({ invoiceId: z.string(), amountCents: z.number().int() }),
  risk: 'irreversible',
  run: async ({ invoiceId, amountCents }, ctx) => {
    paid.push({ invoiceId, amountCents, owner: ctx.run.owner });
    return `paid ${invoiceId}`;
  },
});

/** The worker entry's default export, as a developer writes it (agents come with issue 24's define work). */
const worker: WorkerDefinition = { agents: [], tools: [lookupInvoice, payInvoice] };

/** The bundle global setup made, so that each environment does not bundle the workflows again. */
const config: TestConfig = process.env.LONGHAUL_TEST_WORKFLOW_BUNDLE ? { WORKFLOW_BUNDLE_PATH: process.env.LONGHAUL_TEST_WORKFLOW_BUNDLE } : {};

const payingAnswers: ScriptedAnswer[] = [
  { toolCalls: [{ name: 'lookup_invoice', input: { invoiceId: 'INV-1' } }] },
  { text: 'Paying.', toolCalls: [{ name: 'pay_invoice', input: { invoiceId: 'INV-1', amountCents: 4200 } }] },
  { text: 'Done: INV-1 is handled.' },
];
const payingScript = () => scriptedModel(payingAnswers);

describe('longhaul/testing on the time-skipping test server', () => {
  let env: TestEnvironment | undefined;
  const start = async (model: ScriptedModel) => (env = await createTestEnvironment({ worker, model, config }));

  beforeEach(() => {
    paid.length = 0;
  });
  afterEach(async () => {
    await env?.close();
    env = undefined;
  });

  it('runs a goal with scripted tool calls; an approved call runs, and the result, events and tool calls show it', async () => {
    const env = await start(payingScript());
    const run = await env.startRun({ goal: 'Pay invoice INV-1 if it matches the order' });

    const approval = await run.waitForApproval();
    expect(approval).toMatchObject({ tool: 'pay_invoice', input: { invoiceId: 'INV-1', amountCents: 4200 }, risk: 'irreversible', status: 'pending' });
    expect(paid).toEqual([]); // nothing paid while it waits
    await run.approve('matches the order');

    const outcome = await run.result();
    expect(outcome).toMatchObject({ status: 'completed', result: 'Done: INV-1 is handled.', turns: 3, output: null });
    expect(outcome.usage.inputTokens).toBeGreaterThan(0);
    expect(paid).toEqual([{ invoiceId: 'INV-1', amountCents: 4200, owner: run.owner }]);

    expect(await run.toolCalls()).toEqual([
      expect.objectContaining({ name: 'lookup_invoice', input: { invoiceId: 'INV-1' }, risk: 'read', outcome: 'completed', result: expect.stringContaining('Acme') }),
      expect.objectContaining({ name: 'pay_invoice', risk: 'irreversible', outcome: 'completed', result: 'paid INV-1' }),
    ]);
    const decided = await run.events('approval.decided');
    expect(decided.map((e) => e.data)).toEqual([expect.objectContaining({ tool: 'pay_invoice', decision: 'approved', comment: 'matches the order' })]);
    expect((await run.events()).map((e) => e.type)).toEqual(expect.arrayContaining(['run.queued', 'run.started', 'llm.message', 'approval.requested', 'tool.completed', 'run.completed']));
  });

  it('a rejected call does not run, and the model is told why', async () => {
    const env = await start(payingScript());
    const run = await env.startRun({ goal: 'Pay invoice INV-1' });
    await run.waitForApproval();
    await run.reject('wrong amount');
    await run.result();

    expect(paid).toEqual([]);
    const pay = (await run.toolCalls()).find((c) => c.name === 'pay_invoice');
    expect(pay).toMatchObject({ outcome: 'skipped', result: expect.stringContaining('Their comment: wrong amount') });
    // The last model call saw the rejection as the call's result.
    const last = env.modelRequests().at(-1)!;
    expect(JSON.stringify(last.messages.at(-1))).toContain('rejected this pay_invoice call');
  });

  it('an approval nobody decides expires after 24 hours of server time, in well under a second of wall time', async () => {
    const env = await start(payingScript());
    // A time cap beyond the approval's day, so the run goes on after the expiry.
    const run = await env.startRun({ goal: 'Pay invoice INV-1', limits: { maxDurationSec: 3 * 24 * 3600 } });
    const approval = await run.waitForApproval();
    expect(Date.parse(approval.expiresAt) - Date.parse(approval.requestedAt)).toBe(24 * 3600 * 1000);

    const waited = Date.now();
    const outcome = await run.result();
    expect(Date.now() - waited).toBeLessThan(1000);

    expect(outcome.status).toBe('completed');
    expect(paid).toEqual([]);
    expect((await run.events('approval.expired')).map((e) => e.data.tool)).toEqual(['pay_invoice']);
    expect((await run.toolCalls()).find((c) => c.name === 'pay_invoice')).toMatchObject({ outcome: 'skipped', result: expect.stringContaining('expired') });
  });

  it('time skips while a test waits for a question: an approval asked for first expires undecided', async () => {
    const env = await start(
      scriptedModel([
        { toolCalls: [{ name: 'pay_invoice', input: { invoiceId: 'INV-4', amountCents: 1 } }] },
        { toolCalls: [{ name: 'ask_user', input: { question: 'Nobody approved. Try again tomorrow?' } }] },
        { text: 'Stopping.' },
      ]),
    );
    const run = await env.startRun({ goal: 'Pay invoice INV-4', limits: { maxDurationSec: 3 * 24 * 3600 } });
    const waited = Date.now();
    expect(await run.waitForQuestion()).toMatchObject({ question: 'Nobody approved. Try again tomorrow?' });
    expect(Date.now() - waited).toBeLessThan(5000);
    expect((await run.events('approval.expired')).map((e) => e.data.tool)).toEqual(['pay_invoice']);
    // Time stopped when it asked: the run comes to wait for the answer, and the question does not expire.
    await waitFor(async () => (await run.record()).status === 'waiting_input', { what: 'the run to wait for its answer' });
    expect(await run.events('input.expired')).toEqual([]);
    await run.answer('no');
    expect(await run.result()).toMatchObject({ result: 'Stopping.' });
    expect(paid).toEqual([]);
  });

  it('takes a function of the request, which sees what the model is sent', async () => {
    const env = await start(
      scriptedModel(({ messages }) => {
        const last = JSON.stringify(messages.at(-1));
        if (!last.includes('tool_result')) return { toolCalls: [{ name: 'lookup_invoice', input: { invoiceId: 'INV-7' } }] };
        return { text: last.includes('Acme') ? 'INV-7 is from Acme.' : 'No vendor found.' };
      }),
    );
    const run = await env.startRun({ goal: 'Who sent INV-7?' });
    expect(await run.result()).toMatchObject({ status: 'completed', result: 'INV-7 is from Acme.', turns: 2 });
  });

  it('modelRequests show the system prompt, the tools and the goal the model was given', async () => {
    const env = await start(scriptedModel([{ text: 'Nothing to do.' }]));
    const run = await env.startRun({ goal: 'Check invoice INV-2' });
    await run.result();

    const [first, ...rest] = env.modelRequests();
    expect(rest).toEqual([]);
    expect(first!.system).toBe(SYSTEM_PROMPT);
    const tools = first!.tools.map((t) => t.name);
    expect(tools).toEqual(expect.arrayContaining(['lookup_invoice', 'pay_invoice', 'workspace_read', 'ask_user']));
    expect(first!.tools.find((t) => t.name === 'pay_invoice')!.input_schema).toMatchObject({ properties: { invoiceId: { type: 'string' }, amountCents: { type: 'integer' } } });
    expect(JSON.stringify(first!.messages[0])).toContain('Check invoice INV-2');
  });

  it('a list of answers that runs out fails the run, saying so', async () => {
    const env = await start(scriptedModel([{ toolCalls: [{ name: 'lookup_invoice', input: { invoiceId: 'INV-3' } }] }]));
    const run = await env.startRun({ goal: 'Check invoice INV-3' });
    // It ends before it ever asks for an approval: the wait says so rather than waiting on.
    await expect(run.waitForApproval()).rejects.toThrow(/ended failed .*without asking for an approval/);
    const failure = await run.result().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(RunFailedError);
    expect(failure).toMatchObject({ status: 'failed', code: 'internal', message: expect.stringContaining('the scripted model has no answer for model call 2: it was given 1 answer, all used') });
  });

  it('answers a question and takes a follow-up message after the run ended', async () => {
    const env = await start(
      scriptedModel([
        { toolCalls: [{ name: 'ask_user', input: { question: 'Which invoice?' } }] },
        { text: 'Looking at INV-9.' },
        { text: 'INV-9 is paid already.' },
      ]),
    );
    const run = await env.startRun({ goal: 'Check an invoice' });
    expect(await run.waitForQuestion()).toMatchObject({ question: 'Which invoice?' });
    await run.answer('INV-9');
    expect(await run.result()).toMatchObject({ result: 'Looking at INV-9.' });
    expect(await run.toolCalls()).toEqual([expect.objectContaining({ name: 'ask_user', outcome: 'completed', result: 'INV-9' })]);

    expect(await run.message('Is it paid?')).toMatchObject({ continued: true });
    expect(await run.result()).toMatchObject({ result: 'INV-9 is paid already.' });
    expect(JSON.stringify(env.modelRequests().at(-1)!.messages)).toContain('Is it paid?');
  });

  it('refuses a bad request as the API does', async () => {
    const env = await start(scriptedModel([]));
    await expect(env.startRun({ goal: '' })).rejects.toMatchObject({ status: 400, code: 'invalid_request' });
    await expect(env.startRun({ goal: 'too long', limits: { maxSteps: 1_000_000 } })).rejects.toBeInstanceOf(ApiError);
  });
});

/**
 * Cancelling is tested here: the time-skipping test server (1.38) refuses a workflow task that cancels an
 * activity it scheduled but no worker started yet (ACTIVITY_UNKNOWN), which a run cancelled just as it
 * begins to wait for a human does (its approvers' announcement is such an activity), and the run then stalls.
 */
describe('longhaul/testing on a dev server', () => {
  it('runs the same way in real time, and a cancelled run makes result() throw with the code cancelled', async () => {
    const env = await createTestEnvironment({
      worker,
      model: scriptedModel([...payingAnswers, { toolCalls: [{ name: 'pay_invoice', input: { invoiceId: 'INV-2', amountCents: 1 } }] }]),
      config,
      server: 'dev',
    });
    try {
      const run = await env.startRun({ goal: 'Pay invoice INV-1' });
      await run.waitForApproval();
      await run.approve();
      expect(await run.result()).toMatchObject({ status: 'completed', result: 'Done: INV-1 is handled.' });
      expect(paid.at(-1)).toMatchObject({ invoiceId: 'INV-1' });

      const cancelled = await env.startRun({ goal: 'Pay invoice INV-2' });
      await cancelled.waitForApproval();
      await cancelled.cancel();
      await expect(cancelled.result()).rejects.toMatchObject({ name: 'RunFailedError', status: 'cancelled', code: 'cancelled' });
      expect(paid.at(-1)).toMatchObject({ invoiceId: 'INV-1' });
    } finally {
      await env.close();
    }
  });
});

/**
 * Agents as code: a defined agent with structured input and output. Runs once the API takes `agent` and
 * `input` (issue 24's api work) and the worker serves the definition's agents (its define work).
 */

const invoiceChecker: AgentDefinition = {
  name: 'invoice_checker',
  description: 'Checks an invoice against its order and pays it.',
  instructions: 'You check invoices. Look the invoice up, pay it if it matches, and give your verdict.',
  tools: [lookupInvoice, payInvoice],
  approvals: 'write',
  input: z.object({ invoiceId: z.string(), amountCents: z.number().int() }),
  output: z.object({ approved: z.boolean(), reason: z.string() }),
};
const agentWorker: WorkerDefinition = { agents: [invoiceChecker] };

describe('longhaul/testing with a defined agent (agent + input + output)', () => {
  let env: TestEnvironment | undefined;
  afterEach(async () => {
    await env?.close();
    env = undefined;
  });

  it('runs the issue example: structured input in, an approval, structured output out', async () => {
    env = await createTestEnvironment({
      worker: agentWorker,
      config,
      model: scriptedModel([
        { toolCalls: [{ name: 'lookup_invoice', input: { invoiceId: 'INV-1' } }] },
        { text: 'Paying.', toolCalls: [{ name: 'pay_invoice', input: { invoiceId: 'INV-1', amountCents: 4200 } }] },
        { output: { approved: true, reason: 'matches the order' } },
      ]),
    });
    const run = await env.startRun({ agent: 'invoice_checker', input: { invoiceId: 'INV-1', amountCents: 4200 } });
    await run.waitForApproval();
    await run.approve();
    const { output } = await run.result();
    expect(output).toEqual({ approved: true, reason: 'matches the order' });
    expect((await run.events('run.completed'))[0]!.data.output).toEqual(output);

    const [first] = env.modelRequests();
    expect(first!.system).toBe(invoiceChecker.instructions);
    expect(first!.tools.map((t) => t.name).sort()).toEqual(['lookup_invoice', OUTPUT_TOOL, 'pay_invoice'].sort());
    expect(JSON.stringify(first!.messages[0])).toContain('INV-1');
  });

  it('refuses an input that fails the agent schema with 400 invalid_input, and an unknown agent with unknown_agent', async () => {
    env = await createTestEnvironment({ worker: agentWorker, config, model: scriptedModel([]) });
    await expect(env.startRun({ agent: 'invoice_checker', input: { invoiceId: 7 } })).rejects.toMatchObject({ status: 400, code: 'invalid_input' });
    await expect(env.startRun({ agent: 'no_such_agent', input: {} })).rejects.toMatchObject({ status: 400, code: 'unknown_agent' });
  });

  it('fails a run whose output never validates with output_invalid', async () => {
    const wrong = { output: { approved: 'yes' } };
    env = await createTestEnvironment({ worker: agentWorker, config, model: scriptedModel([wrong, wrong, wrong, wrong]) });
    const run = await env.startRun({ agent: 'invoice_checker', input: { invoiceId: 'INV-1', amountCents: 4200 } });
    await expect(run.result()).rejects.toMatchObject({ name: 'RunFailedError', code: 'output_invalid' });
    // Each rejection went back to the model with what was wrong.
    expect(JSON.stringify(env.modelRequests().at(-1)!.messages.at(-1))).toContain('approved');
  });
});
