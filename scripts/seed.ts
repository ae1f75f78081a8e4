import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { ConfigError } from '../src/config.ts';
import { migrate } from '../src/db/migrate.ts';
import { recordSandboxChoice } from '../src/emulators/sandbox-checkout.ts';
import {
  buildDeps,
  exitOnConfigError,
  loadConfig,
  openDatabase,
  resolveSecrets,
  type Secrets,
  serviceContext,
} from '../src/node/runtime.ts';
import { seedDemo } from '../src/seed/index.ts';
import { generateReceiptKey } from '../src/services/receipt-signer.ts';

/**
 * `npm run seed [-- --dossiers N] [--seed S] [--now ISO-8601]`: loads the demo data set into the
 * configured database (embedded by default, or DATABASE_URL), on request, even if it is not
 * empty: the catalogue is upserted and new dossiers get codes that do not collide. Prints one
 * JSON line.
 *
 * Secrets. The embedded database has its own generated secrets (the same ones `npm start` uses),
 * so seeded receipts verify against the hub's published key. A server database never runs on
 * generated secrets, and resolveSecrets refuses to start without JWT_SECRET and
 * RECEIPT_SIGNING_KEY. Seeding does not serve requests, so it does not need JWT_SECRET at all;
 * what it needs is:
 *  - a sandbox gateway, to create the demo payments. Its secret only signs the checkout URL of
 *    intents the seed settles at once (no callback ever arrives, and a settled intent never shows
 *    its URL), so a throwaway secret is safe whenever SANDBOX_SECRETS is not set;
 *  - a receipt signing key. RECEIPT_SIGNING_KEY is used when set, so the seeded receipts verify
 *    against the hub's JWKS. Without it the seed signs with a throwaway key and says so: the
 *    demo data is complete, but those receipts will not verify against the running hub.
 */
const { values } = parseArgs({
  options: {
    dossiers: { type: 'string' },
    seed: { type: 'string' },
    now: { type: 'string' },
  },
});

function integerOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`--${name} must be a non-negative integer`);
    process.exit(64); // EX_USAGE
  }
  return n;
}

const throwaway = () => randomBytes(32).toString('base64url');

async function seedSecrets(config: ReturnType<typeof loadConfig>): Promise<{ secrets: Secrets; warnings: string[] }> {
  try {
    const secrets = await resolveSecrets(config);
    return {
      secrets: { ...secrets, sandboxSecrets: secrets.sandboxSecrets?.length ? secrets.sandboxSecrets : [throwaway()] },
      warnings: [],
    };
  } catch (error) {
    if (!(error instanceof ConfigError) || config.database.kind !== 'server') throw error;
    const warnings: string[] = [];
    let receiptSigningKey = config.receiptSigningKey;
    if (!receiptSigningKey) {
      receiptSigningKey = JSON.stringify(await generateReceiptKey());
      warnings.push('RECEIPT_SIGNING_KEY is not set: seeded receipts are signed with a throwaway key and will not verify against the hub');
    }
    return {
      secrets: {
        // Never used to verify anything here; buildDeps needs a verifier to exist.
        jwtSecret: config.auth.secret ?? throwaway(),
        sandboxSecrets: config.sandbox?.secrets ?? [throwaway()],
        receiptSigningKey,
      },
      warnings,
    };
  }
}

async function main() {
  const dossiers = integerOption('dossiers', values.dossiers);
  const seed = integerOption('seed', values.seed);
  const now = values.now ? new Date(values.now) : undefined;
  if (now && Number.isNaN(now.getTime())) {
    console.error('--now must be an ISO-8601 instant, e.g. 2026-11-20T10:00:00+07:00');
    process.exit(64);
  }

  const config = loadConfig();
  // The database first: its lock turns this away, in one line, while `npm start` holds the data folder.
  const handle = await openDatabase(config);
  const { secrets, warnings } = await seedSecrets(config).catch(exitOnConfigError);
  try {
    await migrate(handle);
    const deps = await buildDeps(config, handle, secrets);
    const ctx = serviceContext(deps);
    const started = performance.now();
    const report = await seedDemo(ctx, { dossiers, seed, now, recordSandboxChoice });
    console.log(
      JSON.stringify({
        ...report,
        database: handle.kind,
        elapsedMs: Math.round(performance.now() - started),
        ...(warnings.length > 0 ? { warnings } : {}),
      }),
    );
  } finally {
    await handle.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
