import { describeError } from '../db/errors.ts';
import { purgeRefusedCallbacks, reprocessInbox } from '../services/callbacks.ts';
import { refreshCampaignSummaries } from '../services/campaigns.ts';
import type { ServiceContext } from '../services/context.ts';
import { purgeExpiredKeys } from '../services/idempotency.ts';
import { purgeOldEvents } from '../services/outbox.ts';
import { issueWaitingReceipts } from '../services/receipt-issuer.ts';
import { signPendingReceipts } from '../services/receipts.ts';
import { purgeAbandonedImports } from '../services/statements.ts';
import { deliverDue } from './delivery-worker.ts';
import { expireDueIntents } from './expire-intents.ts';
import { pollPendingIntents } from './poll-intents.ts';
import { resendSubmittedRefunds } from './resend-refunds.ts';

/**
 * Every periodic job, in the order one run takes them (the inbox's callbacks before polling, so a
 * payment already received is not asked about; expiry after both; receipts after any payment).
 */
const JOBS = {
  'reprocess-inbox': (ctx: ServiceContext) => reprocessInbox(ctx),
  'poll-intents': (ctx: ServiceContext) => pollPendingIntents(ctx),
  'resend-refunds': (ctx: ServiceContext) => resendSubmittedRefunds(ctx),
  'expire-intents': (ctx: ServiceContext) => expireDueIntents(ctx),
  // Receipts a failed or interrupted issuer left waiting (the payment started one already), then unsigned ones.
  'issue-receipts': (ctx: ServiceContext) => issueWaitingReceipts(ctx),
  'sign-receipts': (ctx: ServiceContext) => signPendingReceipts(ctx),
  // Campaign progress summed ahead (services/campaign-summaries.ts), and the roll-up deltas they count.
  'campaign-summaries': (ctx: ServiceContext) => refreshCampaignSummaries(ctx),
  'purge-idempotency-keys': (ctx: ServiceContext) => purgeExpiredKeys(ctx),
  'purge-abandoned-imports': (ctx: ServiceContext) => purgeAbandonedImports(ctx),
  // One pass of deliveries to dossier systems (the Workers cron, `npm run jobs`); the Node hub
  // runs its own worker (delivery-worker.ts) and skips this one.
  'deliver-webhooks': (ctx: ServiceContext) => deliverDue(ctx),
  'purge-events': (ctx: ServiceContext) => purgeOldEvents(ctx),
  'purge-refused-callbacks': (ctx: ServiceContext) => purgeRefusedCallbacks(ctx),
} as const satisfies Record<string, (ctx: ServiceContext) => Promise<unknown>>;

export type JobName = keyof typeof JOBS;

/**
 * When each job runs on Workers, as a cron expression (UTC, as Cloudflare reads them): the
 * distinct expressions are wrangler.toml's `[triggers] crons` (test/unit/worker-schedule.test.ts
 * holds the two together), and a trigger runs the jobs named with it. The Node hub and
 * `npm run jobs` run every job on each pass instead (JOBS_INTERVAL_SECONDS).
 *
 * Every minute: what a dossier system or a payer waits for (a callback left in the inbox, a
 * gateway asked about a payment it has not reported, a receipt, a delivery). Every five minutes:
 * expiry (an intent lives INTENT_TTL_MINUTES, 30 by default) and refunds sent again. Every ten:
 * the campaign roll-ups (progress reads them plus the deltas since, so this bounds work, not
 * freshness). Housekeeping once a day at 02:30 in Vietnam (19:30 UTC), outside office hours.
 * Four expressions: within the free plan's five cron triggers per account.
 */
export const JOB_SCHEDULE: Readonly<Record<JobName, string>> = {
  'reprocess-inbox': '* * * * *',
  'poll-intents': '* * * * *',
  'issue-receipts': '* * * * *',
  'sign-receipts': '* * * * *',
  'deliver-webhooks': '* * * * *',
  'resend-refunds': '*/5 * * * *',
  'expire-intents': '*/5 * * * *',
  'campaign-summaries': '*/10 * * * *',
  'purge-idempotency-keys': '30 19 * * *',
  'purge-abandoned-imports': '30 19 * * *',
  'purge-events': '30 19 * * *',
  'purge-refused-callbacks': '30 19 * * *',
};

/** The jobs a cron trigger runs, in run order; undefined for an expression no job is scheduled on. */
export function jobsForCron(cron: string): JobName[] | undefined {
  const names = (Object.keys(JOBS) as JobName[]).filter((name) => JOB_SCHEDULE[name] === cron);
  return names.length > 0 ? names : undefined;
}

/**
 * One run of the periodic jobs (all of them, or `only` these, less `skip`): `npm run jobs`, the
 * Node timer, and each Workers cron trigger. A job is logged when it did something (any count in
 * its report is not zero) or failed; a run where no job had anything to do is one debug line, so
 * an idle hub's log stays quiet minute after minute.
 */
export async function runJobs(
  ctx: ServiceContext,
  options: { skip?: readonly JobName[]; only?: readonly JobName[] } = {},
): Promise<Record<string, unknown>> {
  const results: Record<string, unknown> = {};
  const jobs = (Object.entries(JOBS) as Array<[JobName, (ctx: ServiceContext) => Promise<unknown>]>).filter(
    ([name]) => !options.skip?.includes(name) && (!options.only || options.only.includes(name)),
  );
  const runStarted = Date.now();
  let quiet = true;
  for (const [name, job] of jobs) {
    const started = Date.now();
    try {
      const result = await job(ctx);
      results[name] = result;
      if (didSomething(result)) {
        quiet = false;
        ctx.log.info('job', { job: name, status: 'ok', latencyMs: Date.now() - started, result });
      }
    } catch (error) {
      quiet = false;
      results[name] = { error: describeError(error) };
      ctx.log.error('job', { job: name, status: 'failed', latencyMs: Date.now() - started, error: describeError(error) });
    }
  }
  if (quiet) ctx.log.debug('jobs idle', { jobs: jobs.length, latencyMs: Date.now() - runStarted });
  return results;
}

/** A job's report counts what it found and did: all zeros (or nothing) is a run with nothing to do. */
function didSomething(result: unknown): boolean {
  if (typeof result === 'number') return result !== 0;
  if (Array.isArray(result)) return result.some(didSomething);
  if (result && typeof result === 'object') return Object.values(result).some(didSomething);
  return false;
}

/**
 * What a crash left in the callback inbox (received, never processed), processed at start-up
 * (src/server.ts) rather than by the first job run a minute later: every message received before
 * `startedAt`, in batches until none is left. Messages of this start are its requests' own. Each
 * is applied idempotently, so one that a live instance is processing at the same moment is still
 * applied once; one that fails again stays `received` (or `failed`, after its last attempt).
 */
export async function processInboxLeftovers(ctx: ServiceContext, startedAt: Date): Promise<{ processed: number }> {
  let total = 0;
  for (;;) {
    const { found, processed } = await reprocessInbox(ctx, { olderThanMs: ctx.now().getTime() - startedAt.getTime() });
    total += processed;
    if (found < 500 || processed === 0) break;
  }
  return { processed: total };
}
