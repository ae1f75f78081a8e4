/**
 * `npm run indicators -- verify [--from YYYY-MM-DD --to YYYY-MM-DD]`: recounts the 766 roll-ups
 * from the dossiers (and each dossier's fee list from its obligations) and prints where they
 * differ; exits 1 if anything does.
 * `npm run indicators -- rebuild [--from … --to …]`: sets them right in place (dossier writes
 * wait while it runs). Both on the configured database (embedded, or DATABASE_URL).
 */
import { parseArgs } from 'node:util';
import { migrate } from '../src/db/migrate.ts';
import { loadConfig, openDatabase } from '../src/node/runtime.ts';
import { feeListDrift, rebuildRollups, rollupDrift } from '../src/services/indicator-rollups.ts';

const { values, positionals } = parseArgs({ options: { from: { type: 'string' }, to: { type: 'string' } }, allowPositionals: true });
const command = positionals[0];
const DATE = /^\d{4}-\d{2}-\d{2}$/;
if (
  (command !== 'verify' && command !== 'rebuild') ||
  Boolean(values.from) !== Boolean(values.to) ||
  [values.from, values.to].some((d) => d !== undefined && !DATE.test(d))
) {
  console.error('usage: npm run indicators -- verify|rebuild [--from YYYY-MM-DD --to YYYY-MM-DD]');
  process.exit(64); // EX_USAGE
}
const range = values.from && values.to ? { from: values.from, to: values.to } : undefined;

const handle = await openDatabase(loadConfig());
let exitCode = 0;
try {
  await migrate(handle);
  if (command === 'rebuild') {
    console.log(JSON.stringify({ rebuilt: true, ...range, ...(await rebuildRollups(handle.db, range)) }));
  } else {
    const rollups = await rollupDrift(handle.db, range);
    const feeLists = await feeListDrift(handle.db, range);
    console.log(JSON.stringify({ consistent: rollups.length === 0 && feeLists.length === 0, ...range, rollups, feeLists }));
    if (rollups.length > 0 || feeLists.length > 0) exitCode = 1;
  }
} finally {
  await handle.close();
}
process.exit(exitCode);
