import { describeError } from '../db/errors.ts';
import { reprocessInbox } from '../services/callbacks.ts';
import type { ServiceContext } from '../services/context.ts';
import { purgeExpiredKeys } from '../services/idempotency.ts';
import { signPendingReceipts } from '../services/receipts.ts';
import { expireDueIntents } from './expire-intents.ts';
import { pollPendingIntents } from './poll-intents.ts';
import { resendSubmittedRefunds } from './resend-refunds.ts';

/** One run of every periodic job: `npm run jobs`, the Node timer, and the Workers cron. */
export async function runJobs(ctx: ServiceContext): Promise<Record<string, unknown>> {
  const results: Record<string, unknown> = {};
  const jobs: Array<[string, () => Promise<unknown>]> = [
    ['reprocess-inbox', () => reprocessInbox(ctx)],
    ['poll-intents', () => pollPendingIntents(ctx)],
    ['resend-refunds', () => resendSubmittedRefunds(ctx)],
    ['expire-intents', () => expireDueIntents(ctx)],
    ['sign-receipts', () => signPendingReceipts(ctx)],
    ['purge-idempotency-keys', () => purgeExpiredKeys(ctx)],
  ];
  for (const [name, job] of jobs) {
    const started = Date.now();
    try {
      const result = await job();
      results[name] = result;
      ctx.log.info('job', { job: name, status: 'ok', latencyMs: Date.now() - started, result });
    } catch (error) {
      results[name] = { error: describeError(error) };
      ctx.log.error('job', { job: name, status: 'failed', latencyMs: Date.now() - started, error: describeError(error) });
    }
  }
  return results;
}
