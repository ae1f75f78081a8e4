import { createApp } from './app.ts';
import { ConfigError, parseConfig } from './config.ts';
import { describeError } from './db/errors.ts';
import { connectServers } from './db/server.ts';
import { buildStaticDeps, type StaticDeps, serviceContext, withDatabase } from './deps.ts';
import { runJobs } from './jobs/index.ts';
import { createConsoleLogger } from './logger.ts';
import { issueWaitingReceipts } from './services/receipt-issuer.ts';

/**
 * Cloudflare Workers entry. Workers have no embedded database: DATABASE_URL (a Hyperdrive
 * binding's connection string, or a plain variable) is required, and so are the secrets
 * (`wrangler secret put JWT_SECRET`, `RECEIPT_SIGNING_KEY`, `SESSION_SECRET`). Migrations are applied from Node
 * (`npm run db:migrate`) before a deploy. A connection is opened per request and closed after
 * the response, as Hyperdrive expects; nothing with I/O lives at module level.
 *
 * No sandbox here: its hosted checkout (like the demo's channel emulators, src/emulators/) is
 * mounted by the Node entry only, so a sandbox gateway on Workers would send payers to a page
 * that does not exist. SANDBOX_SECRETS is refused (it is refused in production anyway).
 */
interface WorkerEnv {
  HYPERDRIVE?: { connectionString: string };
  /** A second Hyperdrive configuration, on a replica: reports read there (DATABASE_READ_URL). */
  HYPERDRIVE_READ?: { connectionString: string };
  [name: string]: unknown;
}

interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
}

function configFrom(env: WorkerEnv) {
  const vars: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) if (typeof v === 'string') vars[k] = v;
  if (env.HYPERDRIVE) vars.DATABASE_URL = env.HYPERDRIVE.connectionString;
  if (env.HYPERDRIVE_READ) vars.DATABASE_READ_URL = env.HYPERDRIVE_READ.connectionString;
  const config = parseConfig(vars);
  if (config.database.kind !== 'server') throw new ConfigError(['DATABASE_URL: required on Workers (or a HYPERDRIVE binding)']);
  if (!config.receiptSigningKey) throw new ConfigError(['RECEIPT_SIGNING_KEY: required on Workers']);
  if (!config.auth.secret && !config.auth.jwksUrl) throw new ConfigError(['JWT_SECRET (or JWT_JWKS_URL): required on Workers']);
  if (!config.session.secret) throw new ConfigError(['SESSION_SECRET: required on Workers']);
  if (config.sandbox)
    throw new ConfigError(["SANDBOX_SECRETS: the sandbox's hosted checkout is served by the Node hub only (npm start), not on Workers"]);
  return config;
}

/**
 * Parsed configuration, keys, verifier (with its remembered tokens and JWKS cache) and gateways
 * are kept for the isolate's life; only the database connection is per request. They hold no
 * I/O: a new env (a new deployment's bindings) builds them again.
 */
let isolate: { env: WorkerEnv; config: ReturnType<typeof configFrom>; deps: Promise<StaticDeps> } | undefined;

async function open(env: WorkerEnv) {
  if (!isolate || isolate.env !== env) {
    const config = configFrom(env);
    isolate = {
      env,
      config,
      deps: buildStaticDeps(
        config,
        { jwtSecret: config.auth.secret, receiptSigningKey: config.receiptSigningKey!, sessionSecret: config.session.secret },
        // pino writes to file descriptors, which Workers do not have: the console logger is their pino.
        createConsoleLogger(config.logLevel),
      ),
    };
  }
  const { url, prepare, readUrl } = isolate.config.database as { url: string; prepare: boolean; readUrl?: string };
  // With a replica for reports (HYPERDRIVE_READ or DATABASE_READ_URL), opened only by a report that reads it.
  const handle = connectServers(url, readUrl, { poolMax: 5, prepare });
  return { handle, deps: withDatabase(await isolate.deps, handle) };
}

export default {
  async fetch(request: Request, env: WorkerEnv, ctx: ExecutionContext): Promise<Response> {
    const { handle, deps } = await open(env);
    // A payment's receipt is issued after the answer, within the request's waitUntil (the cron only sweeps what is left).
    const background: Array<Promise<unknown>> = [];
    const receiptsInBackground = {
      due: (agencyCode: string) => {
        background.push(
          issueWaitingReceipts(serviceContext(deps), agencyCode).catch((error) =>
            deps.log.warn('receipts left waiting for the cron', { agencyCode, error: describeError(error) }),
          ),
        );
      },
    };
    try {
      return await createApp({ ...deps, receiptsInBackground }).fetch(request);
    } finally {
      ctx.waitUntil(Promise.allSettled(background).then(() => handle.close()));
    }
  },

  async scheduled(_event: unknown, env: WorkerEnv, ctx: ExecutionContext): Promise<void> {
    const { handle, deps } = await open(env);
    ctx.waitUntil(runJobs(serviceContext(deps)).finally(() => handle.close()));
  },
};
