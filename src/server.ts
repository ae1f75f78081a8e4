import { serve } from '@hono/node-server';
import { createApp } from './app.ts';
import { migrate } from './db/migrate.ts';
import { recordSandboxChoice } from './emulators/sandbox-checkout.ts';
import { runJobs } from './jobs/index.ts';
import { scalarBundleReader } from './node/docs-asset.ts';
import { demoEmulators } from './node/emulators.ts';
import { buildDeps, exitOnConfigError, loadConfig, openDatabase, resolveSecrets, serviceContext } from './node/runtime.ts';
import { demoExampleDossier, isDatabaseEmpty, seedDemo } from './seed/index.ts';

/** Node entry: configuration, database, migrations, demo data on an empty embedded database, serve. */
async function main() {
  const config = loadConfig();
  // The database first: its lock keeps a second start off the data folder, secrets included.
  const handle = await openDatabase(config);
  const secrets = await resolveSecrets(config).catch(exitOnConfigError);
  await migrate(handle);
  const deps = await buildDeps(config, handle, secrets);
  const ctx = serviceContext(deps);
  const log = deps.log;

  // Demo data only on an empty embedded database; a server database is never seeded unasked.
  if (handle.kind === 'embedded' && (await isDatabaseEmpty(ctx))) {
    const report = await seedDemo(ctx, { recordSandboxChoice });
    log.info('demo data loaded', { ...report });
  }

  // /docs's Scalar bundle from node_modules; the embedded demo's examples name its own dossiers.
  const docs = { bundle: scalarBundleReader(), exampleDossier: handle.kind === 'embedded' ? () => demoExampleDossier(ctx) : undefined };
  // The demo's outside world is mounted here, by the Node entry only (src/app.ts never imports it).
  const app = createApp({ ...deps, docs, extraRoutes: demoEmulators(config, secrets, deps) });
  const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) => {
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    handle.lock
      ?.update({ listening: `http://${host}:${info.port}` })
      .catch((error) => log.warn('database lock not updated', { error: String(error) }));
    log.info('listening', {
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

  let jobsRunning: Promise<unknown> | null = null;
  const timer =
    config.jobsIntervalSeconds > 0
      ? setInterval(() => {
          if (jobsRunning) return;
          jobsRunning = runJobs(ctx).finally(() => (jobsRunning = null));
        }, config.jobsIntervalSeconds * 1000)
      : null;

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    if (timer) clearInterval(timer);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await jobsRunning;
    await handle.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
