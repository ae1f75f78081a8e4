import { index, integer, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { createdAt, instant } from './columns.ts';

export const inboxStatuses = ['received', 'processed', 'rejected', 'failed'] as const;

/**
 * Every inbound gateway message, stored raw before anything else happens (invariant 2). A row
 * still `received` after a crash is processed again by the inbox job.
 */
export const callbackInbox = pgTable(
  'callback_inbox',
  {
    id: uuid().primaryKey(),
    gateway: text().notNull(),
    method: text().notNull(),
    /** Path with its query string: VNPay sends its IPN as GET parameters. */
    url: text().notNull(),
    headers: jsonb().$type<Record<string, string>>().notNull(),
    rawBody: text().notNull(),
    status: text({ enum: inboxStatuses }).notNull().default('received'),
    signatureValid: text({ enum: ['valid', 'invalid', 'unchecked'] })
      .notNull()
      .default('unchecked'),
    reference: text(),
    intentId: uuid(),
    /** What was done: applied, duplicate, unknown_reference, amount_mismatch, refused… */
    result: text(),
    detail: jsonb().$type<Record<string, unknown>>(),
    responseStatus: integer(),
    responseBody: text(),
    attempts: integer().notNull().default(0),
    receivedAt: createdAt(),
    processedAt: instant(),
  },
  (t) => [index('callback_inbox_status_idx').on(t.status, t.receivedAt), index('callback_inbox_reference_idx').on(t.gateway, t.reference)],
);
