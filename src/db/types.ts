import type { ExtractTablesWithRelations, SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import type * as schema from './schema/index.ts';

type Schema = typeof schema;
export type Database = PgDatabase<PgQueryResultHKT, Schema>;
export type Transaction = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
/** Either the database or an open transaction: service verbs take this and nest safely. */
export type Executor = Database | Transaction;

export interface DatabaseHandle {
  db: Database;
  kind: 'embedded' | 'server';
  /** A replica for reports (DATABASE_READ_URL), closed with the handle. */
  replica?: Database;
  close(): Promise<void>;
}

/** Rows of a raw `execute`, which postgres.js returns as an array and PGlite as `{ rows }`. */
export async function queryRows<T>(executor: Executor, query: SQL): Promise<T[]> {
  const result = (await executor.execute(query)) as unknown;
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}
