import postgres from 'postgres';
import { connectEmbedded } from '../../src/db/embedded.ts';
import { migrate } from '../../src/db/migrate.ts';
import { connectServer } from '../../src/db/server.ts';
import type { DatabaseHandle } from '../../src/db/types.ts';

export const onServer = Boolean(process.env.DATABASE_URL);
export const databaseLabel = onServer ? 'PostgreSQL server' : 'PGlite';

/**
 * A fresh, migrated database for one test file: PGlite in memory by default, or, when
 * DATABASE_URL is set, a new database on that server (dropped afterwards), so test files can
 * run in parallel without seeing each other's rows.
 */
export async function createTestDatabase(): Promise<DatabaseHandle> {
  if (!onServer) {
    const handle = await connectEmbedded();
    await migrate(handle);
    return handle;
  }
  const adminUrl = process.env.DATABASE_URL!;
  const name = `hub_test_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const handle = connectServer(url.toString(), { poolMax: 10 });
  await migrate(handle);
  return {
    ...handle,
    close: async () => {
      await handle.close();
      const dropper = postgres(adminUrl, { max: 1, onnotice: () => {} });
      await dropper.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await dropper.end();
    },
  };
}
