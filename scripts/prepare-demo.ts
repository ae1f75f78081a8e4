import { parseArgs } from 'node:util';
import type { Config } from '../src/config.ts';
import { migrate } from '../src/db/migrate.ts';
import { recordSandboxChoice } from '../src/emulators/sandbox-checkout.ts';
import { buildDemoTemplate, demoTemplateDir } from '../src/node/demo-template.ts';
import { createNodeLogger } from '../src/node/logger.ts';
import { buildDeps, loadConfig, openDatabase, resolveSecrets, serviceContext } from '../src/node/runtime.ts';
import { seedDemo } from '../src/seed/index.ts';

/**
 * `npm run demo:prepare`: makes today's demo database, migrated and seeded as a first `npm start`
 * would (src/node/demo-template.ts), so that a fresh start copies it instead of seeding. `npm
 * install` runs it (`--at-install`: a failure is one line, never a failed install; skipped with
 * NODE_ENV=production or DATABASE_URL set). Run it again on a later day, or after changing the
 * configuration, for a fast first start then. Prints one JSON line.
 */
const { values } = parseArgs({ options: { 'at-install': { type: 'boolean', default: false } } });
const atInstall = values['at-install'] ?? false;

async function main(): Promise<void> {
  if (atInstall && (process.env.NODE_ENV === 'production' || process.env.DATABASE_URL)) return;
  const config = loadConfig();
  if (config.database.kind !== 'embedded') {
    console.error('demo:prepare makes the embedded demo database: unset DATABASE_URL');
    process.exit(64); // EX_USAGE
  }
  const started = Date.now();
  const now = new Date();
  const facts = await buildDemoTemplate(config, now, async (dataDir) => {
    const local: Config = { ...config, dataDir, database: { kind: 'embedded', dataDir: `${dataDir}/pglite` } };
    const handle = await openDatabase(local);
    try {
      const secrets = await resolveSecrets(local);
      await migrate(handle);
      const deps = await buildDeps(local, handle, secrets, createNodeLogger('warn'));
      return await seedDemo(serviceContext(deps), { now, recordSandboxChoice });
    } finally {
      await handle.close();
    }
  });
  console.log(JSON.stringify({ template: demoTemplateDir(), day: facts.day, ...facts.report, ms: Date.now() - started }));
}

main().catch((error: unknown) => {
  if (!atInstall) throw error;
  // An install never fails for the demo: the first start then seeds, as before.
  console.warn(`demo database not prepared (the first npm start will seed it): ${error instanceof Error ? error.message : String(error)}`);
});
