/**
 * `npm run indicators -- verify [--from YYYY-MM-DD --to YYYY-MM-DD]`: recounts the 766 roll-ups
 * from the dossiers (and each dossier's fee list from its obligations), and each campaign's
 * summed progress against the same progress counted from the roll-ups, and prints where they
 * differ; exits 1 if anything does.
 * `npm run indicators -- rebuild [--from … --to …]`: sets them right in place (dossier writes
 * wait while it runs), and makes the campaigns' summaries again from them. Both on the configured
 * database (embedded, or DATABASE_URL; a server needs the hub's secrets, as `npm run jobs` does).
 */
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import { migrate } from '../src/db/migrate.ts';
import { queryRows } from '../src/db/types.ts';
import { buildDeps, exitOnConfigError, loadConfig, openDatabase, resolveSecrets, serviceContext } from '../src/node/runtime.ts';
import { campaignProgress, campaignSummaryDrift } from '../src/services/campaigns.ts';
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

const config = loadConfig();
const handle = await openDatabase(config);
const secrets = await resolveSecrets(config).catch(exitOnConfigError);
let exitCode = 0;
try {
  await migrate(handle);
  const ctx = serviceContext(await buildDeps(config, handle, secrets));
  if (command === 'rebuild') {
    // The rebuild drops every summary (their counts came from the old roll-ups); the campaigns
    // whose progress was asked for get theirs again now, not at the next request.
    const summarised = await queryRows<{ id: string }>(handle.db, sql`SELECT campaign_id::text AS id FROM campaign_summaries`);
    const rebuilt = await rebuildRollups(handle.db, range);
    for (const { id } of summarised) await campaignProgress(ctx, { subject: 'indicators', role: 'admin', agencies: [] }, id);
    console.log(JSON.stringify({ rebuilt: true, ...range, ...rebuilt, campaignSummaries: summarised.length }));
  } else {
    const rollups = await rollupDrift(handle.db, range);
    const feeLists = await feeListDrift(handle.db, range);
    // As a request reads it: the summary and the deltas since it (made first if none is today's).
    const campaignSummaries = await campaignSummaryDrift(ctx);
    const consistent = rollups.length === 0 && feeLists.length === 0 && campaignSummaries.length === 0;
    console.log(JSON.stringify({ consistent, ...range, rollups, feeLists, campaignSummaries }));
    if (!consistent) exitCode = 1;
  }
} finally {
  await handle.close();
}
process.exit(exitCode);
