import { buildGateways } from '../../src/gateways/configure.ts';
import { jobsForCron, runJobs } from '../../src/jobs/index.ts';
import { demoGateways } from '../helpers/channels.ts';
import { describeCoreFlow } from '../helpers/core-flow.ts';
import { createHarness } from '../helpers/harness.ts';

/**
 * The core flow on Node, in-process over real HTTP, on either database: the same assertions the
 * workerd smoke suite makes (test/workers/smoke.test.ts). A cron trigger here is the jobs
 * scheduled on its expression, run as Workers' `scheduled` runs them.
 */
describeCoreFlow('Node', async () => {
  const h = await createHarness({
    gateways: (env) =>
      buildGateways(
        { vnpay: demoGateways(env.baseUrl).vnpay, timeoutMs: 2000 },
        { publicBaseUrl: env.baseUrl, fetch: env.fetch, now: env.now, callbackToleranceSeconds: 300 },
      ),
  });
  const url = await h.listen();
  return {
    url,
    sandboxUrl: url,
    seed: h,
    scheduled: async (cron) => {
      await runJobs(h.ctx, { only: jobsForCron(cron) });
    },
    close: () => h.close(),
  };
});
