/**
 * `npm run jobs`: one run of every periodic job (re-process the callback inbox, expire due
 * intents after asking their gateway, purge old idempotency keys), then exit. The Node server
 * also runs them every JOBS_INTERVAL_SECONDS; Workers run them from the cron trigger.
 */
import { migrate } from '../src/db/migrate.ts';
import { runJobs } from '../src/jobs/index.ts';
import { buildDeps, exitOnConfigError, loadConfig, openDatabase, resolveSecrets, serviceContext } from '../src/node/runtime.ts';

const config = loadConfig();
// The database first: its lock turns this away, in one line, while `npm start` holds the data folder.
const handle = await openDatabase(config);
const secrets = await resolveSecrets(config).catch(exitOnConfigError);
try {
  await migrate(handle);
  const deps = await buildDeps(config, handle, secrets);
  await runJobs(serviceContext(deps));
} finally {
  await handle.close();
}
