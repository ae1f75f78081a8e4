import { serve } from '@hono/node-server';
import { sql } from 'drizzle-orm';
import type { Hono } from 'hono';
import type { JWK } from 'jose';
import { createApp } from '../app.ts';
import { DatabaseAvailability } from '../db/availability.ts';
import { describeError } from '../db/errors.ts';
import { migrate } from '../db/migrate.ts';
import { type DatabaseHandle, queryRows } from '../db/types.ts';
import { recordSandboxChoice } from '../emulators/sandbox-checkout.ts';
import type { AppDeps } from '../http/env.ts';
import { startDeliveryWorker } from '../jobs/delivery-worker.ts';
import { processInboxLeftovers, runJobs } from '../jobs/index.ts';
import { demoExampleDossier, isDatabaseEmpty, seedDemo } from '../seed/index.ts';
import { issueWaitingReceipts, ReceiptIssuer } from '../services/receipt-issuer.ts';
import { useNodeCrypto } from './crypto.ts';
import { adoptDemoTemplate } from './demo-template.ts';
import { scalarBundleReader } from './docs-asset.ts';
import { demoEmulators } from './emulators.ts';
import { buildDeps, exitOnConfigError, loadConfig, openDatabase, resolveSecrets, serviceContext } from './runtime.ts';
import { createSigningPool } from './signing-pool.ts';
import { reportListening } from './supervisor.ts';

/** What a caller puts in front of the hub it runs: the benchmark's baseline routes (scripts/bench-hub.ts), outside the app's middleware. */
export interface HubOptions {
  before?: (deps: AppDeps, handle: DatabaseHandle) => Hono;
}

/**
 * The hub in this process: configuration, database, migrations, demo data on an empty embedded
 * database, serve, the jobs and the delivery worker; SIGTERM and SIGINT stop it cleanly. The Node
 * entry (src/server.ts) runs it in a supervised worker.
 */
export async function runHub(options: HubOptions = {}): Promise<void> {
  useNodeCrypto();
  const config = loadConfig();
  // The database first: its lock keeps a second start off the data folder, secrets included. A
  // new embedded folder takes the demo database made at install, when it is today's (demo-template.ts).
  let template: Awaited<ReturnType<typeof adoptDemoTemplate>> = null;
  const handle = await openDatabase(config, {
    whileLocked: async () => {
      template = await adoptDemoTemplate(config, new Date()).catch((error: unknown) => ({
        adopted: false as const,
        why: `the demo template could not be copied: ${describeError(error)}`,
      }));
    },
  });
  const secrets = await resolveSecrets(config).catch(exitOnConfigError);
  await migrate(handle);
  const plain = await buildDeps(config, handle, secrets);
  // Receipts are signed on worker threads, not on the event loop that answers payments.
  const signing = createSigningPool(
    plain.signer,
    { hub: secrets.receiptSigningKey, agencies: config.receipts.agencyKeys as Record<string, JWK> },
    config.receipts.signingThreads,
  );
  const built = { ...plain, signer: signing.signers };
  // One receipt issuer for the process: a payment's receipt is numbered in the background, the
  // gateway answered without waiting for it (services/receipt-issuer.ts).
  const receipts = new ReceiptIssuer(serviceContext(built));
  const deps = { ...built, receiptsInBackground: receipts };
  const ctx = serviceContext(deps);
  const log = deps.log;

  // Demo data only on an empty embedded database; a server database is never seeded unasked.
  const adopted = template as Awaited<ReturnType<typeof adoptDemoTemplate>>;
  if (adopted?.adopted) log.info('demo data loaded', { ...adopted.report, from: 'the demo database made at install' });
  else if (adopted) log.info('demo template not used: seeding', { why: adopted.why });
  if (handle.kind === 'embedded' && (await isDatabaseEmpty(ctx))) {
    const report = await seedDemo(ctx, { recordSandboxChoice });
    log.info('demo data loaded', { ...report });
  }

  // /docs's Scalar bundle from node_modules; the embedded demo's examples name its own dossiers.
  const docs = { bundle: scalarBundleReader(), exampleDossier: handle.kind === 'embedded' ? () => demoExampleDossier(ctx) : undefined };
  // The demo's outside world is mounted here, by the Node entry only (src/app.ts never imports it).
  // One breaker for the process: while the database is away every request is answered 503 at once.
  const availability = new DatabaseAvailability(
    // Back when a connection takes writes: a standby reached through a multi-host DATABASE_URL
    // (its primary lost, itself not yet promoted) answers, but is not back.
    async () => {
      const rows = await queryRows<{ writable: boolean }>(deps.db, sql`SELECT NOT pg_is_in_recovery() AS writable`);
      if (!rows[0]?.writable) throw new Error('the database reached is a standby (read only)');
    },
    undefined,
    (up, downForMs) =>
      up ? log.warn('database reachable again', { downForMs }) : log.warn('database unreachable: answering 503 until it is back'),
  );
  const app = createApp({
    ...deps,
    docs,
    availability,
    extraRoutes: demoEmulators(config, secrets, deps),
  });
  const served = options.before ? options.before(deps, handle).route('/', app) : app;
  const server = serve({ fetch: served.fetch, port: config.port, hostname: config.host }, (info) => {
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    handle.lock
      ?.update({ listening: `http://${host}:${info.port}` })
      .catch((error) => log.warn('database lock not updated', { error: String(error) }));
    reportListening();
    signing.warm();
    log.info('listening', {
      pid: process.pid,
      url: config.publicBaseUrl,
      port: info.port,
      database:
        handle.kind === 'embedded'
          ? `embedded PGlite in ${config.database.kind === 'embedded' ? config.database.dataDir : ''} (demo only: no fsync)`
          : 'PostgreSQL server',
      docs: `${config.publicBaseUrl}/docs`,
    });
  });

  // An idle keep-alive connection is closed by its client or the proxy in front, never under them:
  // Node's 5 s default races a client or proxy reusing the connection at that moment (a "socket
  // hang up", a 502; seen in this repository's fresh-start test under load). Longer than the
  // usual load balancer's 60 s idle timeout, and the headers timeout longer still, as Node asks.
  const http = server as unknown as { keepAliveTimeout: number; headersTimeout: number };
  http.keepAliveTimeout = 65_000;
  http.headersTimeout = 66_000;

  server.once('error', (error: NodeJS.ErrnoException) => {
    // Not a stack trace: the one thing to know, and the one thing to change.
    const reason =
      error.code === 'EADDRINUSE'
        ? `port ${config.port} is in use on ${config.host} (another hub, or another program?): stop it, or set PORT to a free port`
        : error.code === 'EACCES'
          ? `port ${config.port} on ${config.host} needs privileges this process lacks: set PORT to 1024 or above`
          : error.code === 'EADDRNOTAVAIL'
            ? `HOST=${config.host} is not an address of this machine: set HOST to one (127.0.0.1, or 0.0.0.0 for every interface)`
            : `cannot listen on ${config.host}:${config.port}: ${error.message}`;
    console.error(reason);
    void handle.close().finally(() => process.exit(69)); // EX_UNAVAILABLE
  });

  // What a crash left in the callback inbox (received, never processed) is processed now, not at
  // the first job run a minute later (src/jobs/index.ts).
  // Likewise the receipts a crash left waiting for their number.
  let jobsRunning: Promise<unknown> | null = processInboxLeftovers(ctx, ctx.now())
    .then(async ({ processed }) => {
      if (processed > 0) log.warn('callback inbox: messages left by a crash processed at start-up', { processed });
      const issued = await issueWaitingReceipts(ctx);
      if (issued > 0) log.warn('receipts left waiting by a crash issued at start-up', { issued });
    })
    .catch((error) => log.error('callback inbox not processed at start-up', { error: describeError(error) }))
    .finally(() => (jobsRunning = null));
  const timer =
    config.jobsIntervalSeconds > 0
      ? setInterval(() => {
          if (jobsRunning) return;
          jobsRunning = runJobs(ctx, { skip: ['deliver-webhooks'] }).finally(() => (jobsRunning = null));
        }, config.jobsIntervalSeconds * 1000)
      : null;
  // Events reach dossier systems as they happen, not once a minute: the worker runs on its own.
  const deliveries = config.jobsIntervalSeconds > 0 ? startDeliveryWorker(ctx) : null;

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    if (timer) clearInterval(timer);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    availability.close();
    await Promise.all([jobsRunning, deliveries?.stop(), receipts.idle()]);
    await signing.close();
    await handle.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}
