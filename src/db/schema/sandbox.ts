import { pgTable, text } from 'drizzle-orm/pg-core';
import { createdAt, vnd } from './columns.ts';

/**
 * The sandbox gateway's own ledger, as a real gateway keeps one on its side: what the payer
 * chose on the hosted checkout page. The hub reads it only through the sandbox's query API.
 */
export const sandboxTransactions = pgTable('sandbox_transactions', {
  reference: text().primaryKey(),
  transactionId: text().notNull(),
  amount: vnd().notNull(),
  status: text({ enum: ['succeeded', 'declined'] }).notNull(),
  createdAt: createdAt(),
});

/** Refunds the sandbox has made, one per hub refund id (a retried request replays the first). */
export const sandboxRefunds = pgTable('sandbox_refunds', {
  refundId: text().primaryKey(),
  reference: text().notNull(),
  amount: vnd().notNull(),
  createdAt: createdAt(),
});
