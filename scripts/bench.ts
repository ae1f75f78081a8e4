/**
 * `npm run bench` — throughput of the hub's hot paths against a bare one-INSERT route, measured
 * in the same run, over real HTTP, on the same database:
 *   DATABASE_URL=postgres://… npm run bench   (a scratch database `hub_bench` is created on that server)
 *   npm run bench                             (embedded PGlite, in memory)
 * Options: --seconds N (per measurement, default 8), --concurrency N (default 16).
 * The load generator runs in a worker thread, the hub in this thread, PostgreSQL in its own
 * processes; all on this machine, so the numbers compare routes, not machines.
 */
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { SignJWT } from 'jose';
import { createApp } from '../src/app.ts';
import { connectEmbedded } from '../src/db/embedded.ts';
import { migrate } from '../src/db/migrate.ts';
import { connectServer } from '../src/db/server.ts';
import { queryRows, type DatabaseHandle } from '../src/db/types.ts';
import { buildDeps, serviceContext } from '../src/deps.ts';
import { parseConfig } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { addFeeRule, putProcedure, upsertAgency } from '../src/services/catalogue.ts';
import { generateReceiptKey } from '../src/services/receipt-signer.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    concurrency: { type: 'string', default: '16' },
    warmup: { type: 'string', default: '2' },
    /** Measure one route only (for profiling): insert | create-intent. */
    only: { type: 'string' },
  },
});
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const warmupSeconds = Number(values.warmup);

const JWT_SECRET = 'bench-secret-bench-secret-bench-secret-0123';
const PROVINCE = '000.00.00.H19';
const COMMUNE = '000.21.32.H19';
const PROCEDURE = '3.000347';

async function openBenchDatabase(): Promise<{ handle: DatabaseHandle; label: string }> {
  const url = process.env.DATABASE_URL;
  if (!url) return { handle: await connectEmbedded(), label: 'embedded PGlite (in memory)' };
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  await admin.unsafe('DROP DATABASE IF EXISTS hub_bench WITH (FORCE)');
  await admin.unsafe('CREATE DATABASE hub_bench');
  await admin.end();
  const target = new URL(url);
  target.pathname = '/hub_bench';
  return { handle: connectServer(target.toString(), { poolMax: 20 }), label: `PostgreSQL server (${new URL(url).host})` };
}

async function main() {
  const { handle, label } = await openBenchDatabase();
  await migrate(handle);
  await handle.db.execute(sql`CREATE TABLE bench_rows (id uuid PRIMARY KEY, body jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`);

  const config = parseConfig({ PORT: '0', JWT_SECRET, LOG_LEVEL: 'silent', ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}) });
  let baseUrl = 'http://127.0.0.1:0';
  const fetcher = { current: null as null | ((r: Request) => Response | Promise<Response>) };
  const server = serve({ fetch: (r) => fetcher.current!(r), port: 0, hostname: '127.0.0.1' });
  await new Promise((resolve) => server.once('listening', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const deps = await buildDeps(
    { ...config, publicBaseUrl: baseUrl },
    handle,
    { jwtSecret: JWT_SECRET, sandboxSecrets: ['bench-sandbox-secret'], receiptSigningKey: JSON.stringify(await generateReceiptKey()) },
    createLogger('silent'),
  );
  const hub = createApp(deps);
  // The baseline: the same HTTP server, one INSERT, no auth, no validation library.
  const root = new Hono();
  root.post('/bench/insert', async (c) => {
    const body = await c.req.json();
    await handle.db.execute(sql`INSERT INTO bench_rows (id, body) VALUES (${crypto.randomUUID()}, ${JSON.stringify(body)}::jsonb)`);
    return c.json({ ok: true }, 201);
  });
  root.route('/', hub);
  fetcher.current = (r) => root.fetch(r);

  const ctx = serviceContext(deps);
  await upsertAgency(ctx, { code: PROVINCE, name: 'UBND tỉnh Đồng Nai', level: 'province', parentCode: null });
  await upsertAgency(ctx, { code: COMMUNE, name: 'UBND phường Trấn Biên', level: 'commune', parentCode: PROVINCE });
  await putProcedure(ctx, PROCEDURE, { name: 'Đổi giấy phép lái xe', field: 'Giấy phép lái xe', level: 'tỉnh', integratedOnlinePayment: true, dataConfidence: 'confirmed', note: null });
  const feeRule = await addFeeRule(ctx, PROCEDURE, {
    kind: 'le_phi', feeCode: 'LPGPLX', name: 'Lệ phí đổi giấy phép lái xe', lineNo: 1,
    formula: { type: 'fixed', amount: 135_000 }, adjustments: [], rounding: { mode: 'half_up', unit: 1 },
    validFrom: '2026-01-01', validTo: null, legalBasis: 'Thông tư 37/2023/TT-BTC', collectionAccount: null, setByProvince: false,
  });

  // Enough fresh dossiers for every create-intent request: each pays a different dossier.
  const needed = Math.max(20_000, Math.ceil((seconds + warmupSeconds) * 4000));
  // Made in SQL, so the setup neither takes long nor shows in a profile of the measurement.
  // A day per 10,000 dossiers, so the 4-digit daily sequence never repeats.
  const codeOf = (n: number) => `${COMMUNE}-2611${String(10 + Math.floor(n / 10_000)).padStart(2, '0')}-${String(n % 10_000).padStart(4, '0')}`;
  const codes = Array.from({ length: needed }, (_, n) => codeOf(n));
  await handle.db.execute(sql`
    INSERT INTO dossiers (code, procedure_code, agency_code, channel, received_at, received_date)
    SELECT ${COMMUNE} || '-2611' || lpad((10 + n / 10000)::text, 2, '0') || '-' || lpad((n % 10000)::text, 4, '0'),
           ${PROCEDURE}, ${COMMUNE}, 'online', now(), '2026-11-22'
    FROM generate_series(0, ${needed - 1}::int) AS n`);
  await handle.db.execute(sql`
    INSERT INTO obligations (id, dossier_code, fee_rule_id, line_no, kind, fee_code, name, amount, status)
    SELECT gen_random_uuid(), code, ${feeRule.id}::uuid, 1, 'le_phi', 'LPGPLX', 'Lệ phí đổi giấy phép lái xe', 135000, 'unpaid'
    FROM dossiers`);
  const token = await new SignJWT({ role: 'portal', agencies: [PROVINCE] })
    .setProtectedHeader({ alg: 'HS256' }).setSubject('bench').setIssuer(config.auth.issuer).setAudience(config.auth.audience)
    .setIssuedAt().setExpirationTime('1h').sign(new TextEncoder().encode(JWT_SECRET));

  const load = (kind: string, extra: Record<string, unknown> = {}) =>
    new Promise<any>((resolve, reject) => {
      const worker = new Worker(new URL('./bench-load.mjs', import.meta.url), {
        workerData: { baseUrl, concurrency, seconds, warmupSeconds, kind, token, ...extra },
      });
      worker.once('message', resolve);
      worker.once('error', reject);
    });

  if (values.only) {
    const r = await load(values.only, { dossierCodes: codes });
    console.log(`${values.only}: ${r.rate.toFixed(0)} req/s, p50 ${r.p50?.toFixed(1)} ms, p95 ${r.p95?.toFixed(1)} ms, errors ${r.errors}`);
    server.close();
    await handle.close();
    return;
  }
  const results: Array<[string, any]> = [];
  results.push(['one-INSERT route (baseline)', await load('insert')]);
  results.push(['POST /v1/payment-intents', await load('create-intent', { dossierCodes: codes })]);
  // For scale: the cheapest authenticated route (token, validation, one indexed SELECT).
  const intentIds = (await queryRows<{ id: string }>(handle.db, sql`SELECT id FROM payment_intents LIMIT 5000`)).map((r) => r.id);
  results.push(['GET /v1/payment-intents/{id} (reference)', await load('get-intent', { intentIds })]);
  results.push(['one-INSERT route (again)', await load('insert')]);

  const baseline = (results[0]![1].rate + results.at(-1)![1].rate) / 2;
  const fmt = (n: number | null) => (n === null ? '—' : n.toFixed(1));
  console.log(`\nDatabase: ${label}; ${os.cpus().length} CPUs; ${concurrency} requests in flight; ${seconds} s per measurement\n`);
  console.log('| route | req/s | p50 ms | p95 ms | p99 ms | errors | vs baseline |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const [name, r] of results) {
    console.log(`| ${name} | ${r.rate.toFixed(0)} | ${fmt(r.p50)} | ${fmt(r.p95)} | ${fmt(r.p99)} | ${r.errors} | ${((r.rate / baseline) * 100).toFixed(0)} % |`);
  }
  const statusCounts = results[1]![1].statusCounts;
  if (results[1]![1].errors > 0) console.log('\ncreate-intent statuses:', statusCounts);

  server.close();
  await handle.close();
  if (process.env.DATABASE_URL) {
    const admin = postgres(process.env.DATABASE_URL, { max: 1, onnotice: () => {} });
    await admin.unsafe('DROP DATABASE IF EXISTS hub_bench WITH (FORCE)');
    await admin.end();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
