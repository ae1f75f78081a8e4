import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterAll, describe, expect, it } from 'vitest';
import { createSandboxCheckout } from '../../src/emulators/sandbox-checkout.ts';
import { createNodeLogger } from '../../src/node/logger.ts';
import { generateReceiptKey } from '../../src/services/receipt-signer.ts';
import { demoGatewayEnv } from '../helpers/channels.ts';
import { describeCoreFlow } from '../helpers/core-flow.ts';
import { createServerTestDatabase, onServer } from '../helpers/database.ts';
import { createHarness, SANDBOX_SECRETS, TEST_JWT_SECRET } from '../helpers/harness.ts';
import { freePort } from '../helpers/hub-process.ts';
import { expectProblem } from '../helpers/problems.ts';
import { waitFor } from '../helpers/webhooks.ts';
import { bundleWorker, startWorkerd, type Workerd } from '../helpers/workerd.ts';

/**
 * The Workers build in workerd: src/worker.ts bundled as `wrangler deploy` bundles it, loaded into
 * workerd by Miniflare with wrangler.toml's settings and a Hyperdrive binding to the machine's
 * PostgreSQL, then the core flow with the Node suite's assertions (test/helpers/core-flow.ts).
 * The outside world is real HTTP on loopback: the sandbox's checkout (Node's emulator, as a
 * Node hub hosts it: SANDBOX_URL), a dossier system's webhook receiver.
 *
 * It needs a PostgreSQL server (workerd has no embedded database): `.ci/run` runs it in the
 * suite's pass on the server; without DATABASE_URL it skips, saying so.
 */
if (!onServer) console.log('workerd smoke suite skipped: it runs against a PostgreSQL server (set DATABASE_URL, as .ci/run does)');

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!onServer)('workerd', () => {
  let workerd: Workerd | undefined;
  // One bundle for the file, made by the first suite that needs it.
  let bundling: ReturnType<typeof bundleWorker> | undefined;
  const bundled = () => (bundling ??= bundleWorker());
  afterAll(async () => {
    await (await bundling)?.remove();
  });

  describeCoreFlow(
    'Cloudflare Workers (workerd)',
    async () => {
      const bundle = await bundled();
      const database = await createServerTestDatabase();
      // Hyperdrive's connection string must carry a password, even for a trust-auth server.
      const hyperdriveUrl = new URL(database.url);
      if (!hyperdriveUrl.password) hyperdriveUrl.password = 'unused-with-trust-auth';
      const seed = await createHarness({ database });
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;

      // The sandbox's hosted checkout, served by Node as a Node hub serves it, calling workerd back.
      const log = createNodeLogger('warn', { write: () => {} });
      const checkout = createSandboxCheckout({
        db: database.db,
        publicBaseUrl: url,
        fetch: (input, init) => fetch(input, init),
        log,
        now: () => new Date(),
        secrets: SANDBOX_SECRETS,
        toleranceSeconds: 300,
      });
      const sandbox = await new Promise<ReturnType<typeof serve>>((resolve) => {
        const server = serve({ fetch: checkout.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(server));
      });
      const sandboxUrl = `http://127.0.0.1:${(sandbox.address() as AddressInfo).port}`;

      const { VNPAY_TMN_CODE, VNPAY_HASH_SECRET } = demoGatewayEnv(url);
      workerd = await startWorkerd({
        script: bundle.script,
        databaseUrl: hyperdriveUrl.toString(),
        port,
        bindings: {
          // Not production: the sandbox gateway and loopback webhook receivers are development's.
          NODE_ENV: 'development',
          PUBLIC_BASE_URL: url,
          JWT_SECRET: TEST_JWT_SECRET,
          SESSION_SECRET: 'a-workerd-session-secret-that-is-long-enough-0123',
          RECEIPT_SIGNING_KEY: JSON.stringify(await generateReceiptKey()),
          SANDBOX_SECRETS: SANDBOX_SECRETS.join(','),
          SANDBOX_URL: sandboxUrl,
          VNPAY_TMN_CODE: VNPAY_TMN_CODE!,
          VNPAY_HASH_SECRET: VNPAY_HASH_SECRET!,
          LOG_LEVEL: 'info',
        },
      });
      const running = workerd;
      return {
        url,
        sandboxUrl,
        seed,
        scheduled: async (cron) => {
          expect((await running.scheduled(cron)).outcome).toBe('ok');
          // The connection is closed in waitUntil after the handler returns.
          await sleep(50);
        },
        close: async () => {
          await running.close();
          await new Promise((resolve) => sandbox.close(resolve));
          await seed.close();
        },
      };
    },
    (state) => {
      it("delivered each payment's events after its answer, before any cron ran (the request's waitUntil)", () => {
        const { receiver, paidAt, firstCronAt } = state();
        const paymentEvents = receiver.received.filter((r) => r.body.type === 'dossier.paid' || r.body.type === 'receipt.issued');
        expect(paymentEvents).toHaveLength(4);
        for (const r of paymentEvents) {
          expect(r.at).toBeGreaterThan(paidAt);
          expect(r.at).toBeLessThan(firstCronAt);
        }
      });

      it('logged as JSON lines through the console logger, with no uncaught error', () => {
        const output = workerd!.output();
        expect(output).toMatch(/"msg":"request"/);
        expect(workerd!.uncaught()).toEqual([]);
      });
    },
  );

  it('answers 500 problem+json when a secret is missing, and logs which (names, never values)', async () => {
    const port = await freePort();
    const broken = await startWorkerd({
      script: (await bundled()).script,
      databaseUrl: 'postgres://postgres:unused@127.0.0.1:5432/postgres',
      port,
      bindings: { PUBLIC_BASE_URL: `http://127.0.0.1:${port}`, JWT_SECRET: TEST_JWT_SECRET },
    });
    try {
      const response = await fetch(`${broken.url}/readyz`);
      const problem = await expectProblem(response, 500, 'internal-error');
      expect(problem.detail).toBe('the hub is not configured: its log names what is missing');
      await waitFor(() => broken.output().includes('the hub is not configured'));
      const logged = broken.output();
      expect(logged).toContain('RECEIPT_SIGNING_KEY: required on Workers');
      expect(logged).toContain('SESSION_SECRET: required on Workers');
      expect(logged).not.toContain(TEST_JWT_SECRET);
    } finally {
      await broken.close();
    }
  });
});
