/** pay_invoice on its own: the same idempotency key pays once; a mismatch is an error the model hears. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ToolError, type ToolContext } from 'longhaul/worker';
import { sampleDeps, type Deps } from '../src/deps';
import { payInvoice } from '../src/tools/pay-invoice';

/** The parts of a tool call's context pay_invoice uses. */
function context(deps: Deps, idempotencyKey: string): ToolContext<Deps> {
  return { deps, idempotencyKey, run: { runId: 'run-1', owner: 'dana', agent: 'invoice_checker', input: null, goal: '', metadata: null } } as ToolContext<Deps>;
}

test('a call sent again with its idempotency key pays once, and returns the same payment', async () => {
  const deps = sampleDeps();
  const first = await payInvoice.run({ invoiceId: 'INV-3', amountCents: 9900 }, context(deps, 'key-1'));
  const again = await payInvoice.run({ invoiceId: 'INV-3', amountCents: 9900 }, context(deps, 'key-1'));
  assert.deepEqual(again, first);
  assert.deepEqual(deps.invoices.payments(), [{ paymentId: 'PAY-1', invoiceId: 'INV-3', amountCents: 9900, paidBy: 'dana', idempotencyKey: 'key-1' }]);
});

test('a wrong amount, an unknown invoice or a second payment is a ToolError, and pays nothing', async () => {
  const deps = sampleDeps();
  await assert.rejects(payInvoice.run({ invoiceId: 'INV-3', amountCents: 1 }, context(deps, 'k1')), (err) => err instanceof ToolError && /9900 cents, not 1/.test(err.message));
  await assert.rejects(payInvoice.run({ invoiceId: 'INV-9', amountCents: 1 }, context(deps, 'k2')), ToolError);
  assert.deepEqual(deps.invoices.payments(), []);
  await payInvoice.run({ invoiceId: 'INV-3', amountCents: 9900 }, context(deps, 'k3'));
  await assert.rejects(payInvoice.run({ invoiceId: 'INV-3', amountCents: 9900 }, context(deps, 'k4')), /paid already/);
  assert.equal(deps.invoices.payments().length, 1);
});
