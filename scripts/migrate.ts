/** `npm run db:migrate`: applies drizzle/ migrations to the configured database, and nothing else. */
import { migrate } from '../src/db/migrate.ts';
import { loadConfig, openDatabase } from '../src/node/runtime.ts';

const config = loadConfig();
const handle = await openDatabase(config);
try {
  await migrate(handle);
  console.log(JSON.stringify({ msg: 'migrations applied', database: handle.kind }));
} finally {
  await handle.close();
}
