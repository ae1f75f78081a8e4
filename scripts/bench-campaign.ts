/**
 * The campaign-progress benchmark (part of `npm run bench`; alone with `--only campaign-progress`):
 * p50/p95/p99 of GET /v1/campaigns/{id}/progress over real HTTP, one request at a time, on the
 * demo's province (its agency tree, catalogue and 30-day campaign, three weeks in) with N
 * dossiers received over the year before "today", for each N of `--sizes`.
 *
 * Each size gets its own scratch database (`hub_bench_campaign_<N>`). Dossiers are made in SQL
 * in batches with the roll-up trigger off, then the roll-ups are recounted by the same function
 * operators use (indicator_daily_rebuild); `--reuse` keeps a database made before (same size and
 * seed) instead of making it again, since ten million dossiers take a few minutes. Each bulk
 * dossier has one fee line (an obligation, paid when the dossier was paid online, without the
 * intent and receipt a real payment leaves: the progress query reads none of them).
 *
 * `--grid wide` adds 150 communes and 300 fee-bearing procedures (each commune receiving 40 of
 * them) to the demo's, and spreads the dossiers over those: a province with far more units and
 * procedures active each day, so that the rows the query reads are many more.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { sql } from 'drizzle-orm';
import { SignJWT } from 'jose';
import postgres from 'postgres';
import { createApp } from '../src/app.ts';
import { parseConfig } from '../src/config.ts';
import { connectEmbedded } from '../src/db/embedded.ts';
import { migrate } from '../src/db/migrate.ts';
import { connectServer } from '../src/db/server.ts';
import { type DatabaseHandle, queryRows } from '../src/db/types.ts';
import { buildDeps, serviceContext } from '../src/deps.ts';
import { addDays, vnDate } from '../src/domain/dates.ts';
import { createNodeLogger } from '../src/node/logger.ts';
import { PROVINCE } from '../src/seed/agencies.ts';
import { receivingShares } from '../src/seed/dossiers.ts';
import { seedDemo } from '../src/seed/index.ts';
import { campaignProgress, refreshCampaignSummaries } from '../src/services/campaigns.ts';
import { addFeeRule, putProcedure, upsertAgency } from '../src/services/catalogue.ts';
import { generateReceiptKey } from '../src/services/receipt-signer.ts';

const JWT_SECRET = 'bench-secret-bench-secret-bench-secret-0123';
const SEED = 766;
const BATCH = 500_000;
const DAYS = 365;

export interface CampaignBenchResult {
  dossiers: number;
  rollupRows: number;
  windowRows: number;
  http: { p50: number; p95: number; p99: number; max: number; n: number };
  service: { p50: number; p95: number; n: number };
  /** In-process, counted from the roll-ups (no summary). */
  live: { p50: number; p95: number; n: number };
  /** The jobs' refresh of the summary. */
  refreshMs: number;
  /** Deltas each read added to the summary. */
  deltas: number;
  generatedSeconds: number | null;
}

export type Grid = 'demo' | 'wide';
const WIDE = { units: 150, procedures: 300, perUnit: 40 };
const SLOTS = 100_000;

const quantile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;

async function openDatabase(size: number, grid: Grid, reuse: boolean): Promise<{ handle: DatabaseHandle; fresh: boolean }> {
  const url = process.env.DATABASE_URL;
  if (!url) return { handle: await connectEmbedded(), fresh: true };
  const name = grid === 'demo' ? `hub_bench_campaign_${size}` : `hub_bench_campaign_${grid}_${size}`;
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  const [exists] = await admin`SELECT 1 FROM pg_database WHERE datname = ${name}`;
  let fresh = true;
  if (exists && reuse) fresh = false;
  else {
    await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.unsafe(`CREATE DATABASE ${name}`);
  }
  await admin.end();
  const target = new URL(url);
  target.pathname = `/${name}`;
  const handle = connectServer(target.toString(), { poolMax: 4 });
  if (!fresh) {
    const meta = await queryRows<{ size: number; seed: number }>(handle.db, sql`SELECT size, seed FROM bench_meta`).catch(() => []);
    if (meta[0]?.size !== size || meta[0]?.seed !== SEED) {
      await handle.close();
      return openDatabase(size, grid, false);
    }
  }
  return { handle, fresh };
}

/** The wide grid's units and procedures, added to the demo catalogue; their shares of the volume. */
async function addWideGrid(
  ctx: ReturnType<typeof serviceContext>,
): Promise<Array<{ agencyCode: string; procedureCode: string; share: number }>> {
  const procedures = Array.from({ length: WIDE.procedures }, (_, i) => `8.${String(100_000 + i).padStart(6, '0')}`);
  for (const [i, code] of procedures.entries()) {
    await putProcedure(ctx, code, {
      name: `Thủ tục thử tải ${i + 1}`,
      field: 'Thử tải',
      level: 'xã',
      integratedOnlinePayment: i % 5 !== 0,
      dataConfidence: 'unconfirmed',
      note: 'bench',
    });
    await addFeeRule(ctx, code, {
      kind: 'le_phi',
      feeCode: 'LP',
      name: 'Lệ phí',
      lineNo: 1,
      formula: { type: 'fixed', amount: 10_000 },
      adjustments: [],
      rounding: { mode: 'half_up', unit: 1 },
      validFrom: '2020-01-01',
      validTo: null,
      legalBasis: 'bench',
      collectionAccount: null,
      setByProvince: true,
    });
  }
  const pairs: Array<{ agencyCode: string; procedureCode: string; weight: number }> = [];
  for (let u = 0; u < WIDE.units; u++) {
    const agencyCode = `000.${String(100 + u).padStart(3, '0')}.88.H19`;
    await upsertAgency(ctx, { code: agencyCode, name: `UBND xã thử tải ${u + 1}`, level: 'commune', parentCode: PROVINCE });
    // Each commune receives 40 procedures, the first few far more often (volumes are skewed).
    for (let j = 0; j < WIDE.perUnit; j++)
      pairs.push({ agencyCode, procedureCode: procedures[(u * 7 + j * 13) % WIDE.procedures]!, weight: 1 / (j + 1) });
  }
  const total = pairs.reduce((n, p) => n + p.weight, 0);
  return pairs.map((p) => ({ agencyCode: p.agencyCode, procedureCode: p.procedureCode, share: p.weight / total }));
}

/** N dossiers spread evenly over the year before `today`, in the given agencies and volumes. */
async function generate(
  handle: DatabaseHandle,
  size: number,
  today: string,
  shares: Array<{ agencyCode: string; procedureCode: string; share: number }>,
  log: (m: string) => void,
) {
  const db = handle.db;
  // Slots, each an (agency, procedure) by its share of the volume: a row picks one at random.
  const slots: Array<{ agency: string; procedure: string }> = [];
  let acc = 0;
  for (const s of shares) {
    acc += s.share;
    while (slots.length < Math.round(acc * SLOTS)) slots.push({ agency: s.agencyCode, procedure: s.procedureCode });
  }
  await db.execute(
    sql`CREATE TABLE bench_slots (slot int PRIMARY KEY, agency_code text NOT NULL, procedure_code text NOT NULL, fee_bearing boolean NOT NULL, integrated boolean NOT NULL)`,
  );
  await db.execute(sql`
    INSERT INTO bench_slots
    SELECT s.slot, s.agency, s.procedure,
           EXISTS (SELECT 1 FROM fee_rules r WHERE r.procedure_code = s.procedure AND r.can_charge AND (r.valid_to IS NULL OR r.valid_to >= ${today}::date)),
           p.integrated_online_payment
    FROM json_to_recordset(${JSON.stringify(slots.map((x, i) => ({ slot: i, ...x })))}::json) AS s(slot int, agency text, procedure text)
    JOIN procedures p ON p.code = s.procedure`);
  const first = addDays(today, -DAYS);
  await db.execute(sql`ALTER TABLE dossiers DISABLE TRIGGER USER`);
  await db.execute(sql`ALTER TABLE obligations DISABLE TRIGGER USER`);
  await db.execute(sql`SELECT setseed(${SEED / 1000})`);
  for (let from = 0; from < size; from += BATCH) {
    const to = Math.min(size, from + BATCH) - 1;
    await db.execute(sql`
      INSERT INTO dossiers (code, procedure_code, agency_code, channel, received_at, received_date, fee_list, online_payment_flag, paid_at, created_at, updated_at)
      SELECT 'BENCH-' || lpad(r.n::text, 9, '0'), s.procedure_code, s.agency_code,
             CASE WHEN r.c < 0.7 THEN 'online' WHEN r.c < 0.97 THEN 'direct' ELSE 'postal' END,
             t.at, ((t.at AT TIME ZONE 'UTC') + interval '7 hours')::date,
             CASE WHEN NOT s.fee_bearing OR r.z < 0.05 THEN 'zero' ELSE 'charged' END,
             CASE WHEN s.fee_bearing AND s.integrated AND r.z >= 0.05 AND r.p < 0.55 THEN (CASE WHEN r.p < 0.06 THEN 1 ELSE 2 END) ELSE 0 END,
             CASE WHEN s.fee_bearing AND s.integrated AND r.z >= 0.05 AND r.p < 0.55 THEN t.at + interval '20 minutes' END,
             t.at, t.at
      FROM (SELECT n, random() AS k, random() AS c, random() AS z, random() AS p, random() AS d
            FROM generate_series(${from}::int, ${to}::int) AS n) r
      JOIN bench_slots s ON s.slot = floor(r.k * ${SLOTS})::int
      CROSS JOIN LATERAL (SELECT (${first}::date::timestamp AT TIME ZONE 'UTC') - interval '7 hours' + r.d * interval '${sql.raw(String(DAYS))} days' AS at) t`);
    // Each dossier's one fee line, as its fee list says: paid when it was paid online.
    await db.execute(sql`
      INSERT INTO obligations (id, dossier_code, line_no, kind, fee_code, name, amount, status, paid_at, created_at, updated_at)
      SELECT gen_random_uuid(), d.code, 1, 'le_phi', 'LP', 'Lệ phí', CASE WHEN d.fee_list = 'charged' THEN 10000 ELSE 0 END,
             CASE WHEN d.fee_list = 'zero' THEN 'waived' WHEN d.online_payment_flag > 0 THEN 'paid' ELSE 'unpaid' END,
             d.paid_at, d.created_at, d.created_at
      FROM dossiers d
      WHERE d.code BETWEEN ${`BENCH-${String(from).padStart(9, '0')}`} AND ${`BENCH-${String(to).padStart(9, '0')}`}`);
    log(`  ${(to + 1).toLocaleString('en')} dossiers`);
  }
  await db.execute(sql`ALTER TABLE dossiers ENABLE TRIGGER USER`);
  await db.execute(sql`ALTER TABLE obligations ENABLE TRIGGER USER`);
  // The operators' rebuild: fee lists from the obligations, then the roll-ups from the dossiers.
  const [rebuilt] = await queryRows<{ fixed: string }>(db, sql`SELECT fee_lists_fixed::text AS fixed FROM indicator_daily_rebuild()`);
  if (Number(rebuilt?.fixed) !== 0) throw new Error(`${rebuilt?.fixed} bulk dossiers had a fee list their obligations disagree with`);
  await db.execute(sql`ANALYZE`);
  await db.execute(sql`CREATE TABLE bench_meta (size int NOT NULL, seed int NOT NULL, today date NOT NULL, campaign uuid NOT NULL)`);
}

export async function benchCampaignProgress(options: {
  sizes: number[];
  iterations: number;
  reuse: boolean;
  grid: Grid;
  /** Deltas the summary's reads add (a minute of payments). */
  deltas: number;
  log?: (m: string) => void;
}): Promise<CampaignBenchResult[]> {
  const log = options.log ?? ((m: string) => console.log(m));
  const results: CampaignBenchResult[] = [];
  for (const size of options.sizes) {
    const { handle, fresh } = await openDatabase(size, options.grid, options.reuse);
    const config = parseConfig({
      PORT: '0',
      JWT_SECRET,
      LOG_LEVEL: 'silent',
      ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
    });
    let today: string;
    let campaignId: string;
    let generatedSeconds: number | null = null;
    const deps0 = await buildDeps(
      config,
      handle,
      { jwtSecret: JWT_SECRET, receiptSigningKey: JSON.stringify(await generateReceiptKey()) },
      createNodeLogger('silent'),
    );
    if (fresh) {
      log(`campaign-progress: making ${size.toLocaleString('en')} dossiers`);
      const started = performance.now();
      await migrate(handle);
      today = vnDate(new Date());
      const ctx = serviceContext(deps0);
      const report = await seedDemo(ctx, { dossiers: 0, now: new Date() });
      campaignId = report.campaignId;
      const shares = options.grid === 'wide' ? await addWideGrid(ctx) : receivingShares();
      await generate(handle, size, today, shares, log);
      await handle.db.execute(sql`INSERT INTO bench_meta VALUES (${size}, ${SEED}, ${today}::date, ${campaignId}::uuid)`);
      generatedSeconds = Math.round((performance.now() - started) / 1000);
    } else {
      const [meta] = await queryRows<{ today: string; campaign: string }>(
        handle.db,
        sql`SELECT to_char(today, 'YYYY-MM-DD') AS today, campaign::text AS campaign FROM bench_meta`,
      );
      today = meta!.today;
      campaignId = meta!.campaign;
      log(`campaign-progress: reusing ${size.toLocaleString('en')} dossiers made for ${today}`);
      // Made by an older build, perhaps: its migrations are brought up to date (the data stays).
      await migrate(handle);
    }
    // The clock stays on the day the data was made for: the campaign is three weeks in.
    const fixedNow = new Date(`${today}T10:00:00+07:00`);
    const deps = { ...deps0, now: () => fixedNow };
    const app = createApp(deps);
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const token = await new SignJWT({ role: 'campaign', agencies: [PROVINCE] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('bench')
      .setIssuer(config.auth.issuer)
      .setAudience(config.auth.audience)
      .setIssuedAt()
      .setExpirationTime('2h')
      .sign(new TextEncoder().encode(JWT_SECRET));
    const url = `${base}/v1/campaigns/${campaignId}/progress`;

    const [counts] = await queryRows<{ dossiers: string; rollups: string; window: string }>(
      handle.db,
      sql`SELECT (SELECT count(*) FROM dossiers)::text AS dossiers, (SELECT count(*) FROM indicator_daily)::text AS rollups,
                 (SELECT count(*) FROM indicator_daily r JOIN campaigns c ON c.id = ${campaignId}::uuid
                  WHERE r.received_date BETWEEN c.baseline_from AND ${today}::date)::text AS window`,
    );
    const check = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    if (check.status !== 200) throw new Error(`progress answered ${check.status}: ${await check.text()}`);
    const body = (await check.json()) as { series: unknown[]; current: { dossierOnlinePayment: { denominator: number } } };
    log(
      `  progress: ${body.series.length} days, ${body.current.dossierOnlinePayment.denominator.toLocaleString('en')} dossiers to pay since the start`,
    );

    // The jobs' refresh of the summary (every minute), timed; then the deltas a minute of payments
    // would leave for each read to add (zero counts: the answer stays the one checked above).
    const jobsCtx = serviceContext(deps);
    const refreshStarted = performance.now();
    const refresh = await refreshCampaignSummaries(jobsCtx);
    const refreshMs = performance.now() - refreshStarted;
    if (refresh.refreshed !== 1) throw new Error(`the summary was not made again: ${JSON.stringify(refresh)}`);
    await handle.db.execute(sql`
      INSERT INTO indicator_deltas (received_date, agency_code, procedure_code, dossiers, zero_fee, charged, paid_online)
      SELECT received_date, agency_code, procedure_code, 0, 0, 0, 0 FROM indicator_daily
      WHERE received_date >= (SELECT start_date FROM campaigns WHERE id = ${campaignId}::uuid)
      ORDER BY md5(agency_code || procedure_code || received_date::text) LIMIT ${options.deltas}`);

    const timeHttp = async () => {
      const started = performance.now();
      const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`progress answered ${response.status}`);
      return performance.now() - started;
    };
    for (let i = 0; i < Math.min(50, options.iterations); i++) await timeHttp();
    const http: number[] = [];
    for (let i = 0; i < options.iterations; i++) http.push(await timeHttp());
    http.sort((a, b) => a - b);

    const ctx = serviceContext(deps);
    const principal = { subject: 'bench', role: 'campaign' as const, agencies: [PROVINCE] };
    const timeService = async (counting: 'summary' | 'live', n: number) => {
      const times: number[] = [];
      for (let i = 0; i < n; i++) {
        const started = performance.now();
        await campaignProgress(ctx, principal, campaignId, undefined, counting);
        times.push(performance.now() - started);
      }
      return times.sort((a, b) => a - b);
    };
    const service = await timeService('summary', Math.ceil(options.iterations / 2));
    // Counted from the roll-ups, as before summaries (and as a unit of the subtree still is).
    const live = await timeService('live', Math.min(20, Math.ceil(options.iterations / 5)));
    server.close();
    await handle.close();
    results.push({
      dossiers: Number(counts!.dossiers),
      rollupRows: Number(counts!.rollups),
      windowRows: Number(counts!.window),
      http: { p50: quantile(http, 0.5), p95: quantile(http, 0.95), p99: quantile(http, 0.99), max: http.at(-1)!, n: http.length },
      service: { p50: quantile(service, 0.5), p95: quantile(service, 0.95), n: service.length },
      live: { p50: quantile(live, 0.5), p95: quantile(live, 0.95), n: live.length },
      refreshMs,
      deltas: options.deltas,
      generatedSeconds,
    });
  }
  return results;
}

export function printCampaignResults(results: CampaignBenchResult[], label: string) {
  const fmt = (n: number) => n.toFixed(1);
  console.log(`\nGET /v1/campaigns/{id}/progress, one request at a time (${label})\n`);
  console.log(
    '| dossiers | roll-up rows (campaign + baseline days) | deltas added | p50 ms | p95 ms | p99 ms | max ms | in-process p95 ms | from the roll-ups p95 ms | summary made in ms | made in |',
  );
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    console.log(
      `| ${r.dossiers.toLocaleString('en')} | ${r.rollupRows.toLocaleString('en')} (${r.windowRows.toLocaleString('en')}) | ${r.deltas.toLocaleString('en')} | ${fmt(r.http.p50)} | ${fmt(r.http.p95)} | ${fmt(r.http.p99)} | ${fmt(r.http.max)} | ${fmt(r.service.p95)} | ${fmt(r.live.p95)} | ${fmt(r.refreshMs)} | ${r.generatedSeconds === null ? 'reused' : `${r.generatedSeconds} s`} |`,
    );
  }
  if (results.length > 1) {
    const p95s = results.map((r) => r.http.p95);
    console.log(
      `\np95 ratio, largest to smallest: ${(Math.max(...p95s) / Math.min(...p95s)).toFixed(2)}× (target ≤ 1.5×); target p95 ≤ 50 ms`,
    );
  }
}
