import { describe, expect, it } from 'vitest';
import { JOB_SCHEDULE, jobsForCron } from '../../src/jobs/index.ts';
import { wranglerConfig } from '../helpers/workerd.ts';

/** wrangler.toml's cron triggers and the jobs' schedule (src/jobs/index.ts) say the same thing. */
describe('the Workers cron triggers', () => {
  it("declares one trigger for each job's expression, and no other", () => {
    const declared = [...(wranglerConfig().triggers.crons ?? [])].sort();
    expect(declared).toEqual([...new Set(Object.values(JOB_SCHEDULE))].sort());
  });

  it('gives every trigger its jobs in run order, and none to an expression no job is on', () => {
    expect(jobsForCron('* * * * *')).toEqual(['reprocess-inbox', 'poll-intents', 'issue-receipts', 'sign-receipts', 'deliver-webhooks']);
    expect(jobsForCron('*/5 * * * *')).toEqual(['resend-refunds', 'expire-intents']);
    expect(jobsForCron('*/10 * * * *')).toEqual(['campaign-summaries']);
    expect(jobsForCron('0 0 * * *')).toBeUndefined();
    const all = Object.keys(JOB_SCHEDULE).sort();
    const covered = [...new Set(Object.values(JOB_SCHEDULE))].flatMap((cron) => jobsForCron(cron)!);
    expect(covered.sort()).toEqual(all);
  });
});
