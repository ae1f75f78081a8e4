import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deliverDue } from '../../src/jobs/delivery-worker.ts';
import { listDeliveries } from '../../src/services/webhook-delivery.ts';
import { AGENCIES, createIntent, createProcedure, idempotencyKey, registerDossier, rule } from './factories.ts';
import { type Harness, json, TEST_WEBHOOKS } from './harness.ts';
import { deliverSandboxCallback, sandboxEvent } from './sandbox.ts';

/**
 * A delivery that has failed for good, as an admin finds it: an endpoint on a loopback port where
 * nothing listens, a dossier paid, and the delivery worker run at each turn of the retry schedule
 * (the harness clock moved past the longest wait, jitter included) until nothing is pending.
 */

/** A loopback port that was free a moment ago (nothing listens on it now). */
export async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** A receiver that answers 200 on `port`, recording the bodies it gets. */
export async function receiverOn(port: number): Promise<{ server: Server; bodies: string[] }> {
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      bodies.push(body);
      res.end('ok');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return { server, bodies };
}

export const SECRET = 'a-webhook-secret-that-is-long-enough-0123';

/**
 * Registers an endpoint for `dossier.paid` to `http://127.0.0.1:<port>/hook` (the API, as an admin
 * does), pays a new dossier through the sandbox, and runs deliveries until the one event has
 * failed its last try. The harness clock is set (and left) a few hours on.
 */
export async function makeFailedDelivery(h: Harness, tokens: { admin: string; portal: string }, port: number) {
  h.clock.now ??= new Date();
  const registered = await h.request('POST', '/v1/webhook-endpoints', {
    token: tokens.admin,
    headers: { 'idempotency-key': idempotencyKey() },
    body: {
      url: `http://127.0.0.1:${port}/hook`,
      agencyCode: AGENCIES.province,
      events: ['dossier.paid'],
      secrets: [SECRET],
      description: 'Hệ thống một cửa điện tử (thử nghiệm)',
    },
  });
  if (registered.status !== 201) throw new Error(`endpoint not registered: ${registered.status} ${await registered.text()}`);
  const endpoint = await json(registered);
  const procedure = await createProcedure(h.ctx, [rule({ formula: { type: 'fixed', amount: 135_000 } })]);
  const dossier = await registerDossier(h, tokens.portal, procedure);
  const intent = await json(await createIntent(h, tokens.portal, dossier.code));
  const paid = await deliverSandboxCallback(h, sandboxEvent(intent));
  if (paid.status !== 200) throw new Error(`payment not accepted: ${paid.status} ${await paid.text()}`);
  const longest = Math.max(...TEST_WEBHOOKS.retrySchedule);
  for (let turn = 0; turn <= TEST_WEBHOOKS.retrySchedule.length + 1; turn++) {
    await deliverDue(h.ctx);
    const pending = await listDeliveries(h.ctx, { endpointId: endpoint.id, state: 'pending' });
    if (pending.length === 0) break;
    h.clock.now = new Date(h.clock.now.getTime() + longest * 1.2 * 1000);
  }
  const [delivery] = await listDeliveries(h.ctx, { endpointId: endpoint.id });
  if (delivery?.state !== 'failed') throw new Error(`expected a failed delivery, got ${JSON.stringify(delivery)}`);
  return { endpoint, dossier, delivery };
}
