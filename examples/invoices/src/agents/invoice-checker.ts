/**
 * invoice_checker: given an invoice and the amount the buyer expects (structured input), it looks the
 * invoice up, pays it when it matches (a person approves the payment first), and ends with a structured
 * result the caller can act on: `{ approved, reason }`.
 */
import { z } from 'zod';
import { defineAgent } from 'longhaul/worker';
import type { Deps } from '../deps';
import { lookupInvoice } from '../tools/lookup-invoice';
import { payInvoice } from '../tools/pay-invoice';

export const invoiceCheckInput = z.object({
  invoiceId: z.string().regex(/^INV-\d+$/, 'an invoice id looks like INV-123'),
  amountCents: z.number().int().positive().describe('The amount the buyer expects to pay, in cents'),
});

export const invoiceCheckResult = z.object({
  approved: z.boolean().describe('True when the invoice was paid'),
  reason: z.string().min(1).describe('Why, in one sentence'),
});

export type InvoiceCheckInput = z.infer<typeof invoiceCheckInput>;
export type InvoiceCheckResult = z.infer<typeof invoiceCheckResult>;

export const INVOICE_CHECKER_INSTRUCTIONS = [
  'You check a supplier invoice before it is paid. The first message gives the invoice id and the amount the buyer expects, in cents.',
  'Look the invoice up with lookup_invoice. Pay it with pay_invoice only when it is open and its amount equals the expected amount exactly.',
  'A person approves every payment. If they reject it, do not try again.',
  'End with your final result: approved is true only when the invoice was paid; reason says why in one sentence (quote the approver when they rejected the payment).',
].join('\n');

export const invoiceChecker = defineAgent<Deps, InvoiceCheckInput, InvoiceCheckResult>({
  name: 'invoice_checker',
  description: 'Checks an invoice against the expected amount and pays it, with a person approving the payment.',
  instructions: INVOICE_CHECKER_INSTRUCTIONS,
  tools: [lookupInvoice, payInvoice],
  // Writes need an approval; pay_invoice needs one even when a run asks for the `none` policy.
  approvals: { policy: 'write', tools: { pay_invoice: 'always' } },
  // An approver may take a day: the run's time cap leaves room for it.
  limits: { defaults: { maxSteps: 12, maxCostUsd: 1, maxDurationSec: 3 * 24 * 3600 }, max: { maxCostUsd: 5 } },
  input: invoiceCheckInput,
  output: invoiceCheckResult,
  outputRetries: 2,
});
