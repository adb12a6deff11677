/**
 * The worker entry: `npm run dev` (`longhaul dev src/worker.ts`) runs it beside a local Temporal, the API and
 * the web UI; `longhaul worker src/worker.ts` runs it in a deployment. Its default export is what the worker
 * serves: the agents, the tools they may name, and the deps every tool receives.
 */
import { defineWorker } from 'longhaul/worker';
import { invoiceChecker } from './agents/invoice-checker';
import { vendorSummary } from './agents/vendor-summary';
import { sampleDeps, type Deps } from './deps';
import { listVendorInvoices } from './tools/list-vendor-invoices';

export default defineWorker<Deps>({
  agents: [invoiceChecker, vendorSummary],
  tools: [listVendorInvoices],
  deps: sampleDeps(),
});
