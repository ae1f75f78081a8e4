/**
 * `npm run bench` — throughput of the hub's hot paths against two baselines, measured in the same
 * run, over real HTTP, on the same database:
 *   DATABASE_URL=postgres://… npm run bench   (a scratch database `hub_bench` is created on that server)
 *   npm run bench                             (embedded PGlite, in a scratch folder)
 *
 * The hub runs in a process of its own (scripts/bench-hub.ts: src/node/hub.ts's runHub, what
 * `npm start`'s worker runs, with the baselines in front of it); the load comes from this process,
 * through autocannon (an established load generator: HdrHistogram latencies, keep-alive
 * connections; each answer's body checked where a right one is known); PostgreSQL runs in its own processes. The baselines, a bare
 * Hono route and a route doing one INSERT through postgres.js, are measured first and last.
 * Options: --seconds N (per measurement, default 8), --warmup N (2), --concurrency list (16,64: the
 * first is the targets'), --only <route> (one route, e.g. under a profile: routes (all of them) | bare | insert |
 * create-intent | get-intent | ipn | ipn-spread | ipn-replay | campaign-progress |
 * statement-import | webhooks), --profile (the hub runs under `node --cpu-prof`, its profile
 * written to bench-profiles/).
 * Then the campaign-progress query at each of --sizes dossiers (bench-campaign.ts), the statement
 * import against COPY (bench-statements.ts), and webhook deliveries (bench-webhooks.ts).
 */

import { type ChildProcess, fork } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { SignJWT } from 'jose';
import postgres from 'postgres';
import { parseConfig } from '../src/config.ts';
import { vnCompactTimestamp } from '../src/domain/dates.ts';
import { signString, toVnpAmount } from '../src/gateways/vnpay/protocol.ts';
import { benchCampaignProgress, printCampaignResults } from './bench-campaign.ts';
import { BENCH_PROVINCE } from './bench-catalogue.ts';
import { benchStatementImport, printStatementResults } from './bench-statements.ts';
import { benchWebhooks } from './bench-webhooks.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    concurrency: { type: 'string', default: '16,64' },
    warmup: { type: 'string', default: '2' },
    /** Collecting agencies of the spread IPN run (each has its own receipt series). */
    agencies: { type: 'string', default: '20' },
    only: { type: 'string' },
    profile: { type: 'boolean', default: false },
    /** Dossier counts for the campaign-progress benchmark, comma-separated. */
    sizes: { type: 'string' },
    /** Timed campaign-progress requests per size. */
    iterations: { type: 'string', default: '400' },
    /** Keep the campaign-progress databases of an earlier run (same sizes) instead of making them again. */
    reuse: { type: 'boolean', default: false },
    /** The campaign-progress benchmark's province: the demo's (default), `wide` (150 more communes, 300 more procedures), or `both`. */
    grid: { type: 'string', default: 'demo' },
    /** Deltas each campaign-progress read adds to the summary: a minute of payments (100 a second, two deltas each). */
    'campaign-deltas': { type: 'string', default: '12000' },
    /** Line counts of the statement-import benchmark (server PostgreSQL only), comma-separated. */
    'statement-sizes': { type: 'string', default: '100000,1000000' },
    /** The webhook benchmark: events written, the dossiers they are spread over, events per recordEvents transaction. */
    'webhook-events': { type: 'string', default: '5000' },
    'webhook-dossiers': { type: 'string', default: '500' },
    'webhook-batch': { type: 'string', default: '100' },
    /** Endpoint counts and receiver delays (ms), comma-separated: one run per pair. */
    'webhook-endpoints': { type: 'string', default: '1,4' },
    'webhook-delays': { type: 'string', default: '0,20' },
    /** Seconds one worker run may take at most. */
    'webhook-time-limit': { type: 'string', default: '90' },
  },
});
const seconds = Number(values.seconds);
const warmupSeconds = Number(values.warmup);
const concurrencies = values.concurrency!.split(',').map((x) => Number(x.trim()));
if (concurrencies.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('--concurrency: comma-separated whole numbers');

const JWT_SECRET = 'bench-secret-bench-secret-bench-secret-0123';
const VNPAY_TMN = 'BENCH001';
const VNPAY_SECRET = 'bench-vnpay-hash-secret-0123456789';

async function campaign() {
  const sizes = (values.sizes ?? (process.env.DATABASE_URL ? '100000,10000000' : '100000')).split(',').map((x) => Number(x.trim()));
  if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('--sizes: comma-separated dossier counts');
  if (values.grid !== 'demo' && values.grid !== 'wide' && values.grid !== 'both') throw new Error('--grid: demo, wide or both');
  const where = process.env.DATABASE_URL ? `PostgreSQL server (${new URL(process.env.DATABASE_URL).host})` : 'embedded PGlite';
  for (const grid of values.grid === 'both' ? (['demo', 'wide'] as const) : [values.grid as 'demo' | 'wide']) {
    const results = await benchCampaignProgress({
      sizes,
      iterations: Number(values.iterations),
      reuse: values.reuse ?? false,
      grid,
      deltas: Number(values['campaign-deltas']),
    });
    printCampaignResults(
      results,
      `${where}, ${grid === 'wide' ? 'the demo province with 150 more communes and 300 more procedures' : 'the demo province'}`,
    );
  }
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

/** Webhook deliveries (issue 13) from the hub's worker to a receiver process on loopback, against plain signed POSTs. */
async function webhooks() {
  const list = (name: string) =>
    (values[name as keyof typeof values] as string).split(',').map((x) => {
      const n = Number(x.trim());
      if (!Number.isInteger(n) || n < 0) throw new Error(`--${name}: comma-separated whole numbers`);
      return n;
    });
  const ok = await benchWebhooks({
    events: Number(values['webhook-events']),
    dossiers: Number(values['webhook-dossiers']),
    batch: Number(values['webhook-batch']),
    endpoints: list('webhook-endpoints'),
    delays: list('webhook-delays'),
    timeLimitSeconds: Number(values['webhook-time-limit']),
  });
  if (!ok) process.exitCode = 1;
}

/** A free loopback port for the hub. */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

interface BenchHub {
  url: string;
  child: ChildProcess;
  label: string;
  stop(): Promise<void>;
}

/** scripts/bench-hub.ts in a process of its own, on a scratch database, once it answers /readyz. */
async function startBenchHub(): Promise<BenchHub> {
  const port = await freePort();
  const server = process.env.DATABASE_URL;
  let database: Record<string, string>;
  let dataDir: string | null = null;
  if (server) {
    const admin = postgres(server, { max: 1, onnotice: () => {} });
    await admin.unsafe('DROP DATABASE IF EXISTS hub_bench WITH (FORCE)');
    await admin.unsafe('CREATE DATABASE hub_bench');
    await admin.end();
    const target = new URL(server);
    target.pathname = '/hub_bench';
    database = { DATABASE_URL: target.toString(), DATABASE_POOL_MAX: '20' };
  } else {
    dataDir = mkdtempSync(join(os.tmpdir(), 'hub-bench-'));
    database = { DATA_DIR: dataDir };
  }
  const { generateReceiptKey } = await import('../src/services/receipt-signer.ts');
  const child = fork(new URL('./bench-hub.ts', import.meta.url).pathname, [], {
    execArgv: ['--import', 'tsx', ...(values.profile ? ['--cpu-prof', '--cpu-prof-dir=bench-profiles'] : [])],
    env: {
      ...process.env,
      ...database,
      HOST: '127.0.0.1',
      PORT: String(port),
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      HUB_SUPERVISE: '0',
      LOG_LEVEL: 'warn',
      // No periodic jobs: the routes leave tens of thousands of intents pending that no payer will
      // ever settle, and the jobs' sweeps over them (polling, expiry) would be measured with the route.
      JOBS_INTERVAL_SECONDS: '0',
      JWT_SECRET,
      SESSION_SECRET: 'bench-session-secret-bench-session-secret-0123',
      RECEIPT_SIGNING_KEY: JSON.stringify(await generateReceiptKey()),
      SANDBOX_SECRETS: 'bench-sandbox-secret-0123456789abcdef',
      VNPAY_TMN_CODE: VNPAY_TMN,
      VNPAY_HASH_SECRET: VNPAY_SECRET,
      // The write limit runs, as in production, but a portal at thousands of payments a second does not meet it.
      RATE_LIMIT_WRITES_PER_MINUTE: '100000000',
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the bench hub exited with ${child.exitCode} before it served`);
    const ready = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) throw new Error('the bench hub did not answer /readyz within 120 s');
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    child,
    label: server ? `PostgreSQL server (${new URL(server).host})` : 'embedded PGlite (a scratch folder)',
    async stop() {
      child.kill('SIGTERM');
      await exited;
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
      if (server) {
        await printTableSizes(database.DATABASE_URL!);
        const admin = postgres(server, { max: 1, onnotice: () => {} });
        await admin.unsafe('DROP DATABASE IF EXISTS hub_bench WITH (FORCE)');
        await admin.end();
      }
    },
  };
}

/** The hub process's resident memory now and at its peak (Linux), in MiB. */
function memoryOf(pid: number): { rss: number; peak: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
    return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

interface Measurement {
  name: string;
  connections: number;
  /** Answers per second that were 2xx and, where a body is expected, the right one. */
  rate: number;
  p50: number;
  p99: number;
  errors: number;
  ranOut: boolean;
  peakRssMiB: number | null;
}

/** One request kind: what autocannon sends, how many fresh items one run may use up. */
interface Scenario {
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** The path and body of the n-th request; null when the run has used up its items. */
  next: (n: number) => { path: string; body?: string; headers?: Record<string, string> } | null;
  expectBody?: string;
}

/** Runs one scenario for the warm-up and then the measured seconds, `connections` in flight. */
async function measure(hub: BenchHub, name: string, connections: number, scenario: Scenario): Promise<Measurement> {
  let n = 0;
  let ranOut = false;
  // Answers 2xx but not the right one (a VNPay 97 where 00 was due): errors, not throughput.
  let wrong = 0;
  const expected = scenario.expectBody;
  const run = (duration: number) =>
    autocannon({
      url: hub.url,
      connections,
      duration,
      requests: [
        {
          method: scenario.method,
          headers: { 'content-type': 'application/json', ...scenario.headers },
          ...(expected
            ? {
                onResponse: (status: number, body: string) => {
                  if (status < 300 && !body.includes(expected)) wrong++;
                },
              }
            : {}),
          setupRequest: (request) => {
            const item = scenario.next(n++);
            if (!item) {
              ranOut = true;
              return { ...request, path: '/bench/ran-out' };
            }
            return {
              ...request,
              path: item.path,
              ...(item.body === undefined ? {} : { body: item.body }),
              ...(item.headers ? { headers: { ...request.headers, ...item.headers } } : {}),
            };
          },
        },
      ],
    });
  // One request first, by hand: a scenario that is refused is said at once, with the hub's answer.
  const first = scenario.next(n++);
  if (first) {
    const res = await fetch(`${hub.url}${first.path}`, {
      method: scenario.method,
      headers: { 'content-type': 'application/json', ...scenario.headers, ...first.headers },
      ...(first.body === undefined ? {} : { body: first.body }),
    });
    const text = await res.text();
    if (!res.ok || (scenario.expectBody && !text.includes(scenario.expectBody)))
      throw new Error(`${name}: the first request was answered ${res.status} ${text.slice(0, 400)}`);
  }
  if (warmupSeconds > 0) await run(warmupSeconds);
  wrong = 0;
  const r = await run(seconds);
  const good = r['2xx'] - wrong;
  if (r.non2xx + r.errors + r.timeouts + wrong > 0)
    console.log(
      `  ${name} @${connections}: statuses ${JSON.stringify(r.statusCodeStats)}, wrong bodies ${wrong}, errors ${r.errors}, timeouts ${r.timeouts}`,
    );
  const memory = hub.child.pid ? memoryOf(hub.child.pid) : null;
  return {
    name,
    connections,
    rate: good / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.non2xx + r.errors + r.timeouts + wrong,
    ranOut,
    peakRssMiB: memory?.peak ?? null,
  };
}

async function post<T>(hub: BenchHub, path: string, body: unknown): Promise<T> {
  const res = await fetch(`${hub.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** VNPay IPNs for the given pending intents, signed beforehand as VNPay signs them (signing is not measured). */
function signedIpns(intents: Array<{ reference: string; amount: number }>, offset: number): string[] {
  const payDate = vnCompactTimestamp(new Date());
  return intents.map((intent, n) => {
    const query = signString({
      vnp_Amount: toVnpAmount(intent.amount),
      vnp_BankCode: 'NCB',
      vnp_BankTranNo: `VNP${offset + n}`,
      vnp_CardType: 'ATM',
      vnp_OrderInfo: 'Thanh toan phi le phi ho so',
      vnp_PayDate: payDate,
      vnp_ResponseCode: '00',
      vnp_TmnCode: VNPAY_TMN,
      vnp_TransactionNo: String(offset + n),
      vnp_TransactionStatus: '00',
      vnp_TxnRef: intent.reference,
    });
    const hash = createHmac('sha512', VNPAY_SECRET).update(query).digest('hex');
    return `/v1/callbacks/vnpay?${query}&vnp_SecureHash=${hash}`;
  });
}

/**
 * What the run left on disk, table by table (rows, with indexes and TOAST, bytes per row): the
 * growth figures of docs/scaling.md. Counted after a VACUUM ANALYZE, so the row counts are exact
 * enough and dead rows are not charged to the live ones.
 */
async function printTableSizes(url: string) {
  const db = postgres(url, { max: 1, onnotice: () => {} });
  await db.unsafe('VACUUM ANALYZE');
  const rows = await db<{ table: string; rows: string; bytes: string }[]>`
    SELECT c.relname AS table, c.reltuples::bigint::text AS rows, pg_total_relation_size(c.oid)::text AS bytes
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.reltuples > 1000
    ORDER BY pg_total_relation_size(c.oid) DESC`;
  await db.end();
  console.log('\n| table | rows | MiB (with indexes) | bytes per row |');
  console.log('|---|---:|---:|---:|');
  for (const r of rows) {
    console.log(
      `| ${r.table} | ${Number(r.rows).toLocaleString('en')} | ${(Number(r.bytes) / 2 ** 20).toFixed(1)} | ${Math.round(Number(r.bytes) / Number(r.rows))} |`,
    );
  }
}

/** Items one run may use up: generous, so that a run never runs out (it says so if it does). */
const itemsPerRun = (perSecond: number) => Math.ceil((seconds + warmupSeconds) * perSecond);

async function routes() {
  const only = values.only;
  const wanted = (name: string) => !only || only === 'routes' || only === name;
  const hub = await startBenchHub();
  const config = parseConfig({ JWT_SECRET });
  const token = await new SignJWT({ role: 'portal', agencies: [BENCH_PROVINCE] })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('bench')
    .setIssuer(config.auth.issuer)
    .setAudience(config.auth.audience)
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(new TextEncoder().encode(JWT_SECRET));
  const auth = { authorization: `Bearer ${token}` };
  // The catalogue first (bench_rows among it), so that the first baseline finds its table.
  await post(hub, '/bench/prepare', { kind: 'dossiers', count: 1 });

  const results: Measurement[] = [];
  const say = (m: Measurement) => {
    results.push(m);
    console.log(
      `  ${m.name} @${m.connections}: ${m.rate.toFixed(0)} req/s, p50 ${m.p50} ms, p99 ${m.p99} ms, errors ${m.errors}${m.ranOut ? ' (RAN OUT of items)' : ''}`,
    );
  };
  const bare: Scenario = { method: 'GET', next: () => ({ path: '/bench/bare' }) };
  const insert: Scenario = { method: 'POST', next: (n) => ({ path: '/bench/insert', body: JSON.stringify({ n, note: 'baseline' }) }) };
  const baselines = async (round: string) => {
    for (const c of concurrencies) {
      if (wanted('bare')) say(await measure(hub, `bare Hono route (${round})`, c, bare));
      if (wanted('insert')) say(await measure(hub, `one-INSERT route (${round})`, c, insert));
    }
  };

  console.log(`\nRoutes on ${hub.label}:`);
  await baselines('first');
  for (const c of concurrencies) {
    if (wanted('create-intent')) {
      const { codes } = await post<{ codes: string[] }>(hub, '/bench/prepare', { kind: 'dossiers', count: itemsPerRun(5000) });
      say(
        await measure(hub, 'POST /v1/payment-intents', c, {
          method: 'POST',
          headers: auth,
          next: (n) => {
            const code = codes[n];
            return code
              ? {
                  path: '/v1/payment-intents',
                  headers: { 'idempotency-key': `bench-${code}` },
                  body: JSON.stringify({ dossierCode: code, gateway: 'sandbox', returnUrl: 'https://dichvucong.dongnai.gov.vn/ket-qua' }),
                }
              : null;
          },
        }),
      );
    }
  }
  let intentIds: string[] = [];
  for (const c of concurrencies) {
    if (!wanted('get-intent')) break;
    if (intentIds.length === 0) {
      // Intents to read: made through the API, a few hundred.
      const { codes } = await post<{ codes: string[] }>(hub, '/bench/prepare', { kind: 'dossiers', count: 500 });
      for (const code of codes) {
        const res = await fetch(`${hub.url}/v1/payment-intents`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json', 'idempotency-key': `bench-read-${code}` },
          body: JSON.stringify({ dossierCode: code, gateway: 'sandbox', returnUrl: 'https://dichvucong.dongnai.gov.vn/ket-qua' }),
        });
        intentIds.push(((await res.json()) as { id: string }).id);
      }
    }
    const ids = intentIds;
    say(
      await measure(hub, 'GET /v1/payment-intents/{id}', c, {
        method: 'GET',
        headers: auth,
        next: (n) => ({ path: `/v1/payment-intents/${ids[n % ids.length]}` }),
      }),
    );
  }
  intentIds = [];

  let ipnOffset = 14_000_000;
  const appliedPaths: string[] = [];
  const ipnRun = async (name: string, c: number, agencies: number) => {
    const { intents } = await post<{ intents: Array<{ reference: string; amount: number }> }>(hub, '/bench/prepare', {
      kind: 'vnpay-intents',
      count: itemsPerRun(3000),
      agencies,
    });
    const paths = signedIpns(intents, ipnOffset);
    ipnOffset += paths.length;
    const m = await measure(hub, name, c, {
      method: 'GET',
      expectBody: '"RspCode":"00"',
      next: (n) => (paths[n] ? { path: paths[n]! } : null),
    });
    say(m);
    // The ones answered (applied): delivered again below, as VNPay repeats an IPN it did not see answered.
    appliedPaths.push(...paths.slice(0, Math.floor(m.rate * seconds)));
  };
  for (const c of concurrencies) {
    if (wanted('ipn') || wanted('ipn-replay')) await ipnRun('GET /v1/callbacks/vnpay (IPN applied, one agency)', c, 1);
  }
  for (const c of concurrencies) {
    if (wanted('ipn-spread'))
      await ipnRun(`GET /v1/callbacks/vnpay (IPN applied, ${values.agencies} agencies)`, c, Number(values.agencies));
  }
  const receipts = appliedPaths.length > 0 ? await (await fetch(`${hub.url}/bench/receipts`)).json() : null;
  for (const c of concurrencies) {
    if (!wanted('ipn-replay') || appliedPaths.length === 0) break;
    const paths = appliedPaths;
    say(
      await measure(hub, 'GET /v1/callbacks/vnpay (IPN delivered again)', c, {
        method: 'GET',
        expectBody: '"RspCode":"02"',
        next: (n) => ({ path: paths[n % paths.length]! }),
      }),
    );
  }
  await baselines('again');
  await hub.stop();

  const baseline = (c: number, kind: string) => {
    const runs = results.filter((r) => r.connections === c && r.name.startsWith(kind));
    return runs.length === 0 ? null : runs.reduce((sum, r) => sum + r.rate, 0) / runs.length;
  };
  console.log(
    `\nDatabase: ${hub.label}; ${os.cpus().length} CPUs; autocannon in this process, the hub in another; ${seconds} s per measurement after ${warmupSeconds} s of warm-up\n`,
  );
  console.log('| route | in flight | req/s | p50 ms | p99 ms | errors | hub peak RSS MiB | vs one-INSERT |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    const base = baseline(r.connections, 'one-INSERT');
    const ratio = base ? `${((r.rate / base) * 100).toFixed(0)} %` : '—';
    console.log(
      `| ${r.name}${r.ranOut ? ' (ran out)' : ''} | ${r.connections} | ${r.rate.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.errors} | ${r.peakRssMiB?.toFixed(0) ?? '—'} | ${ratio} |`,
    );
  }
  if (receipts) console.log('\nReceipts of the applied IPNs (from the payment to the receipt issued, ms):', JSON.stringify(receipts));
}

async function main() {
  if (values.only === 'campaign-progress') return campaign();
  if (values.only === 'statement-import') return statements();
  if (values.only === 'webhooks') return webhooks();
  await routes();
  if (values.only) return;
  await campaign();
  await statements();
  await webhooks();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
