/**
 * The webhook delivery benchmark (issue 13; part of `npm run bench`, alone with `--only webhooks`):
 * deliveries per second from the hub's delivery worker to a real receiver on loopback.
 *
 * The receiver is a small node:http server in a process of its own (started here, `node -e`),
 * answering 200 at once or after `--webhook-delays` ms; it checks every request's Hub-Signature
 * (node:crypto), counts each (endpoint, event id) it gets, and checks that each dossier's events
 * arrive in the order they were written. The hub runs in a child process of its own (this file with
 * `--webhooks-child`), so that its RSS is the worker's and its database's (PGlite runs in it) alone.
 *
 * Per run (each endpoint count × each receiver delay): the previous run's events are removed, the
 * run's endpoints registered (createEndpoint, all event types, the province's subtree), and N
 * events over D dossiers (several per dossier, interleaved, so that order matters) written through
 * recordEvents in transactions of `--webhook-batch`. Then, in the same run:
 *   1. baseline: the same deliveries (same bodies, same headers, signed by the hub's own
 *      signatureHeader) POSTed with fetch from this process to the same receiver, with as many in
 *      flight as the worker may have (min(WEBHOOK_CONCURRENCY, endpoints × WEBHOOK_ENDPOINT_CONCURRENCY)),
 *      without the database;
 *   2. the hub: startDeliveryWorker (untilIdle, bounded by `--webhook-time-limit`) from its start
 *      to the last attempt recorded. Every delivery recorded must have succeeded at its first
 *      attempt (webhook_deliveries, webhook_attempts), and the receiver must have got each of them
 *      (endpoint, event id) exactly once, signed, in order per dossier, and nothing else; the
 *      deliveries still pending are left only if the time limit came first (the table says so,
 *      and the rate is then of those delivered). Otherwise the run is marked failed.
 * BENCH_WEBHOOKS_TRACE=1 prints, per run, the worker's statements timed by kind (stderr).
 * On a server (DATABASE_URL) it works in a scratch database `hub_bench_webhooks`, dropped after.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import os from 'node:os';
import { type SQL, sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import postgres from 'postgres';
import { parseConfig } from '../src/config.ts';
import { connectEmbedded } from '../src/db/embedded.ts';
import { migrate } from '../src/db/migrate.ts';
import { eventTypes } from '../src/db/schema/outbox.ts';
import { connectServer } from '../src/db/server.ts';
import { type NewEvent, recordEvents } from '../src/db/statements/record-events.ts';
import { type DatabaseHandle, queryRows } from '../src/db/types.ts';
import { buildDeps, serviceContext } from '../src/deps.ts';
import { startDeliveryWorker } from '../src/jobs/delivery-worker.ts';
import { createNodeLogger } from '../src/node/logger.ts';
import { upsertAgency } from '../src/services/catalogue.ts';
import { executor, type ServiceContext, withTransaction } from '../src/services/context.ts';
import { generateReceiptKey } from '../src/services/receipt-signer.ts';
import { SIGNATURE_HEADER, signatureHeader } from '../src/services/webhook-delivery.ts';
import { createEndpoint } from '../src/services/webhook-endpoints.ts';
import { BENCH_COMMUNE, BENCH_PROCEDURE, putBenchProcedure } from './bench-catalogue.ts';

export interface WebhookBenchOptions {
  events: number;
  dossiers: number;
  /** Events per recordEvents transaction. */
  batch: number;
  /** Endpoint counts, one run each (per delay). */
  endpoints: number[];
  /** Receiver answer delays in ms, one run each (per endpoint count). */
  delays: number[];
  /** Upper bound of one worker run, seconds. */
  timeLimitSeconds: number;
}

const DATABASE = 'hub_bench_webhooks';
const JWT_SECRET = 'bench-secret-bench-secret-bench-secret-0123';
const PROVINCE = '000.00.00.H19';
const COMMUNE = BENCH_COMMUNE;
const PROCEDURE = BENCH_PROCEDURE;
const SECRET = 'whsec-bench-0123456789abcdef';
const ADMIN = { subject: 'bench', role: 'admin' as const, agencies: [] };
/** What the bench writes, round-robin: a payment's usual story. */
const TYPES = ['obligation.paid', 'dossier.paid', 'receipt.issued', 'payment.refunded', 'receipt.adjusted'] as const;

// ---------------------------------------------------------------------------------------------
// The receiver: its own process, CommonJS source run by `node -e`.
// ---------------------------------------------------------------------------------------------

const RECEIVER_SOURCE = String.raw`
const http = require('node:http');
const crypto = require('node:crypto');
const delay = Number(process.env.RECEIVER_DELAY_MS || 0);
const secret = process.env.RECEIVER_SECRET;
const zero = () => ({ requests: 0, badSignatures: 0, duplicates: 0, outOfOrder: 0, unreadable: 0 });
let stats = zero();
let seen = new Map();
let last = new Map();
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const raw = Buffer.concat(chunks).toString('utf8');
    stats.requests++;
    const sig = String(req.headers['hub-signature'] || '');
    const t = (/(?:^|,)t=(\d+)/.exec(sig) || [])[1];
    const expected = 'v1=' + crypto.createHmac('sha256', secret).update(t + '.' + raw).digest('hex');
    if (!t || !sig.split(',').includes(expected)) stats.badSignatures++;
    const key = req.url + ' ' + req.headers['hub-event-id'];
    const count = seen.get(key) || 0;
    if (count > 0) stats.duplicates++;
    seen.set(key, count + 1);
    let body = null;
    try { body = JSON.parse(raw); } catch { stats.unreadable++; }
    if (body && body.data && typeof body.data.n === 'number') {
      const queue = req.url + ' ' + body.dossierCode;
      const prev = last.get(queue);
      if (prev !== undefined && body.data.n <= prev) stats.outOfOrder++;
      last.set(queue, body.data.n);
    }
    const answer = () => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('ok'); };
    if (delay > 0) setTimeout(answer, delay); else answer();
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('message', (m) => {
  if (m === 'reset') { stats = zero(); seen = new Map(); last = new Map(); process.send({ reset: true }); }
  else if (m === 'stats') process.send({ stats: { ...stats, keys: [...seen.keys()], rssMb: process.memoryUsage.rss() / 1048576 } });
  else if (m === 'exit') { server.closeAllConnections(); server.close(() => process.exit(0)); }
});
`;

interface ReceiverStats {
  requests: number;
  badSignatures: number;
  duplicates: number;
  outOfOrder: number;
  unreadable: number;
  keys: string[];
  rssMb: number;
}

interface Receiver {
  port: number;
  ask<T>(message: string, key: string): Promise<T>;
  close(): Promise<void>;
}

async function startReceiver(delayMs: number): Promise<Receiver> {
  const child: ChildProcess = spawn(process.execPath, ['-e', RECEIVER_SOURCE], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, RECEIVER_DELAY_MS: String(delayMs), RECEIVER_SECRET: SECRET },
  });
  const next = <T>(key: string) =>
    new Promise<T>((resolve, reject) => {
      const onMessage = (m: Record<string, unknown>) => {
        if (!(key in m)) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(m[key] as T);
      };
      const onExit = (code: number | null) => reject(new Error(`the receiver exited ${code}`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  const port = await next<number>('port');
  return {
    port,
    ask<T>(message: string, key: string) {
      const answer = next<T>(key);
      child.send(message);
      return answer;
    },
    close: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.send('exit');
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// The hub's side (the child process).
// ---------------------------------------------------------------------------------------------

export interface WebhookRun {
  endpoints: number;
  delayMs: number;
  deliveries: number;
  inFlight: number;
  writeSeconds: number;
  baseline: { seconds: number; rate: number; ok: boolean; problems: string[] };
  hub: {
    seconds: number;
    /** Succeeded (all of them, unless the time limit came first). */
    delivered: number;
    rate: number;
    ok: boolean;
    problems: string[];
    attemptP50Ms: number;
    attemptP95Ms: number;
    rssBeforeMb: number;
    rssPeakMb: number;
  };
  receiverRssMb: number;
}

interface ChildOutput {
  label: string;
  cpus: number;
  concurrency: number;
  endpointConcurrency: number;
  pollMs: number;
  runs: WebhookRun[];
  peakRssMb: number;
}

async function openDatabase(): Promise<{ handle: DatabaseHandle; label: string; drop: () => Promise<void> }> {
  const url = process.env.DATABASE_URL;
  if (!url) return { handle: await connectEmbedded(), label: 'embedded PGlite (in memory, in the worker process)', drop: async () => {} };
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  await admin.unsafe(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
  await admin.unsafe(`CREATE DATABASE ${DATABASE}`);
  await admin.end();
  const target = new URL(url);
  target.pathname = `/${DATABASE}`;
  return {
    handle: connectServer(target.toString(), { poolMax: 20 }),
    label: `PostgreSQL server (${new URL(url).host}, database ${DATABASE})`,
    drop: async () => {
      const again = postgres(url, { max: 1, onnotice: () => {} });
      await again.unsafe(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
      await again.end();
    },
  };
}

const dossierCode = (n: number) => `${COMMUNE}-261122-${String(n).padStart(4, '0')}`;

async function setUp(ctx: ServiceContext, handle: DatabaseHandle, dossiers: number) {
  await upsertAgency(ctx, { code: PROVINCE, name: 'UBND tỉnh Đồng Nai', level: 'province', parentCode: null });
  await upsertAgency(ctx, { code: COMMUNE, name: 'UBND phường Trấn Biên', level: 'commune', parentCode: PROVINCE });
  await putBenchProcedure(ctx);
  await handle.db.execute(sql`
    INSERT INTO dossiers (code, procedure_code, agency_code, channel, received_at, received_date)
    SELECT ${COMMUNE} || '-261122-' || lpad(n::text, 4, '0'), ${PROCEDURE}, ${COMMUNE}, 'online', now(), '2026-11-22'
    FROM generate_series(0, ${dossiers - 1}::int) AS n`);
}

/** Events of one run: event k of dossier d is number k × D + d, so each batch interleaves dossiers. */
function makeEvents(options: WebhookBenchOptions, run: number): NewEvent[] {
  const perDossier = Math.ceil(options.events / options.dossiers);
  const events: NewEvent[] = [];
  for (let k = 0; k < perDossier; k++) {
    for (let d = 0; d < options.dossiers && events.length < options.events; d++) {
      events.push({
        id: crypto.randomUUID(),
        type: TYPES[k % TYPES.length]!,
        dossierCode: dossierCode(d),
        occurredAt: new Date(),
        gateway: 'vnpay',
        amount: 135_000,
        data: { n: k, run, intentId: crypto.randomUUID(), reference: `HP${String(run * 1_000_000 + k * 1000 + d).padStart(9, '0')}` },
      });
    }
  }
  return events;
}

interface Delivery {
  id: string;
  path: string;
  eventId: string;
  eventType: string;
  payload: Record<string, unknown>;
}

/** The baseline: the same signed POSTs from this process, `inFlight` at once, no database. */
async function plainPosts(port: number, deliveries: Delivery[], inFlight: number): Promise<{ seconds: number; failed: number }> {
  let next = 0;
  let failed = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < deliveries.length) {
        const d = deliveries[next++]!;
        const body = JSON.stringify(d.payload);
        const response = await fetch(`http://127.0.0.1:${port}${d.path}`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'fee-payment-hub-webhooks/1',
            [SIGNATURE_HEADER]: await signatureHeader([SECRET], Math.floor(Date.now() / 1000), body),
            'Hub-Event-Id': d.eventId,
            'Hub-Event-Type': d.eventType,
            'Hub-Delivery-Id': d.id,
          },
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(10_000),
        }).catch(() => null);
        if (!response) {
          failed++;
          continue;
        }
        await response.text();
        if (response.status !== 200) failed++;
      }
    }),
  );
  return { seconds: (performance.now() - started) / 1000, failed };
}

/** What the receiver got against what it should have: each key exactly once, in order, signed. */
function receiverProblems(stats: ReceiverStats, expected: Set<string>): string[] {
  const problems: string[] = [];
  const got = new Set(stats.keys);
  const missing = [...expected].filter((k) => !got.has(k)).length;
  const unexpected = [...got].filter((k) => !expected.has(k)).length;
  if (stats.requests !== expected.size) problems.push(`receiver got ${stats.requests} requests for ${expected.size} deliveries`);
  if (missing) problems.push(`${missing} never received`);
  if (unexpected) problems.push(`${unexpected} unexpected`);
  if (stats.duplicates) problems.push(`${stats.duplicates} received twice`);
  if (stats.outOfOrder) problems.push(`${stats.outOfOrder} out of order within a dossier`);
  if (stats.badSignatures) problems.push(`${stats.badSignatures} bad signatures`);
  if (stats.unreadable) problems.push(`${stats.unreadable} unreadable bodies`);
  return problems;
}

/**
 * BENCH_WEBHOOKS_TRACE=1: the worker's statements timed by kind (the first words of their SQL),
 * printed on stderr after each run: where a delivery's time goes besides the POST.
 */
function traced(ctx: ServiceContext) {
  const totals = new Map<string, { n: number; ms: number; max: number }>();
  const execute = ctx.db.execute.bind(ctx.db);
  const dialect = new PgDialect();
  const db = new Proxy(ctx.db, {
    get(target, prop, receiver) {
      if (prop !== 'execute') return Reflect.get(target, prop, receiver);
      return async (query: SQL) => {
        const text = dialect.sqlToQuery(query).sql.replace(/\s+/g, ' ').trim().slice(0, 30);
        const t = performance.now();
        try {
          return await execute(query);
        } finally {
          const ms = performance.now() - t;
          const entry = totals.get(text) ?? { n: 0, ms: 0, max: 0 };
          entry.n++;
          entry.ms += ms;
          entry.max = Math.max(entry.max, ms);
          totals.set(text, entry);
        }
      };
    },
  });
  return {
    ctx: { ...ctx, db } as ServiceContext,
    summary: (seconds: number) =>
      [...totals]
        .map(
          ([k, v]) =>
            `"${k}…" ×${v.n} avg ${(v.ms / v.n).toFixed(1)} ms max ${v.max.toFixed(0)} ms (Σ ${(v.ms / 1000 / seconds).toFixed(2)} of the run)`,
        )
        .join('; '),
  };
}

async function oneRun(
  ctx: ServiceContext,
  options: WebhookBenchOptions,
  run: number,
  endpointCount: number,
  delayMs: number,
): Promise<WebhookRun> {
  const db = ctx.db;
  // A clean queue: the previous run's events (their deliveries and attempts go with them) and endpoints.
  await db.execute(sql`DELETE FROM outbox_events`);
  await db.execute(sql`UPDATE webhook_endpoints SET active = false, deleted_at = now() WHERE deleted_at IS NULL`);
  const receiver = await startReceiver(delayMs);
  try {
    const endpoints: Array<{ id: string; path: string }> = [];
    for (let e = 0; e < endpointCount; e++) {
      const path = `/hub-events/r${run}e${e}`;
      const view = await createEndpoint(
        ctx,
        ADMIN,
        { url: `http://127.0.0.1:${receiver.port}${path}`, agencyCode: PROVINCE, events: [...eventTypes], secrets: [SECRET] },
        crypto.randomUUID(),
      );
      endpoints.push({ id: view.id, path });
    }
    const pathOf = new Map(endpoints.map((e) => [e.id, e.path]));

    const events = makeEvents(options, run);
    const writeStarted = performance.now();
    let written = 0;
    for (let i = 0; i < events.length; i += options.batch) {
      written += await withTransaction(ctx, (tx) => recordEvents(executor(tx), events.slice(i, i + options.batch), tx.now()));
    }
    const writeSeconds = (performance.now() - writeStarted) / 1000;

    const rows = await queryRows<{ id: string; endpoint_id: string; event_id: string; type: string; payload: unknown }>(
      db,
      sql`SELECT d.id, d.endpoint_id, d.event_id, ev.type, ev.payload FROM webhook_deliveries d JOIN outbox_events ev ON ev.id = d.event_id
          ORDER BY d.event_seq, d.endpoint_id`,
    );
    const deliveries: Delivery[] = rows.map((r) => ({
      id: r.id,
      path: pathOf.get(r.endpoint_id)!,
      eventId: r.event_id,
      eventType: r.type,
      payload: (typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload) as Record<string, unknown>,
    }));
    const expected = new Set(deliveries.map((d) => `${d.path} ${d.eventId}`));
    const { concurrency, endpointConcurrency } = ctx.settings.webhooks;
    const inFlight = Math.min(concurrency, endpointCount * endpointConcurrency);

    // 1. The baseline.
    await receiver.ask('reset', 'reset');
    const plain = await plainPosts(receiver.port, deliveries, inFlight);
    const plainProblems = receiverProblems(await receiver.ask<ReceiverStats>('stats', 'stats'), expected);
    if (plain.failed) plainProblems.unshift(`${plain.failed} POSTs failed`);
    if (written !== deliveries.length || written !== events.length * endpointCount)
      plainProblems.unshift(`recordEvents made ${written} deliveries, ${deliveries.length} found`);

    // 2. The hub's worker.
    await receiver.ask('reset', 'reset');
    global.gc?.();
    const rssBefore = process.memoryUsage.rss();
    let rssPeak = rssBefore;
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
    }, 10);
    const trace = process.env.BENCH_WEBHOOKS_TRACE ? traced(ctx) : null;
    const started = performance.now();
    const report = await startDeliveryWorker(trace?.ctx ?? ctx, { untilIdle: true, deadlineMs: options.timeLimitSeconds * 1000 }).done;
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    if (trace) process.stderr.write(`trace, ${endpointCount} endpoint(s), delay ${delayMs} ms: ${trace.summary(seconds)}\n`);
    rssPeak = Math.max(rssPeak, process.memoryUsage.rss());

    // Within the time limit the worker may not finish: what it recorded as succeeded is what the
    // receiver must have got, each once, in order; the rest stays pending and is counted.
    const done = await queryRows<{ id: string; endpoint_id: string; event_id: string; attempts: number }>(
      db,
      sql`SELECT id, endpoint_id, event_id, attempts FROM webhook_deliveries WHERE state = 'succeeded'`,
    );
    const hubProblems = receiverProblems(
      await receiver.ask<ReceiverStats>('stats', 'stats'),
      new Set(done.map((d) => `${pathOf.get(d.endpoint_id)} ${d.event_id}`)),
    );
    const [state] = await queryRows<{ pending: number; failed: number; attempts: number; p50: number | null; p95: number | null }>(
      db,
      sql`SELECT (SELECT count(*) FROM webhook_deliveries WHERE state = 'pending')::int AS pending,
                 (SELECT count(*) FROM webhook_deliveries WHERE state = 'failed')::int AS failed,
                 (SELECT count(*) FROM webhook_attempts)::int AS attempts,
                 (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) FROM webhook_attempts)::float8 AS p50,
                 (SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) FROM webhook_attempts)::float8 AS p95`,
    );
    const retried = done.filter((d) => Number(d.attempts) !== 1).length;
    if (retried) hubProblems.push(`${retried} deliveries needed more than one attempt`);
    if (state!.failed) hubProblems.push(`${state!.failed} deliveries failed`);
    if (state!.attempts !== done.length + state!.failed)
      hubProblems.push(`${state!.attempts} attempts recorded for ${done.length} succeeded`);
    if (report.succeeded !== done.length) hubProblems.push(`the worker reports ${JSON.stringify(report)}, ${done.length} succeeded`);
    if (done.length + state!.pending + state!.failed !== deliveries.length) hubProblems.push('deliveries went missing');
    if (state!.pending && seconds < options.timeLimitSeconds) hubProblems.push(`${state!.pending} left pending before the time limit`);
    const receiverStats = await receiver.ask<ReceiverStats>('stats', 'stats');

    const mb = (bytes: number) => bytes / 1024 / 1024;
    return {
      endpoints: endpointCount,
      delayMs,
      deliveries: deliveries.length,
      inFlight,
      writeSeconds,
      baseline: {
        seconds: plain.seconds,
        rate: deliveries.length / plain.seconds,
        ok: plainProblems.length === 0,
        problems: plainProblems,
      },
      hub: {
        seconds,
        delivered: done.length,
        rate: done.length / seconds,
        ok: hubProblems.length === 0,
        problems: hubProblems,
        attemptP50Ms: Number(state!.p50 ?? 0),
        attemptP95Ms: Number(state!.p95 ?? 0),
        rssBeforeMb: mb(rssBefore),
        rssPeakMb: mb(rssPeak),
      },
      receiverRssMb: receiverStats.rssMb,
    };
  } finally {
    await receiver.close();
  }
}

async function child(options: WebhookBenchOptions): Promise<void> {
  // Sampled, not the kernel's high-water mark, which a spawned child starts from its parent's.
  let peak = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 20);
  const { handle, label, drop } = await openDatabase();
  await migrate(handle);
  const config = parseConfig({
    PORT: '0',
    JWT_SECRET,
    LOG_LEVEL: 'silent',
    ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
  });
  const deps = await buildDeps(
    config,
    handle,
    { jwtSecret: JWT_SECRET, sandboxSecrets: ['bench-sandbox-secret'], receiptSigningKey: JSON.stringify(await generateReceiptKey()) },
    createNodeLogger('silent'),
  );
  const ctx = serviceContext(deps);
  await setUp(ctx, handle, options.dossiers);
  const runs: WebhookRun[] = [];
  let run = 0;
  for (const delayMs of options.delays) {
    for (const endpoints of options.endpoints) {
      runs.push(await oneRun(ctx, options, ++run, endpoints, delayMs));
    }
  }
  await handle.close();
  await drop();
  const { concurrency, endpointConcurrency, pollMs } = ctx.settings.webhooks;
  const out: ChildOutput = {
    label,
    cpus: os.cpus().length,
    concurrency,
    endpointConcurrency,
    pollMs,
    runs,
    peakRssMb: peak / 1024 / 1024,
  };
  clearInterval(sampler);
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

function runChild(options: WebhookBenchOptions): Promise<ChildOutput> {
  return new Promise((resolve, reject) => {
    const script = new URL(import.meta.url).pathname;
    const proc = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', script, '--webhooks-child', JSON.stringify(options)], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: process.env,
    });
    let stdout = '';
    proc.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    proc.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`the webhook bench child exited ${code}: ${stdout}`));
      resolve(JSON.parse(stdout.trim().split('\n').at(-1)!) as ChildOutput);
    });
  });
}

function print(out: ChildOutput, options: WebhookBenchOptions): boolean {
  const perDossier = Math.ceil(options.events / options.dossiers);
  console.log(
    `\nWebhook deliveries (issue 13): ${out.label}; ${out.cpus} CPUs; ${options.events.toLocaleString('en')} events over ` +
      `${options.dossiers.toLocaleString('en')} dossiers (${perDossier} each), written by recordEvents ${options.batch} per transaction; ` +
      `WEBHOOK_CONCURRENCY ${out.concurrency}, WEBHOOK_ENDPOINT_CONCURRENCY ${out.endpointConcurrency}, WEBHOOK_POLL_MS ${out.pollMs}; ` +
      `receiver: node:http in its own process, verifying each signature; a worker run stops at ${options.timeLimitSeconds} s\n`,
  );
  console.log(
    '| endpoints | receiver answers | deliveries | in flight | written in s | plain POSTs/s (baseline) | hub deliveries/s (delivered in s) | vs baseline | attempt p50 / p95 ms | worker RSS before → peak MB | verified |',
  );
  console.log('|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  let ok = true;
  for (const r of out.runs) {
    const verified = r.baseline.ok && r.hub.ok;
    ok &&= verified;
    console.log(
      `| ${r.endpoints} | ${r.delayMs === 0 ? 'at once' : `after ${r.delayMs} ms`} | ${r.deliveries.toLocaleString('en')} | ${r.inFlight} | ` +
        `${r.writeSeconds.toFixed(1)} | ${r.baseline.rate.toFixed(0)} | **${r.hub.rate.toFixed(0)}** (${r.hub.delivered === r.deliveries ? 'all' : `${r.hub.delivered.toLocaleString('en')}, time limit`} in ${r.hub.seconds.toFixed(1)} s) | ` +
        `${((r.hub.rate / r.baseline.rate) * 100).toFixed(0)} % | ${r.hub.attemptP50Ms.toFixed(0)} / ${r.hub.attemptP95Ms.toFixed(0)} | ` +
        `${r.hub.rssBeforeMb.toFixed(0)} → ${r.hub.rssPeakMb.toFixed(0)} | ${verified ? 'yes' : 'NO'} |`,
    );
  }
  for (const r of out.runs) {
    for (const [who, problems] of [
      ['baseline', r.baseline.problems],
      ['hub', r.hub.problems],
    ] as const) {
      if (problems.length) console.log(`${r.endpoints} endpoint(s), delay ${r.delayMs} ms, ${who}: ${problems.join('; ')}`);
    }
  }
  console.log(
    `\nThe worker process's peak RSS over the whole benchmark (sampled every 20 ms, its database included when embedded): ` +
      `${out.peakRssMb.toFixed(0)} MB; the receiver's RSS at the end of a run: at most ${Math.max(...out.runs.map((r) => r.receiverRssMb)).toFixed(0)} MB.`,
  );
  return ok;
}

/** Runs the benchmark in a child process and prints its table; false when a run did not verify. */
export async function benchWebhooks(options: WebhookBenchOptions): Promise<boolean> {
  if (options.events < 1 || options.dossiers < 1 || options.batch < 1 || options.endpoints.some((n) => !(n >= 1)))
    throw new Error('webhook bench: events, dossiers, batch and endpoints must be at least 1');
  return print(await runChild(options), options);
}

if (process.argv.includes('--webhooks-child')) {
  await child(JSON.parse(process.argv[process.argv.indexOf('--webhooks-child') + 1]!) as WebhookBenchOptions);
  process.exit(0);
}
