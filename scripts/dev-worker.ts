/**
 * `npm run dev:worker`: the Workers build of the hub (src/worker.ts), run locally in workerd by
 * `wrangler dev`, against a local PostgreSQL: DATABASE_URL, by default
 * postgres://postgres@127.0.0.1:5432/hub. It
 *  1. creates that database if it does not exist, and applies the migrations (Workers never
 *     migrate: a deploy runs `npm run db:migrate` first, from Node);
 *  2. writes `.dev.vars` (git-ignored: wrangler's local secrets) with generated development
 *     secrets the first time, and keeps it after;
 *  3. loads the demo data set (`npm run seed`) into a database with no agency yet, signed with
 *     the worker's receipt key so the seeded receipts verify;
 *  4. writes the static assets (`npm run build:assets`) and starts `wrangler dev` on PORT (8787),
 *     offline, with cron triggers callable at /__scheduled?cron=… (`--test-scheduled`).
 * Hyperdrive's local connection string must carry a password even for a trust-auth server: one
 * is added when DATABASE_URL has none.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import postgres from 'postgres';
import { migrate } from '../src/db/migrate.ts';
import { connectServer } from '../src/db/server.ts';
import { generateReceiptKey } from '../src/services/receipt-signer.ts';

const root = new URL('..', import.meta.url).pathname;
const port = Number(process.env.PORT ?? 8787);
const base = `http://127.0.0.1:${port}`;
const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/hub';
const OFFLINE = { CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false' };
const say = (msg: string, fields: Record<string, unknown> = {}) => console.log(JSON.stringify({ msg, ...fields }));

function run(command: string, args: string[], env: Record<string, string> = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited with ${code}`))));
  });
}

// 1. The database, created if missing, and migrated.
const target = new URL(databaseUrl);
const name = decodeURIComponent(target.pathname.slice(1));
if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`dev:worker: the database name ${name} must be a plain identifier`);
const maintenance = new URL(databaseUrl);
maintenance.pathname = '/postgres';
const admin = postgres(maintenance.toString(), { max: 1, onnotice: () => {} });
try {
  const [found] = await admin`SELECT 1 FROM pg_database WHERE datname = ${name}`;
  if (!found) {
    await admin.unsafe(`CREATE DATABASE ${name}`);
    say('database created', { database: name });
  }
} finally {
  await admin.end();
}
const handle = connectServer(databaseUrl, { poolMax: 1 });
let agencies: number;
try {
  await migrate(handle);
  const [row] = await handle.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM agencies`;
  agencies = row!.n;
} finally {
  await handle.close();
}

// 2. Development secrets, generated once (wrangler reads .dev.vars as the worker's secrets).
const devVarsPath = `${root}.dev.vars`;
if (!existsSync(devVarsPath)) {
  const lines = [
    '# Development secrets for `npm run dev:worker` (wrangler dev), generated; never used in production.',
    'NODE_ENV=development',
    `JWT_SECRET=${randomBytes(32).toString('base64url')}`,
    `SESSION_SECRET=${randomBytes(32).toString('base64url')}`,
    `RECEIPT_SIGNING_KEY='${JSON.stringify(await generateReceiptKey())}'`,
  ];
  writeFileSync(devVarsPath, `${lines.join('\n')}\n`, { mode: 0o600 });
  say('.dev.vars written with generated development secrets');
}
const devVars: Record<string, string> = {};
for (const line of readFileSync(devVarsPath, 'utf8').split('\n')) {
  const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
  if (match) devVars[match[1]!] = match[2]!.replace(/^'(.*)'$/, '$1');
}
const secretEnv = { DATABASE_URL: databaseUrl, PUBLIC_BASE_URL: base, ...devVars };

// 3. The demo data set, into a database that has none.
if (agencies === 0) await run(process.execPath, ['--import', 'tsx', 'scripts/seed.ts'], secretEnv);

// 4. The assets, a token to call the API with, and workerd.
await run(process.execPath, ['--import', 'tsx', 'scripts/build-assets.ts']);
if (devVars.JWT_SECRET) {
  say('an admin token for this worker (8 hours) follows');
  await run(process.execPath, ['--import', 'tsx', 'scripts/token.ts', '--role', 'admin'], secretEnv);
}
const hyperdrive = new URL(databaseUrl);
if (!hyperdrive.password) hyperdrive.password = 'unused-with-trust-auth';
say('starting workerd', { url: base, cron: `${base}/__scheduled?cron=*+*+*+*+*` });
const wrangler = spawn(
  `${root}node_modules/.bin/wrangler`,
  ['dev', '--ip', '127.0.0.1', '--port', String(port), '--test-scheduled', '--var', `PUBLIC_BASE_URL:${base}`],
  {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ...OFFLINE, CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE: hyperdrive.toString() },
  },
);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => wrangler.kill(signal));
wrangler.once('exit', (code) => process.exit(code ?? 0));
