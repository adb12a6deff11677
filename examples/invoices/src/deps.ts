/**
 * What the worker gives every tool and instructions function (`defineWorker({ deps })`, `ctx.deps`): here
 * the invoice book. Typed once, so each tool and agent says it takes `Deps` and the compiler checks it.
 */
import { InvoiceBook } from './invoice-book';

export interface Deps {
  invoices: InvoiceBook;
}

/** A small book to try the agents on (`npm run dev`) and to test them with: a fresh one each time. */
export function sampleDeps(): Deps {
  return {
    invoices: new InvoiceBook([
      { id: 'INV-1', vendor: 'Acme Tools', amountCents: 4200, orderRef: 'PO-100' },
      { id: 'INV-2', vendor: 'Acme Tools', amountCents: 125_000, orderRef: 'PO-101' },
      { id: 'INV-3', vendor: 'Northwind Paper', amountCents: 9900, orderRef: 'PO-102' },
    ]),
  };
}
