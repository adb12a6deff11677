/** Reads an invoice from the book. A read: it never needs an approval. */
import { z } from 'zod';
import { defineTool, ToolError } from 'longhaul/worker';
import type { Deps } from '../deps';

const input = z.object({ invoiceId: z.string().describe('The invoice id, e.g. INV-1') });

export const lookupInvoice = defineTool<z.infer<typeof input>, Deps>({
  name: 'lookup_invoice',
  description: 'Looks an invoice up by its id: vendor, amount in cents, the purchase order it bills for, and whether it is open or paid.',
  input,
  risk: 'read',
  async run({ invoiceId }, ctx) {
    const invoice = ctx.deps.invoices.get(invoiceId);
    // A ToolError goes back to the model as the call's result, so it can correct itself.
    if (!invoice) throw new ToolError(`no invoice ${invoiceId}`);
    return invoice;
  },
});
