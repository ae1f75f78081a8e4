import { bigint, timestamp } from 'drizzle-orm/pg-core';

/** Integer VND. JS numbers are exact up to 2^53, far above any fee; amounts are never fractional. */
export const vnd = (name?: string) => (name ? bigint(name, { mode: 'number' }) : bigint({ mode: 'number' }));

export const createdAt = () => timestamp({ withTimezone: true, mode: 'date' }).notNull().defaultNow();
export const updatedAt = () => timestamp({ withTimezone: true, mode: 'date' }).notNull().defaultNow();
export const instant = () => timestamp({ withTimezone: true, mode: 'date' });
