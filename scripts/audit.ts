/**
 * `npm run audit -- verify`: recomputes the audit log's hash chain (services/audit.ts), oldest
 * first, and prints the result as one JSON line; exits 0 when the chain holds, 1 when a row is
 * broken (naming the first one). Only reads, on the configured database (embedded, or
 * DATABASE_URL). An embedded database held by a running hub cannot be opened beside it: the hub
 * itself answers the same check at GET /v1/audit/verification (admin), and this says so (exit 75).
 */
import { parseArgs } from 'node:util';
import { pgError } from '../src/db/errors.ts';
import { loadConfig, openDatabase } from '../src/node/runtime.ts';
import { verifyAuditChain } from '../src/services/audit.ts';
import type { ServiceContext } from '../src/services/context.ts';

const { positionals } = parseArgs({ options: {}, allowPositionals: true });
if (positionals.length !== 1 || positionals[0] !== 'verify') {
  console.error('usage: npm run audit -- verify');
  process.exit(64); // EX_USAGE
}

const config = loadConfig();
const handle = await openDatabase(config, {
  whenLocked: ({ holder }) => {
    const hub = holder.listening ?? config.publicBaseUrl;
    return (
      `the embedded database is held by pid ${holder.pid} (${holder.command}), so it cannot be read beside it; ` +
      `ask the running hub instead: GET ${hub}/v1/audit/verification with an admin token (npm run token -- --role admin).`
    );
  },
});
let exitCode = 0;
try {
  // The check reads through the database alone: no gateways, keys or clock are needed for it.
  const result = await verifyAuditChain({ db: handle.db } as Pick<ServiceContext, 'db'> as ServiceContext);
  console.log(JSON.stringify(result));
  if (!result.ok) {
    const broken = result.firstBroken!;
    console.error(`audit log broken at row ${broken.id} (${broken.reason}): ${result.checked} row(s) before it hold`);
    exitCode = 1;
  }
} catch (error) {
  // Read-only: a database without the audit log is reported, not migrated here.
  if (pgError(error).code !== '42P01') throw error;
  console.error('this database has no audit log: it is not migrated (npm run db:migrate, or start the hub once)');
  exitCode = 78; // EX_CONFIG
} finally {
  await handle.close();
}
process.exit(exitCode);
