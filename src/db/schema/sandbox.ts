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
