import postgres from 'postgres';
import { drizzle } from 'drizzle-orm/postgres-js';
import * as schema from './schema/index.ts';
import type { Database, DatabaseHandle } from './types.ts';

/** The production store: any PostgreSQL server through postgres.js (Node, or Workers + Hyperdrive). */
export function connectServer(url: string, options: { poolMax?: number } = {}): DatabaseHandle & { sql: postgres.Sql } {
  const sql = postgres(url, {
    max: options.poolMax ?? 10,
    onnotice: () => {},
    // bigint columns come back as JS numbers in drizzle (mode: 'number'); keep the driver's
    // default string parsing for int8 so nothing is silently truncated before that check.
    connection: { application_name: 'fee-payment-hub', TimeZone: 'UTC' },
  });
  const db = drizzle({ client: sql, schema, casing: 'snake_case' }) as unknown as Database;
  return { db, sql, kind: 'server', close: () => sql.end({ timeout: 5 }) };
}
