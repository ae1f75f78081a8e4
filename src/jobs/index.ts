import { describeError } from '../db/errors.ts';
import { reprocessInbox } from '../services/callbacks.ts';
import type { ServiceContext } from '../services/context.ts';
import { purgeExpiredKeys } from '../services/idempotency.ts';
import { signPendingReceipts } from '../services/receipts.ts';
import { purgeAbandonedImports } from '../services/statements.ts';
import { expireDueIntents } from './expire-intents.ts';
import { pollPendingIntents } from './poll-intents.ts';
import { resendSubmittedRefunds } from './resend-refunds.ts';

/**
 * One run of every periodic job: `npm run jobs`, the Node timer, and the Workers cron. A job is
 * logged when it did something (any count in its report is not zero) or failed; a run where no
 * job had anything to do is one debug line, so an idle hub's log stays quiet minute after minute.
 */
export async function runJobs(ctx: ServiceContext): Promise<Record<string, unknown>> {
  const results: Record<string, unknown> = {};
  const jobs: Array<[string, () => Promise<unknown>]> = [
    ['reprocess-inbox', () => reprocessInbox(ctx)],
    ['poll-intents', () => pollPendingIntents(ctx)],
    ['resend-refunds', () => resendSubmittedRefunds(ctx)],
    ['expire-intents', () => expireDueIntents(ctx)],
    ['sign-receipts', () => signPendingReceipts(ctx)],
    ['purge-idempotency-keys', () => purgeExpiredKeys(ctx)],
    ['purge-abandoned-imports', () => purgeAbandonedImports(ctx)],
  ];
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
