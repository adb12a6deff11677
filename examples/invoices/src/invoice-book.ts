/**
 * The system the agents act on: a book of supplier invoices and the payments made against them. In your
 * application this is your accounts database or your payment provider's client; here it lives in memory,
 * so the tests can look at what the tools did. The worker receives it once, as `deps`, and every tool call
 * reaches it through `ctx.deps`.
 */

export interface Invoice {
  id: string;
  vendor: string;
  amountCents: number;
  /** The purchase order the invoice bills for. */
  orderRef: string;
  status: 'open' | 'paid';
}

export interface Payment {
  paymentId: string;
  invoiceId: string;
  amountCents: number;
  /** The user the run acted for (the run's owner). */
  paidBy: string;
  /** The tool call's idempotency key: a payment sent again with it is the same payment. */
  idempotencyKey: string;
}

/** A payment the book refuses: the tool turns it into a ToolError, so the model hears why. */
export class PaymentRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PaymentRefusedError';
  }
}

export class InvoiceBook {
  private readonly invoices = new Map<string, Invoice>();
  private readonly paid: Payment[] = [];

  constructor(invoices: Omit<Invoice, 'status'>[]) {
    for (const invoice of invoices) this.invoices.set(invoice.id, { ...invoice, status: 'open' });
  }

  /** A copy of the invoice, or undefined when the book has none with this id. */
  get(id: string): Invoice | undefined {
    const invoice = this.invoices.get(id);
    return invoice && { ...invoice };
  }

  byVendor(vendor: string): Invoice[] {
    return [...this.invoices.values()].filter((i) => i.vendor.toLowerCase() === vendor.toLowerCase()).map((i) => ({ ...i }));
  }

  vendors(): string[] {
    return [...new Set([...this.invoices.values()].map((i) => i.vendor))].sort();
  }

  /**
   * Pays an open invoice its exact amount. Idempotent by `idempotencyKey`, as a payment provider's API is:
   * the same key returns the payment it made the first time, so a call retried after a crash pays once.
   */
  pay(request: { invoiceId: string; amountCents: number; paidBy: string; idempotencyKey: string }): Payment {
    const earlier = this.paid.find((p) => p.idempotencyKey === request.idempotencyKey);
    if (earlier) return { ...earlier };
    const invoice = this.invoices.get(request.invoiceId);
    if (!invoice) throw new PaymentRefusedError(`no invoice ${request.invoiceId}`);
    if (invoice.status === 'paid') throw new PaymentRefusedError(`invoice ${invoice.id} is paid already`);
    if (invoice.amountCents !== request.amountCents) {
      throw new PaymentRefusedError(`invoice ${invoice.id} is for ${invoice.amountCents} cents, not ${request.amountCents}`);
    }
    invoice.status = 'paid';
    const payment: Payment = { paymentId: `PAY-${this.paid.length + 1}`, ...request };
    this.paid.push(payment);
    return { ...payment };
  }

  /** Every payment made, oldest first. */
  payments(): Payment[] {
    return this.paid.map((p) => ({ ...p }));
  }
}
