/**
 * The statement benchmark (issue 11; part of `npm run bench` on a server, alone with
 * `--only statement-import`): on the server PostgreSQL of DATABASE_URL (scratch database
 * `hub_bench_statements`), for each size N (default 100,000 and 1,000,000) a day of the hub is
 * made in SQL — N VNPay payments of that day (`day()` below: most succeeded, 1 in 50 failed) and
 * their dossiers — and a VNPay daily file of N lines describing it as a real day would: most lines
 * name a hub payment (by VNPay's transaction number, or only by the hub reference), and some do
 * not match — unknown transactions (missing_in_hub), a different amount (amount_mismatch), a line
 * given twice (duplicate), unreadable lines (kept, rejected), payments the file leaves out
 * (missing_in_statement). Then, in the same run:
 *   1. baseline: a plain `COPY … FROM STDIN (FORMAT csv)` of the same file into a plain table of
 *      text columns, through postgres.js, in this process;
 *   2. the hub's import (`importStatement`, as POST /v1/statements and the CLI call it), in a
 *      child process of its own per size, so that its peak memory (RSS high-water mark,
 *      `process.resourceUsage().maxRSS`) is the import's alone;
 *   3. the day's matching, `runReconciliation` (POST /v1/reconciliations), timed after the import
 *      in the same child.
 * Targets (the issue): import + reconcile ≤ 5× the COPY of the same file; peak RSS < 300 MB and
 * the same at 100,000 lines as at 1,000,000.
 */
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import postgres from 'postgres';
import { parseConfig } from '../src/config.ts';
import { migrate } from '../src/db/migrate.ts';
import { connectServer } from '../src/db/server.ts';
import { buildDeps, serviceContext } from '../src/deps.ts';
import { addDays } from '../src/domain/dates.ts';
import { createNodeLogger } from '../src/node/logger.ts';
import type { ServiceContext } from '../src/services/context.ts';
import { generateReceiptKey } from '../src/services/receipt-signer.ts';
import { type RunResult, runReconciliation } from '../src/services/reconciliation.ts';
import { importStatement } from '../src/services/statements.ts';

const DATABASE = 'hub_bench_statements';
const PROVINCE = '000.00.00.H19';
const JWT_SECRET = 'bench-secret-bench-secret-bench-secret-0123';
const HEADER = 'Mã GD VNPAY,Mã GD merchant,Số tiền,Thời gian thanh toán,Trạng thái,Nội dung thanh toán\n';
const ADMIN = { subject: 'bench', role: 'admin' as const, agencies: [] };

/** The day's matching after the import, as POST /v1/reconciliations runs it. */
function reconcileStep(ctx: ServiceContext, source: string, date: string): Promise<RunResult> {
  return runReconciliation(ctx, ADMIN, { source, date });
}

/*
 * Line n of a day of N lines (n = 0 … N-1) and the hub's payment n, said once for the file (JS)
 * and the hub's rows (SQL, `day()`), on the k-th day of the run: VNPay's number k × 10^8 + n, the
 * hub reference HP + k + n on 9 digits (references are unique across days), amount (50 + n mod 40 × 5) thousand đồng, paid at n/N of the day.
 *   n mod 200 = 199   the line's amount is unreadable (135.5): rejected, kept; the payment is missing_in_statement
 *   n mod 50 = 0      failed at VNPay, failed in the hub: the line is not money, the intent not a payment
 *   n mod 100 = 3     a transaction the hub does not have (no intent): missing_in_hub
 *   n mod 100 = 5     the line gives no VNPay number: matched on the reference
 *   n mod 1000 = 7    the line's amount is 1,000 đồng more: amount_mismatch
 *   n mod 5000 = 13   line n-1 given again (no intent n): duplicate
 * and N/100 more payments of the day (n = N … N + N/100 - 1) in no line: missing_in_statement.
 */
const amountOf = (n: number) => (50 + (n % 40) * 5) * 1000;
const referenceOf = (k: number, n: number) => `HP${k}${String(n).padStart(9, '0')}`;
const transactionOf = (k: number, n: number) => String(k * 100_000_000 + n);

/** A VNPay daily file of `lines` lines for `date` (see above). */
async function generate(file: string, lines: number, date: string, k: number): Promise<number> {
  const batch = 10_000;
  const [y, mo, d] = date.split('-');
  const dmy = `${d}/${mo}/${y}`;
  const line = (n: number, of: number) => {
    const seconds = Math.floor((n / lines) * 86_399);
    const time = `${dmy} ${String(Math.floor(seconds / 3600)).padStart(2, '0')}:${String(Math.floor(seconds / 60) % 60).padStart(2, '0')}:${String(seconds % 60).padStart(2, '0')}`;
    const unknown = of % 100 === 3;
    // An unknown transaction: a number and a reference no intent has (n < 10^8, so no clash).
    const txn = of % 100 === 5 ? '' : unknown ? `9${transactionOf(k, of)}` : transactionOf(k, of);
    const reference = unknown ? `HP${k}9${String(of).padStart(8, '0')}` : referenceOf(k, of);
    const vnd = amountOf(of) + (of % 1000 === 7 ? 1000 : 0);
    const amount = of % 200 === 199 ? '135.5' : (vnd / 1000).toLocaleString('vi-VN') + '.000';
    return `${txn},${reference},"${amount}",${time},${of % 50 === 0 ? 'Thất bại' : 'Thành công'},Thanh toan le phi ho so ${of}\n`;
  };
  async function* text() {
    yield HEADER;
    for (let start = 0; start < lines; start += batch) {
      let chunk = '';
      for (let n = start; n < Math.min(lines, start + batch); n++) chunk += line(n, n % 5000 === 13 ? n - 1 : n);
      yield chunk;
    }
  }
  await pipeline(Readable.from(text()), createWriteStream(file));
  return (await stat(file)).size;
}

/** The hub's side of the day: its VNPay payments (and their dossiers), made in SQL with generate_series. */
async function day(sql: postgres.Sql, lines: number, date: string, k: number) {
  const dayStart = `($1::date::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh')`;
  const extra = Math.floor(lines / 100);
  // Dossiers in bulk with their roll-up triggers off (as the campaign benchmark does): the
  // matcher reads intents only; the dossiers are there because an intent pays one.
  await sql`ALTER TABLE dossiers DISABLE TRIGGER USER`;
  await sql.unsafe(
    `
    INSERT INTO dossiers (code, procedure_code, agency_code, channel, received_at, received_date, fee_list, online_payment_flag, paid_at)
    SELECT 'BS-' || $1 || '-' || n, 'BENCH.1', '${PROVINCE}', 'online', t.at - interval '1 hour', $1::date, 'charged',
           CASE WHEN n % 50 = 0 AND n < $2::int THEN 0 ELSE 1 END, CASE WHEN n % 50 = 0 AND n < $2::int THEN NULL ELSE t.at END
    FROM generate_series(0, $2::int + $3::int - 1) AS n
    CROSS JOIN LATERAL (SELECT ${dayStart} + floor(least(n, $2::int - 1)::numeric / $2::int * 86399) * interval '1 second' AS at) t
    WHERE n >= $2::int OR (n % 100 <> 3 AND n % 5000 <> 13)`,
    [date, lines, extra],
  );
  await sql`ALTER TABLE dossiers ENABLE TRIGGER USER`;
  await sql.unsafe(
    `
    INSERT INTO payment_intents (id, reference, dossier_code, gateway, amount, status, return_url, expires_at, gateway_transaction_id,
                                 online_payment_flag, succeeded_at, principal, created_at, updated_at)
    SELECT gen_random_uuid(), 'HP' || $4::int || lpad(n::text, 9, '0'), d.code, 'vnpay', (50 + (n % 40) * 5) * 1000,
           CASE WHEN n % 50 = 0 AND n < $2::int THEN 'failed' ELSE 'succeeded' END, 'https://bench.invalid/return',
           d.received_at + interval '75 minutes', ($4::bigint * 100000000 + n)::text, 1, d.paid_at, 'bench', d.received_at, d.received_at
    FROM generate_series(0, $2::int + $3::int - 1) AS n
    JOIN dossiers d ON d.code = 'BS-' || $1 || '-' || n`,
    [date, lines, extra, k],
  );
  await sql`ANALYZE dossiers`;
  await sql`ANALYZE payment_intents`;
}

interface ChildResult {
  lines: number;
  imported: number;
  rejected: number;
  importMs: number;
  reconcileMs: number;
  /** The run's classes: count per class. */
  classes: Record<string, number>;
  maxRssMb: number;
  rssBeforeMb: number;
  heapUsedMb: number;
}

/** One size's import, in this (child) process: `--child <file> <date>`. */
async function child(file: string, date: string) {
  const url = new URL(process.env.DATABASE_URL!);
  url.pathname = `/${DATABASE}`;
  const handle = connectServer(url.toString(), { poolMax: 4 });
  const config = parseConfig({ PORT: '0', JWT_SECRET, LOG_LEVEL: 'silent', DATABASE_URL: url.toString(), VNPAY_AGENCY_CODE: PROVINCE });
  const deps = await buildDeps(
    config,
    handle,
    { jwtSecret: JWT_SECRET, receiptSigningKey: JSON.stringify(await generateReceiptKey()) },
    createNodeLogger('silent'),
  );
  const ctx = serviceContext(deps);
  const rssBeforeMb = process.resourceUsage().maxRSS / 1024;
  const started = performance.now();
  const body = Readable.toWeb(createReadStream(file, { highWaterMark: 256 * 1024 })) as unknown as ReadableStream<Uint8Array>;
  const result = await importStatement(ctx, ADMIN, { source: 'vnpay', date, body, format: 'csv', fileName: 'bench.csv' });
  const importMs = performance.now() - started;
  const reconcileStarted = performance.now();
  const reconciled = await reconcileStep(ctx, 'vnpay', date);
  const reconcileMs = performance.now() - reconcileStarted;
  const out: ChildResult = {
    lines: result.body.linesTotal,
    imported: result.body.linesImported,
    rejected: result.body.linesRejected,
    importMs,
    reconcileMs,
    classes: Object.fromEntries(Object.entries(reconciled.summary).map(([k, v]) => [k, v.count])),
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    rssBeforeMb,
    heapUsedMb: process.memoryUsage().heapUsed / 1024 / 1024,
  };
  await handle.close();
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

function runChild(file: string, date: string): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const script = new URL(import.meta.url).pathname;
    // BENCH_CHILD_NODE_ARGS: extra node flags for the import child, e.g. `--cpu-prof --cpu-prof-dir=/tmp/p`.
    const extra = (process.env.BENCH_CHILD_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const proc = spawn(process.execPath, [...extra, '--import', 'tsx', script, '--child', file, date], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: process.env,
    });
    let stdout = '';
    proc.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    proc.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`the import child exited ${code}: ${stdout}`));
      resolve(JSON.parse(stdout.trim().split('\n').at(-1)!) as ChildResult);
    });
  });
}

export interface StatementBenchResult {
  size: number;
  bytes: number;
  copyMs: number;
  child: ChildResult;
  /** What no import and matching can do without, measured after them on the same lines: see `floors`. */
  floor: { linesCopyMs: number; joinMs: number };
}

/**
 * Two parts of the work every import and matching of the day must do at least once, each timed
 * alone on the lines the import just made: writing the normalised lines (already read: an
 * INSERT … SELECT of them into a table shaped as statement_lines, with its key), and the one join
 * of the lines with the source's intents on the transaction id (into a temporary table, as the
 * matcher's is). Their sum against the file's COPY is how close to it the whole can come here.
 */
async function floors(sql: postgres.Sql): Promise<StatementBenchResult['floor']> {
  const [statement] = await sql`SELECT id FROM statements WHERE status = 'current' ORDER BY created_at DESC LIMIT 1`;
  const id = statement!.id as string;
  await sql`DROP TABLE IF EXISTS bench_lines_copy`;
  await sql`CREATE TABLE bench_lines_copy (LIKE statement_lines INCLUDING ALL)`;
  await sql`CHECKPOINT`;
  const copyStarted = performance.now();
  await sql`INSERT INTO bench_lines_copy SELECT * FROM statement_lines WHERE statement_id = ${id}::uuid`;
  const linesCopyMs = performance.now() - copyStarted;
  await sql`DROP TABLE bench_lines_copy`;
  const joinMs = await sql.begin(async (tx) => {
    await tx`SELECT set_config('work_mem', '128MB', true), set_config('jit', 'off', true)`;
    const started = performance.now();
    await tx.unsafe(`CREATE TEMP TABLE bench_join ON COMMIT DROP AS
                     SELECT l.line_no, i.id FROM statement_lines l
                     LEFT JOIN payment_intents i ON i.gateway_transaction_id = l.transaction_id AND i.gateway = 'vnpay'
                     WHERE l.statement_id = '${id}'::uuid`);
    return performance.now() - started;
  });
  return { linesCopyMs, joinMs };
}

export async function benchStatementImport(sizes: number[]): Promise<StatementBenchResult[]> {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('the statement benchmark runs on a server PostgreSQL: set DATABASE_URL');
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  await admin.unsafe(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
  await admin.unsafe(`CREATE DATABASE ${DATABASE}`);
  await admin.end();
  const target = new URL(url);
  target.pathname = `/${DATABASE}`;
  const handle = connectServer(target.toString(), { poolMax: 2 });
  await migrate(handle);
  await handle.close();
  const sql = postgres(target.toString(), { max: 1, onnotice: () => {} });
  await sql`CREATE TABLE bench_statement_copy (c1 text, c2 text, c3 text, c4 text, c5 text, c6 text)`;
  // The VNPay merchant's agency (VNPAY_AGENCY_CODE) and one procedure, for the day's dossiers.
  await sql`INSERT INTO agencies (code, name, level, path, depth) VALUES (${PROVINCE}, 'UBND tỉnh (bench)', 'province', ${`/${PROVINCE}/`}, 0)`;
  await sql`INSERT INTO procedures (code, name, field, level) VALUES ('BENCH.1', 'Thủ tục (bench)', 'bench', 'tỉnh')`;
  const dir = mkdtempSync(join(tmpdir(), 'hub-bench-statements-'));
  const results: StatementBenchResult[] = [];
  try {
    for (const [i, size] of sizes.entries()) {
      const file = join(dir, `vnpay-${size}.csv`);
      // Each size on a day of its own, far enough apart that no intent of one is a candidate of the other.
      const date = addDays('2026-09-01', 45 * i);
      const bytes = await generate(file, size, date, i + 1);
      await day(sql, size, date, i + 1);
      // The day's million rows leave the server gigabytes of WAL to write out: a checkpoint now,
      // so that neither the baseline nor the import pays for the generator's writes.
      await sql`CHECKPOINT`;
      await sql`TRUNCATE bench_statement_copy`;
      const copyStarted = performance.now();
      const writable = await sql`COPY bench_statement_copy FROM STDIN (FORMAT csv, HEADER true)`.writable();
      await pipeline(createReadStream(file, { highWaterMark: 256 * 1024 }), writable);
      const copyMs = performance.now() - copyStarted;
      const child = await runChild(file, date);
      results.push({ size, bytes, copyMs, child, floor: await floors(sql) });
      rmSync(file);
    }
  } finally {
    await sql.end();
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

export function printStatementResults(results: StatementBenchResult[], where: string) {
  const s = (ms: number) => (ms / 1000).toFixed(2);
  console.log(
    `\nStatement import and matching — ${where}; a generated VNPay day (see scripts/bench-statements.ts), COPY baseline in the same run\n`,
  );
  console.log(
    '| lines | file MB | COPY s | import s | reconcile s | total s | import ÷ COPY | total ÷ COPY | RSS before import MB | peak RSS MB | heap MB at end |',
  );
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    const total = r.child.importMs + r.child.reconcileMs;
    console.log(
      `| ${r.size.toLocaleString('en')} | ${(r.bytes / 1024 / 1024).toFixed(1)} | ${s(r.copyMs)} | ${s(r.child.importMs)} | ${s(r.child.reconcileMs)} | ${s(total)} | ` +
        `${(r.child.importMs / r.copyMs).toFixed(2)}× | ${(total / r.copyMs).toFixed(2)}× | ${r.child.rssBeforeMb.toFixed(0)} | ${r.child.maxRssMb.toFixed(0)} | ${r.child.heapUsedMb.toFixed(0)} |`,
    );
  }
  console.log('\nWhat the work cannot do without, each alone on the same lines (see `floors` in scripts/bench-statements.ts):\n');
  console.log(
    '| lines | COPY of the file s | writing the normalised lines s | ÷ COPY | join of lines and intents s | ÷ COPY | together ÷ COPY |',
  );
  console.log('|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    const { linesCopyMs, joinMs } = r.floor;
    console.log(
      `| ${r.size.toLocaleString('en')} | ${s(r.copyMs)} | ${s(linesCopyMs)} | ${(linesCopyMs / r.copyMs).toFixed(2)}× | ${s(joinMs)} | ` +
        `${(joinMs / r.copyMs).toFixed(2)}× | ${((linesCopyMs + joinMs) / r.copyMs).toFixed(2)}× |`,
    );
  }
  for (const r of results) {
    const classes = Object.entries(r.child.classes).map(([k, v]) => `${k} ${v.toLocaleString('en')}`);
    console.log(
      `${r.size.toLocaleString('en')} lines (${r.child.imported.toLocaleString('en')} imported, ${r.child.rejected.toLocaleString('en')} rejected): ${classes.join(', ')}`,
    );
  }
}

if (process.argv.includes('--child')) {
  const at = process.argv.indexOf('--child');
  await child(process.argv[at + 1]!, process.argv[at + 2]!);
  process.exit(0);
}
