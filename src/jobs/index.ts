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
 * One run of every periodic job: `npm run jobs`, the Node timer, and the Workers cron. A job is
 * logged when it did something (any count in its report is not zero) or failed; a run where no
 * job had anything to do is one debug line, so an idle hub's log stays quiet minute after minute.
 */
export async function runJobs(ctx: ServiceContext, options: { skip?: readonly string[] } = {}): Promise<Record<string, unknown>> {
  const results: Record<string, unknown> = {};
  const all: Array<[string, () => Promise<unknown>]> = [
    ['reprocess-inbox', () => reprocessInbox(ctx)],
    ['poll-intents', () => pollPendingIntents(ctx)],
    ['resend-refunds', () => resendSubmittedRefunds(ctx)],
    ['expire-intents', () => expireDueIntents(ctx)],
    // Receipts a failed or interrupted issuer left waiting (the payment started one already), then unsigned ones.
    ['issue-receipts', () => issueWaitingReceipts(ctx)],
    ['sign-receipts', () => signPendingReceipts(ctx)],
    // Campaign progress summed ahead (services/campaign-summaries.ts), and the roll-up deltas they count.
    ['campaign-summaries', () => refreshCampaignSummaries(ctx)],
    ['purge-idempotency-keys', () => purgeExpiredKeys(ctx)],
    ['purge-abandoned-imports', () => purgeAbandonedImports(ctx)],
    // One pass of deliveries to dossier systems (the Workers cron, `npm run jobs`); the Node hub
    // runs its own worker (delivery-worker.ts) and skips this one.
    ['deliver-webhooks', () => deliverDue(ctx)],
    ['purge-events', () => purgeOldEvents(ctx)],
    ['purge-refused-callbacks', () => purgeRefusedCallbacks(ctx)],
  ];
  const jobs = all.filter(([name]) => !options.skip?.includes(name));
  const runStarted = Date.now();
  let quiet = true;
  for (const [name, job] of jobs) {
    const started = Date.now();
    try {
      const result = await job();
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
