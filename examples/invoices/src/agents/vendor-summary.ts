/**
 * vendor_summary: takes a goal in words ("How much do we owe Acme Tools?"), reads the vendor's invoices and
 * writes a short report into the run's workspace, then answers in text. Its instructions are a function of
 * the run and the deps, evaluated at every model call (by the worker's current code), so they can name the
 * vendors the book knows today and the person the run works for.
 */
import { defineAgent } from 'longhaul/worker';
import type { Deps } from '../deps';

export const vendorSummary = defineAgent<Deps>({
  name: 'vendor_summary',
  description: "Summarises a vendor's invoices, open and paid, and writes the summary to report.md in the run's workspace.",
  instructions: ({ run, deps }) =>
    [
      `You help ${run.owner} with the accounts. The vendors in the book are: ${deps.invoices.vendors().join(', ')}.`,
      'Read the vendor\'s invoices with list_vendor_invoices, write a short summary to report.md with workspace_write (open invoices first, amounts in dollars), then answer in two sentences.',
    ].join('\n'),
  // A worker-level tool by name (defineWorker's `tools`) and a built-in one.
  tools: ['list_vendor_invoices', 'workspace_write'],
  // Writing the run's own workspace needs nobody's approval, whatever the run's policy.
  approvals: { tools: { workspace_write: 'never' } },
  limits: { defaults: { maxSteps: 8, maxCostUsd: 0.5 } },
});
