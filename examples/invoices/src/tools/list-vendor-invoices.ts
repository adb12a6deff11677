/**
 * Lists a vendor's invoices. A worker-level tool (defineWorker's `tools`): agents name it by its name, and
 * the built-in default agent is offered it too.
 */
import { z } from 'zod';
import { defineTool, ToolError } from 'longhaul/worker';
import type { Deps } from '../deps';

const input = z.object({ vendor: z.string().describe('The vendor name, e.g. Acme Tools') });

export const listVendorInvoices = defineTool<z.infer<typeof input>, Deps>({
  name: 'list_vendor_invoices',
  description: "Lists a vendor's invoices, open and paid, with their amounts in cents.",
  input,
  risk: 'read',
  async run({ vendor }, ctx) {
    const invoices = ctx.deps.invoices.byVendor(vendor);
    if (invoices.length === 0) throw new ToolError(`no invoices from ${vendor}; the book knows ${ctx.deps.invoices.vendors().join(', ')}`);
    return invoices;
  },
});
