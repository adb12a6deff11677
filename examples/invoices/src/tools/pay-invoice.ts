/**
 * Pays an invoice. Money that has left cannot be called back, so the tool is `irreversible`, and the
 * invoice_checker agent asks a person before every call of it whatever the run's policy. The worker that
 * runs the call checks the approval itself. The book deduplicates by the call's idempotency key, so the
 * tool is `idempotent`: a call interrupted by a crash is simply sent again and pays once.
 */
import { z } from 'zod';
import { defineTool, ToolError } from 'longhaul/worker';
import type { Deps } from '../deps';
import { PaymentRefusedError } from '../invoice-book';

const input = z.object({
  invoiceId: z.string().describe('The invoice to pay'),
  amountCents: z.number().int().positive().describe('The amount to pay, in cents: exactly the invoice amount'),
});

export const payInvoice = defineTool<z.infer<typeof input>, Deps>({
  name: 'pay_invoice',
  description: 'Pays an open invoice its exact amount. A person approves every payment before it is made.',
  input,
  risk: 'irreversible',
  idempotent: true,
  async run({ invoiceId, amountCents }, ctx) {
    try {
      // Paid for the run's owner: the tool acts for whoever started the run.
      return ctx.deps.invoices.pay({ invoiceId, amountCents, paidBy: ctx.run.owner, idempotencyKey: ctx.idempotencyKey });
    } catch (err) {
      if (err instanceof PaymentRefusedError) throw new ToolError(err.message);
      throw err;
    }
  },
});
