import { readFile } from 'node:fs/promises';
import postgres from 'postgres';
import { inject } from 'vitest';
import { connectEmbedded } from '../../src/db/embedded.ts';
import { connectServer } from '../../src/db/server.ts';
import type { DatabaseHandle } from '../../src/db/types.ts';

export const onServer = Boolean(process.env.DATABASE_URL);
export const databaseLabel = onServer ? 'PostgreSQL server' : 'PGlite';

let pgliteTemplate: Promise<Blob> | undefined;

function provided(key: 'pgliteTemplate' | 'serverTemplate'): string {
  const value = inject(key);
  if (!value) throw new Error(`no ${key}: run the tests through vitest.config.ts, whose globalSetup (test/global-setup.ts) migrates it`);
  return value;
}

/**
 * A fresh, migrated database for one test file: PGlite in memory by default, or, when
 * DATABASE_URL is set, a new database on that server (dropped afterwards), so test files can
 * run in parallel without seeing each other's rows. Both are copies of the empty database that
 * test/global-setup.ts migrated once for the run.
 */
export async function createTestDatabase(): Promise<DatabaseHandle> {
  if (!onServer) {
    pgliteTemplate ??= readFile(provided('pgliteTemplate')).then((bytes) => new Blob([bytes]));
    return connectEmbedded(undefined, { loadDataDir: await pgliteTemplate });
  }
  return createServerTestDatabase();
}

/**
 * On the server (DATABASE_URL): a new database copied from the run's template, with its URL for
 * another process or runtime to connect to (workerd's Hyperdrive binding, say).
 */
export async function createServerTestDatabase(): Promise<DatabaseHandle & { url: string }> {
  const adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) throw new Error('a database on the server needs DATABASE_URL');
  const name = `hub_test_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name} TEMPLATE ${provided('serverTemplate')}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const handle = connectServer(url.toString(), { poolMax: 10 });
  return {
    ...handle,
    url: url.toString(),
    close: async () => {
      await handle.close();
      const dropper = postgres(adminUrl, { max: 1, onnotice: () => {} });
      await dropper.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await dropper.end();
    },
  };
}
