import { createApp } from './app.ts';
import { type Config, ConfigError } from './config.ts';
import { describeError } from './db/errors.ts';
import { connectServers } from './db/server.ts';
import { buildStaticDeps, type StaticDeps, serviceContext, withDatabase } from './deps.ts';
import { problemBody } from './http/problem.ts';
import { deliverDue } from './jobs/delivery-worker.ts';
import { jobsForCron, runJobs } from './jobs/index.ts';
import { createConsoleLogger } from './logger.ts';
import { issueWaitingReceipts } from './services/receipt-issuer.ts';
import { type WorkerEnv, workerConfig } from './worker-config.ts';

/**
 * Cloudflare Workers entry. Workers have no embedded database: DATABASE_URL (a Hyperdrive
 * binding's connection string, or a plain variable) is required, and so are the secrets
 * (`wrangler secret put JWT_SECRET`, `RECEIPT_SIGNING_KEY`, `SESSION_SECRET`). Migrations are applied from Node
 * (`npm run db:migrate`) before a deploy. A connection is opened per request and closed after
 * the response, as Hyperdrive expects; nothing with I/O lives at module level.
 *
 * The sandbox's hosted checkout (like the demo's channel emulators, src/emulators/) is mounted by
 * the Node entry only. A sandbox gateway on Workers (never in production: the configuration
 * refuses it there) must say where a checkout is hosted, SANDBOX_URL, or it would send payers to
 * a page that does not exist.
 */
interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
}

/**
 * Parsed configuration, keys, verifier (with its remembered tokens and JWKS cache) and gateways
 * are kept for the isolate's life; only the database connection is per request. They hold no
 * I/O: a new env (a new deployment's bindings) builds them again.
 */
let isolate: { env: WorkerEnv; config: Config; deps: Promise<StaticDeps> } | undefined;

async function open(env: WorkerEnv) {
  if (!isolate || isolate.env !== env) {
    const config = workerConfig(env);
    isolate = {
      env,
      config,
      deps: buildStaticDeps(
        config,
        {
          jwtSecret: config.auth.secret,
          receiptSigningKey: config.receiptSigningKey!,
          sessionSecret: config.session.secret,
          sandboxSecrets: config.sandbox?.secrets,
        },
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

/**
 * A deployment missing a secret or a binding answers every request 500 problem+json, and logs
 * what is missing (names, never values) where `wrangler tail` shows it: Node would refuse to start.
 */
function misconfigured(error: ConfigError): Response {
  const requestId = crypto.randomUUID();
  console.error(JSON.stringify({ level: 'error', msg: 'the hub is not configured', requestId, issues: error.issues }));
  const body = problemBody(requestId, 'internal-error', 'the hub is not configured: its log names what is missing');
  return new Response(JSON.stringify(body), {
    status: 500,
    headers: { 'content-type': 'application/problem+json', 'x-request-id': requestId },
  });
}

interface ScheduledController {
  /** The trigger's expression, as written in wrangler.toml's `[triggers] crons`. */
  cron: string;
  scheduledTime: number;
}

export default {
  async fetch(request: Request, env: WorkerEnv, ctx: ExecutionContext): Promise<Response> {
    let opened: Awaited<ReturnType<typeof open>>;
    try {
      opened = await open(env);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return misconfigured(error);
    }
    const { handle, deps } = opened;
    // A payment's receipt is issued after the answer, within the request's waitUntil, and what the
    // payment told dossier systems is delivered then too (the minute's cron only sweeps what is left).
    const context = serviceContext(deps);
    const receipts: Array<Promise<unknown>> = [];
    const receiptsInBackground = {
      due: (agencyCode: string) => {
        receipts.push(
          issueWaitingReceipts(context, agencyCode).catch((error) =>
            deps.log.warn('receipts left waiting for the cron', { agencyCode, error: describeError(error) }),
          ),
        );
      },
    };
    try {
      return await createApp({ ...deps, receiptsInBackground }).fetch(request);
    } finally {
      ctx.waitUntil(
        (async () => {
          if (receipts.length > 0) {
            await Promise.all(receipts);
            await deliverDue(context).catch((error) => deps.log.warn('deliveries left for the cron', { error: describeError(error) }));
          }
          await handle.close();
        })(),
      );
    }
  },

  /**
   * One cron trigger: the jobs scheduled on its expression (src/jobs/index.ts, JOB_SCHEDULE). A
   * trigger no job is scheduled on (set in the dashboard, say) runs them all: every job is safe
   * to run at any time. Awaited: the invocation lasts as long as its jobs (a failed job is logged
   * by runJobs, and the next trigger runs it again).
   */
  async scheduled(controller: ScheduledController, env: WorkerEnv, ctx: ExecutionContext): Promise<void> {
    const { handle, deps } = await open(env);
    const only = jobsForCron(controller.cron);
    if (!only) deps.log.warn('cron trigger with no job scheduled on it: running every job', { cron: controller.cron });
    try {
      await runJobs(serviceContext(deps), { only });
    } finally {
      ctx.waitUntil(handle.close());
    }
  },
};
