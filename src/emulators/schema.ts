import { index, pgTable, text } from 'drizzle-orm/pg-core';
import { createdAt, vnd } from '../db/schema/columns.ts';

/**
 * The emulators' own ledger, as a real gateway keeps one on its side: what the payer chose on
 * the sandbox's checkout page or a channel's payment page, one row per hub reference (unique
 * across channels): `pending` while the payer has not chosen, `suspected_fraud` for VNPay's 07;
 * `createdAt` is when the row took its present status. The hub reads it only through the
 * channels' APIs. Same migrations as the hub's tables (drizzle.config.ts lists this file), but
 * not in the hub's schema (src/db/schema/): the hub never queries it.
 */
export const sandboxTransactionStatuses = ['pending', 'succeeded', 'declined', 'suspected_fraud'] as const;
export type SandboxTransactionStatus = (typeof sandboxTransactionStatuses)[number];

export const sandboxTransactions = pgTable('sandbox_transactions', {
  reference: text().primaryKey(),
  transactionId: text().notNull(),
  amount: vnd().notNull(),
  // A text column: new statuses need no migration.
  status: text({ enum: sandboxTransactionStatuses }).notNull(),
  createdAt: createdAt(),
});

/** Refunds the sandbox has made, one per hub refund id (a retried request replays the first). */
export const sandboxRefunds = pgTable('sandbox_refunds', {
  refundId: text().primaryKey(),
  reference: text().notNull(),
  amount: vnd().notNull(),
  createdAt: createdAt(),
});

/**
 * Credits the demo bank has booked to its customers' accounts, one per transfer (the bank's own
 * reference), whatever the hub later made of the notification: the account statement is read
 * from here (a VietQR transfer names no hub reference the bank knows, only its text).
 */
export const sandboxBankCredits = pgTable(
  'sandbox_bank_credits',
  {
    bankReference: text().primaryKey(),
    account: text().notNull(),
    amount: vnd().notNull(),
    /** The transfer text as credited, the bank's own words before the payer's. */
    text: text().notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('sandbox_bank_credits_account_idx').on(t.account, t.createdAt)],
);
