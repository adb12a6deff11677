/**
 * invoice_checker, offline: the real Longhaul workflow and activities on Temporal's time-skipping test
 * server and a temporary store, with a scripted model in place of Claude. Each test gets its own invoice
 * book, so what the tools did is read straight from it.
 */
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { createTestEnvironment, scriptedModel, type ScriptedAnswer, type TestEnvironment } from 'longhaul/testing';
import worker from '../src/worker';
import { INVOICE_CHECKER_INSTRUCTIONS } from '../src/agents/invoice-checker';
import { sampleDeps, type Deps } from '../src/deps';

let env: TestEnvironment | undefined;
let deps: Deps;

async function start(answers: ScriptedAnswer[]): Promise<TestEnvironment> {
  deps = sampleDeps();
  // The entry's definition with a fresh book as its deps.
  env = await createTestEnvironment({ worker: { ...worker, deps }, model: scriptedModel(answers) });
  return env;
}

afterEach(async () => {
  await env?.close();
  env = undefined;
});

const INPUT = { invoiceId: 'INV-1', amountCents: 4200 };

/** The model looks INV-1 up, then asks to pay it. */
const LOOK_UP_AND_PAY: ScriptedAnswer[] = [
  { toolCalls: [{ name: 'lookup_invoice', input: { invoiceId: 'INV-1' } }] },
  { text: 'It matches: paying.', toolCalls: [{ name: 'pay_invoice', input: INPUT }] },
];

test('an invoice that matches is paid once a person approves, and the result says so', async () => {
  const env = await start([...LOOK_UP_AND_PAY, { output: { approved: true, reason: 'INV-1 is open and matches 4200 cents.' } }]);
  const run = await env.startRun({ agent: 'invoice_checker', input: INPUT });

  const approval = await run.waitForApproval();
  assert.equal(approval.tool, 'pay_invoice');
  assert.deepEqual(approval.input, INPUT);
  assert.deepEqual(deps.invoices.payments(), [], 'nothing is paid before the approval');
  await run.approve('matches PO-100');

  const { output } = await run.result();
  assert.deepEqual(output, { approved: true, reason: 'INV-1 is open and matches 4200 cents.' });
  // The tool's effect, in the deps: paid once, for the run's owner, under the call's idempotency key.
  const payments = deps.invoices.payments();
  assert.equal(payments.length, 1);
  assert.deepEqual({ ...payments[0], idempotencyKey: undefined }, { paymentId: 'PAY-1', invoiceId: 'INV-1', amountCents: 4200, paidBy: 'tester', idempotencyKey: undefined });
  assert.ok(payments[0]!.idempotencyKey.length > 0);
  assert.equal(deps.invoices.get('INV-1')!.status, 'paid');
  const completed = await run.events('run.completed');
  assert.deepEqual(completed[0]?.data.output, output);

  // What the model was given: the agent's instructions, its two tools and final_result, and the input as JSON.
  const [first] = env.modelRequests();
  assert.ok(first);
  assert.equal(first.system, INVOICE_CHECKER_INSTRUCTIONS);
  assert.deepEqual(first.tools.map((t) => t.name).sort(), ['final_result', 'lookup_invoice', 'pay_invoice']);
  const resultTool = first.tools.find((t) => t.name === 'final_result')!;
  assert.deepEqual(Object.keys((resultTool.input_schema as { properties: object }).properties).sort(), ['approved', 'reason']);
  assert.equal(textOf(first.messages[0]), `Input: ${JSON.stringify(INPUT)}`);
  // The lookup's result reached the model before it asked to pay.
  assert.match(JSON.stringify(env.modelRequests()[1]!.messages.at(-1)), /PO-100/);
});

test('a rejected payment is not made, and the model hears the approver', async () => {
  const env = await start([...LOOK_UP_AND_PAY, { output: { approved: false, reason: 'The approver rejected it: amount disputed with Acme.' } }]);
  const run = await env.startRun({ agent: 'invoice_checker', input: INPUT });

  await run.waitForApproval();
  await run.reject('amount disputed with Acme');

  const { output } = await run.result();
  assert.deepEqual(output, { approved: false, reason: 'The approver rejected it: amount disputed with Acme.' });
  assert.deepEqual(deps.invoices.payments(), []);
  assert.equal(deps.invoices.get('INV-1')!.status, 'open');
  const pay = (await run.toolCalls()).find((c) => c.name === 'pay_invoice');
  assert.equal(pay?.outcome, 'skipped');
  assert.match(JSON.stringify(env.modelRequests().at(-1)!.messages.at(-1)), /amount disputed with Acme/);
});

test('a final result that fails the output schema goes back to the model with what is wrong, and the next one is the output', async () => {
  const env = await start([
    { toolCalls: [{ name: 'lookup_invoice', input: { invoiceId: 'INV-1' } }] },
    { output: { approved: 'no', reason: '' } },
    { output: { approved: false, reason: 'Not paid: checked only.' } },
  ]);
  const run = await env.startRun({ agent: 'invoice_checker', input: INPUT });

  const { output } = await run.result();
  assert.deepEqual(output, { approved: false, reason: 'Not paid: checked only.' });
  // The rejected answer's errors, by path, were the model's next message.
  const told = JSON.stringify(env.modelRequests()[2]!.messages.at(-1));
  assert.match(told, /\/approved/);
  assert.match(told, /\/reason/);
});

test('a final result that never validates fails the run with output_invalid after outputRetries', async () => {
  const wrong: ScriptedAnswer = { output: { approved: 'maybe' } };
  const env = await start([wrong, wrong, wrong]);
  const run = await env.startRun({ agent: 'invoice_checker', input: INPUT });

  await assert.rejects(run.result(), { name: 'RunFailedError', code: 'output_invalid' });
  // The first answer and two retries (outputRetries: 2).
  assert.equal(env.modelRequests().length, 3);
});

test('an approval nobody decides expires after 24 hours, in well under a second of wall time', async () => {
  const env = await start([...LOOK_UP_AND_PAY, { output: { approved: false, reason: 'Nobody approved the payment within a day.' } }]);
  const run = await env.startRun({ agent: 'invoice_checker', input: INPUT });

  const approval = await run.waitForApproval();
  assert.equal(Date.parse(approval.expiresAt) - Date.parse(approval.requestedAt), 24 * 3600 * 1000);
  const waited = Date.now();
  const { output } = await run.result();
  const wallMs = Date.now() - waited;
  assert.ok(wallMs < 1000, `the day passed in ${wallMs} ms`);

  assert.deepEqual(output, { approved: false, reason: 'Nobody approved the payment within a day.' });
  assert.deepEqual((await run.events('approval.expired')).map((e) => e.data.tool), ['pay_invoice']);
  assert.deepEqual(deps.invoices.payments(), []);
});

test('pay_invoice asks a person even when the run asks for no approvals (the agent says always)', async () => {
  const env = await start([...LOOK_UP_AND_PAY, { output: { approved: true, reason: 'Paid.' } }]);
  const run = await env.startRun({ agent: 'invoice_checker', input: INPUT, approvals: 'none' });

  const approval = await run.waitForApproval();
  assert.equal(approval.tool, 'pay_invoice');
  await run.approve();
  await run.result();
  assert.equal(deps.invoices.payments().length, 1);
});

test('an input that fails the agent schema is refused with its path, before any model call', async () => {
  const env = await start([]);
  await assert.rejects(env.startRun({ agent: 'invoice_checker', input: { invoiceId: 'bill 7', amountCents: -1 } }), (err: { status?: number; code?: string; details?: { path: string }[] }) => {
    assert.equal(err.status, 400);
    assert.equal(err.code, 'invalid_input');
    assert.deepEqual(err.details?.map((d) => d.path).sort(), ['/amountCents', '/invoiceId']);
    return true;
  });
  assert.deepEqual(env.modelRequests(), []);
});

/** A message's text, whether it is a string or text blocks. */
function textOf(message: { content: unknown } | undefined): string {
  const content = message?.content;
  if (typeof content === 'string') return content;
  return (content as { type: string; text?: string }[]).map((b) => b.text ?? '').join('');
}
