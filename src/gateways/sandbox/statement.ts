import type { StatementFormat } from '../statement-format.ts';

/** The sandbox's settlement file: plain English headers, one line per payment it settled. */
export const sandboxStatementFormat: StatementFormat = {
  id: 'sandbox',
  columns: {
    transactionId: ['transaction_id', 'transactionId'],
    reference: ['reference'],
    amount: ['amount'],
    time: ['paid_at', 'paidAt', 'time'],
    status: ['status'],
    text: ['description'],
  },
  direction: 'credit',
  // The sandbox's own word for a payment the payer refused (its callback's `payment.declined`).
  statusWords: { declined: 'failed' },
  requiresTransaction: true,
};
