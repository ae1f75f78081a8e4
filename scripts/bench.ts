/**
 * `npm run bench` — throughput of the hub's hot paths against a bare one-INSERT route, measured
 * in the same run, over real HTTP, on the same database:
 *   DATABASE_URL=postgres://… npm run bench   (a scratch database `hub_bench` is created on that server)
 *   npm run bench                             (embedded PGlite, in memory)
 * Options: --seconds N (per measurement, default 8), --concurrency N (default 16).
 * Then the campaign-progress query at each of --sizes dossiers (default 100,000 and 10,000,000
 * on a server, 100,000 embedded; see bench-campaign.ts); `--only campaign-progress` runs just that.
 * The load generator runs in a worker thread, the hub in this thread, PostgreSQL in its own
 * processes; all on this machine, so the numbers compare routes, not machines.
 */

import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { serve } from '@hono/node-server';
import { sql } from 'drizzle-orm';
import { Hono } from 'hono';
import { SignJWT } from 'jose';
import postgres from 'postgres';
import { createApp } from '../src/app.ts';
import { parseConfig } from '../src/config.ts';
import { connectEmbedded } from '../src/db/embedded.ts';
import { migrate } from '../src/db/migrate.ts';
import { connectServer } from '../src/db/server.ts';
import { type DatabaseHandle, queryRows } from '../src/db/types.ts';
import { buildDeps, serviceContext } from '../src/deps.ts';
import { vnCompactTimestamp } from '../src/domain/dates.ts';
import { signedQuery, toVnpAmount } from '../src/gateways/vnpay/protocol.ts';
import { createNodeLogger } from '../src/node/logger.ts';
import { addFeeRule, putProcedure, upsertAgency } from '../src/services/catalogue.ts';
import { generateReceiptKey } from '../src/services/receipt-signer.ts';
import { benchCampaignProgress, printCampaignResults } from './bench-campaign.ts';
import { benchStatementImport, printStatementResults } from './bench-statements.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    concurrency: { type: 'string', default: '16' },
    warmup: { type: 'string', default: '2' },
    /** Collecting agencies the paid dossiers spread over (each has its own receipt series). */
    agencies: { type: 'string', default: '1' },
    /** Measure one route only (for profiling): insert | create-intent | ipn | ipn-replay | campaign-progress | statement-import. */
    only: { type: 'string' },
    /** Dossier counts for the campaign-progress benchmark, comma-separated. */
    sizes: { type: 'string' },
    /** Timed campaign-progress requests per size. */
    iterations: { type: 'string', default: '400' },
    /** Keep the campaign-progress databases of an earlier run (same sizes) instead of making them again. */
    reuse: { type: 'boolean', default: false },
    /** The campaign-progress benchmark's province: the demo's (default), or `wide` (150 more communes, 300 more procedures). */
    grid: { type: 'string', default: 'demo' },
    /** Line counts of the statement-import benchmark (server PostgreSQL only), comma-separated. */
    'statement-sizes': { type: 'string', default: '100000,1000000' },
  },
});
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const warmupSeconds = Number(values.warmup);

const JWT_SECRET = 'bench-secret-bench-secret-bench-secret-0123';
const VNPAY_TMN = 'BENCH001';
const VNPAY_SECRET = 'bench-vnpay-hash-secret-0123456789';
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

async function campaign() {
  const sizes = (values.sizes ?? (process.env.DATABASE_URL ? '100000,10000000' : '100000')).split(',').map((x) => Number(x.trim()));
  if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('--sizes: comma-separated dossier counts');
  if (values.grid !== 'demo' && values.grid !== 'wide') throw new Error('--grid: demo or wide');
  const results = await benchCampaignProgress({
    sizes,
    iterations: Number(values.iterations),
    reuse: values.reuse ?? false,
    grid: values.grid,
  });
  const where = process.env.DATABASE_URL ? `PostgreSQL server (${new URL(process.env.DATABASE_URL).host})` : 'embedded PGlite';
  printCampaignResults(
    results,
    `${where}, ${values.grid === 'wide' ? 'the demo province with 150 more communes and 300 more procedures' : 'the demo province'}`,
  );
}

/** Statement import (issue 11) against a plain COPY of the same file: server PostgreSQL only. */
async function statements() {
  if (!process.env.DATABASE_URL) {
    console.log('\nStatement import: skipped (it compares with COPY on a server PostgreSQL: set DATABASE_URL)');
    return;
  }
  const sizes = values['statement-sizes']!.split(',').map((x) => Number(x.trim()));
  if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('--statement-sizes: comma-separated line counts');
  printStatementResults(await benchStatementImport(sizes), `PostgreSQL server (${new URL(process.env.DATABASE_URL).host})`);
}

async function main() {
  if (values.only === 'campaign-progress') return campaign();
  if (values.only === 'statement-import') return statements();
  const { handle, label } = await openBenchDatabase();
  await migrate(handle);
  await handle.db.execute(
    sql`CREATE TABLE bench_rows (id uuid PRIMARY KEY, body jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`,
  );

  const config = parseConfig({
    PORT: '0',
    JWT_SECRET,
    LOG_LEVEL: 'silent',
    VNPAY_TMN_CODE: VNPAY_TMN,
    VNPAY_HASH_SECRET: VNPAY_SECRET,
    ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
  });
  let baseUrl = 'http://127.0.0.1:0';
  const fetcher = { current: null as null | ((r: Request) => Response | Promise<Response>) };
  const server = serve({ fetch: (r) => fetcher.current!(r), port: 0, hostname: '127.0.0.1' });
  await new Promise((resolve) => server.once('listening', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const deps = await buildDeps(
    { ...config, publicBaseUrl: baseUrl },
    handle,
    { jwtSecret: JWT_SECRET, sandboxSecrets: ['bench-sandbox-secret'], receiptSigningKey: JSON.stringify(await generateReceiptKey()) },
    createNodeLogger('silent'),
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
  await putProcedure(ctx, PROCEDURE, {
    name: 'Đổi giấy phép lái xe',
    field: 'Giấy phép lái xe',
    level: 'tỉnh',
    integratedOnlinePayment: true,
    dataConfidence: 'confirmed',
    note: null,
  });
  const feeRule = await addFeeRule(ctx, PROCEDURE, {
    kind: 'le_phi',
    feeCode: 'LPGPLX',
    name: 'Lệ phí đổi giấy phép lái xe',
    lineNo: 1,
    formula: { type: 'fixed', amount: 135_000 },
    adjustments: [],
    rounding: { mode: 'half_up', unit: 1 },
    validFrom: '2026-01-01',
    validTo: null,
    legalBasis: 'Thông tư 37/2023/TT-BTC',
    collectionAccount: null,
    setByProvince: false,
  });

  // Enough fresh dossiers for every create-intent request: each pays a different dossier.
  const needed = Math.max(40_000, Math.ceil((seconds + warmupSeconds) * 6000));
  // Made in SQL, so the setup neither takes long nor shows in a profile of the measurement.
  // A day per 10,000 dossiers, so the 4-digit daily sequence never repeats.
  const codeOf = (n: number) =>
    `${COMMUNE}-2611${String(10 + Math.floor(n / 10_000)).padStart(2, '0')}-${String(n % 10_000).padStart(4, '0')}`;
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
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('bench')
    .setIssuer(config.auth.issuer)
    .setAudience(config.auth.audience)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(JWT_SECRET));

  /** What bench-load.mjs reports for one run (latencies in ms, null when nothing was answered). */
  interface LoadResult {
    ok: number;
    errors: number;
    statusCounts: Record<string, number>;
    seconds: number;
    rate: number;
    p50: number | null;
    p95: number | null;
    p99: number | null;
  }
  const load = (kind: string, extra: Record<string, unknown> = {}) =>
    new Promise<LoadResult>((resolve, reject) => {
      const worker = new Worker(new URL('./bench-load.mjs', import.meta.url), {
        workerData: { baseUrl, concurrency, seconds, warmupSeconds, kind, token, ...extra },
      });
      worker.once('message', resolve);
      worker.once('error', reject);
    });

  if (values.only === 'insert' || values.only === 'create-intent') {
    const r = await load(values.only, { dossierCodes: codes });
    console.log(`${values.only}: ${r.rate.toFixed(0)} req/s, p50 ${r.p50?.toFixed(1)} ms, p95 ${r.p95?.toFixed(1)} ms, errors ${r.errors}`);
    server.close();
    await handle.close();
    return;
  }
  const results: Array<[string, LoadResult]> = [];
  const all = !values.only;
  if (all) {
    results.push(['one-INSERT route (baseline)', await load('insert')]);
    results.push(['POST /v1/payment-intents', await load('create-intent', { dossierCodes: codes })]);
    // For scale: the cheapest authenticated route (token, validation, one indexed SELECT).
    const intentIds = (await queryRows<{ id: string }>(handle.db, sql`SELECT id FROM payment_intents LIMIT 5000`)).map((r) => r.id);
    results.push(['GET /v1/payment-intents/{id} (reference)', await load('get-intent', { intentIds })]);
  }
  // VNPay IPNs: pending VNPay intents for dossiers the create-intent run did not use, made in
  // SQL; each IPN is signed beforehand, as VNPay would send it, so signing is not measured.
  const ipnCount = Math.ceil((seconds + warmupSeconds) * 2500);
  const pending = await queryRows<{ reference: string; amount: number }>(
    handle.db,
    sql`
    WITH free AS (
      SELECT d.code, row_number() OVER (ORDER BY d.code) AS n FROM dossiers d
      WHERE NOT EXISTS (SELECT 1 FROM payment_intents i WHERE i.dossier_code = d.code)
      ORDER BY d.code LIMIT ${ipnCount}
    ), intent AS (
      INSERT INTO payment_intents (id, reference, dossier_code, gateway, amount, currency, status, return_url, expires_at,
                                   online_payment_flag, principal, created_at, updated_at)
      SELECT gen_random_uuid(), 'HPV' || lpad(n::text, 9, '0'), code, 'vnpay', 135000, 'VND', 'pending',
             'https://dichvucong.dongnai.gov.vn/ket-qua', now() + interval '1 day', 2, 'portal:bench', now(), now()
      FROM free
      RETURNING id, dossier_code, reference, amount
    ), held AS (
      UPDATE obligations o SET live_intent_id = intent.id FROM intent WHERE o.dossier_code = intent.dossier_code
      RETURNING o.id AS obligation_id, intent.id AS intent_id, o.amount
    ), links AS (
      INSERT INTO intent_obligations (intent_id, obligation_id, amount) SELECT intent_id, obligation_id, amount FROM held
    )
    SELECT reference, amount::int AS amount FROM intent ORDER BY reference`,
  );
  // Each agency numbers its receipts in its own gapless series, so payments of one agency queue
  // on its counter for the length of one statement; a province has a hundred or more.
  const agencyCount = Math.max(1, Number(values.agencies));
  if (agencyCount > 1) {
    for (let k = 1; k < agencyCount; k++) {
      await upsertAgency(ctx, {
        code: `000.${String(40 + k).padStart(2, '0')}.32.H19`,
        name: `UBND xã thử nghiệm ${k}`,
        level: 'commune',
        parentCode: PROVINCE,
      });
    }
    await handle.db.execute(sql`
      UPDATE dossiers d SET agency_code = CASE WHEN n.k = 0 THEN ${COMMUNE} ELSE '000.' || lpad((40 + n.k)::text, 2, '0') || '.32.H19' END
      FROM (SELECT i.dossier_code, (row_number() OVER (ORDER BY i.reference) % ${agencyCount}) AS k
            FROM payment_intents i WHERE i.gateway = 'vnpay') n
      WHERE d.code = n.dossier_code`);
  }
  const payDate = vnCompactTimestamp(new Date());
  const ipnPaths = await Promise.all(
    pending.map(async (intent, n) => {
      const { query, hash } = await signedQuery(
        {
          vnp_Amount: toVnpAmount(Number(intent.amount)),
          vnp_BankCode: 'NCB',
          vnp_BankTranNo: `VNP${14000000 + n}`,
          vnp_CardType: 'ATM',
          vnp_OrderInfo: 'Thanh toan phi le phi ho so',
          vnp_PayDate: payDate,
          vnp_ResponseCode: '00',
          vnp_TmnCode: VNPAY_TMN,
          vnp_TransactionNo: String(14000000 + n),
          vnp_TransactionStatus: '00',
          vnp_TxnRef: intent.reference,
        },
        VNPAY_SECRET,
      );
      return `/v1/callbacks/vnpay?${query}&vnp_SecureHash=${hash}`;
    }),
  );
  if (all || values.only === 'ipn') {
    results.push([
      'GET /v1/callbacks/vnpay (verified IPN, applied)',
      await load('get-once', { paths: ipnPaths, expectBody: '"RspCode":"00"' }),
    ]);
  } else {
    // The repeats need applied IPNs: applied here, unmeasured.
    await load('get-once', { paths: ipnPaths, expectBody: '"RspCode":"00"', seconds: 3, warmupSeconds: 0 });
  }
  const applied = await queryRows<{ reference: string }>(
    handle.db,
    sql`SELECT reference FROM payment_intents WHERE gateway = 'vnpay' AND status = 'succeeded'`,
  );
  const appliedSet = new Set(applied.map((r) => r.reference));
  const replayPaths = ipnPaths.filter((_, n) => appliedSet.has(pending[n]!.reference));
  if (all || values.only === 'ipn-replay') {
    results.push([
      'GET /v1/callbacks/vnpay (IPN delivered again)',
      await load('get-cycle', { paths: replayPaths, expectBody: '"RspCode":"02"' }),
    ]);
  }
  if (all) results.push(['one-INSERT route (again)', await load('insert')]);

  if (!all) {
    for (const [name, r] of results)
      console.log(`${name}: ${r.rate.toFixed(0)} req/s, p50 ${r.p50?.toFixed(1)} ms, p95 ${r.p95?.toFixed(1)} ms, errors ${r.errors}`);
    server.close();
    await handle.close();
    return;
  }
  const baseline = (results[0]![1].rate + results.at(-1)![1].rate) / 2;
  const fmt = (n: number | null) => (n === null ? '—' : n.toFixed(1));
  console.log(
    `\nDatabase: ${label}; ${os.cpus().length} CPUs; ${concurrency} requests in flight; ${seconds} s per measurement; ` +
      `IPNs spread over ${agencyCount} collecting ${agencyCount === 1 ? 'agency' : 'agencies'}\n`,
  );
  console.log('| route | req/s | p50 ms | p95 ms | p99 ms | errors | vs baseline |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const [name, r] of results) {
    console.log(
      `| ${name} | ${r.rate.toFixed(0)} | ${fmt(r.p50)} | ${fmt(r.p95)} | ${fmt(r.p99)} | ${r.errors} | ${((r.rate / baseline) * 100).toFixed(0)} % |`,
    );
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
  await campaign();
  await statements();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
