import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import * as schema from './schema/index.ts';
import type { Database, DatabaseHandle } from './types.ts';

/**
 * The embedded store: PGlite (PostgreSQL compiled to WebAssembly) in this process. It does not
 * fsync, so it is for the demo and the tests, never for production money.
 * `dataDir` undefined keeps the database in memory. `loadDataDir` starts it from a dump of another
 * one (`dumpDataDir()`), which skips initdb: the tests load one migrated dump per file.
 */
export async function connectEmbedded(
  dataDir?: string,
  options: { loadDataDir?: Blob } = {},
): Promise<DatabaseHandle & { client: PGlite }> {
  const client = new PGlite({ dataDir, loadDataDir: options.loadDataDir });
  await client.waitReady;
  await client.exec(`SET TIME ZONE 'UTC'`);
  const db = drizzle({ client, schema, casing: 'snake_case' }) as unknown as Database;
  return { db, client, kind: 'embedded', close: () => client.close() };
}
