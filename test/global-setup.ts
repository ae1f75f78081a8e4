import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import type { TestProject } from 'vitest/node';
import { connectEmbedded } from '../src/db/embedded.ts';
import { migrate } from '../src/db/migrate.ts';
import { connectServer } from '../src/db/server.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A tarball of a migrated, empty PGlite data folder (`dumpDataDir`), made once per run. */
    pgliteTemplate: string;
    /** On the server: the migrated, empty database every test file's database is copied from. */
    serverTemplate: string;
  }
}

/**
 * Migrates one empty database per run, instead of one per test file: on PGlite a data folder
 * dump that each file loads (skipping initdb and the migrations, ~3 s a file), on the server a
 * template database that each file copies with CREATE DATABASE … TEMPLATE.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    const handle = await connectEmbedded();
    await migrate(handle);
    const dump = await handle.client.dumpDataDir('none');
    await handle.close();
    const folder = await mkdtemp(join(tmpdir(), 'hub-test-template-'));
    const file = join(folder, 'migrated.tar');
    await writeFile(file, new Uint8Array(await dump.arrayBuffer()));
    project.provide('pgliteTemplate', file);
    return () => rm(folder, { recursive: true, force: true });
  }

  const name = `hub_template_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const drop = async () => {
    const dropper = postgres(adminUrl, { max: 1, onnotice: () => {} });
    await dropper.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await dropper.end();
  };
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`);
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    const handle = connectServer(url.toString(), { poolMax: 1 });
    await migrate(handle);
    await handle.close();
    // A template cannot be copied while anyone is connected to it, and a closed client's backend
    // may still be exiting: wait until the server has let it go.
    for (let i = 0; ; i++) {
      const [row] = await admin<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = ${name}`;
      if (row!.n === 0) break;
      if (i === 100) throw new Error(`the template database ${name} still has ${row!.n} connection(s)`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } catch (error) {
    await admin.end();
    await drop();
    throw error;
  }
  await admin.end();
  project.provide('serverTemplate', name);
  return drop;
}
