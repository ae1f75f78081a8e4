import { eq } from 'drizzle-orm';
import { compactVerify, createLocalJWKSet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paymentIntents } from '../../src/db/schema/index.ts';
import { vnpSignedQuery } from '../../src/emulators/protocol/vnpay.ts';
import { DEMO_CHANNELS } from './channels.ts';
import { AGENCIES, createIntent, createProcedure, registerDossier, rule, seedAgencyTree } from './factories.ts';
import { type Harness, json, mintToken, type Requester, requestOverHttp } from './harness.ts';
import { expectJson, expectProblem } from './problems.ts';
import { openCheckout } from './sandbox.ts';
import { vnpayFixture } from './vnpay-fixtures.ts';
import { parseSignature, type Receiver, signedWith, startReceiver, waitFor } from './webhooks.ts';

/** What the core flow runs against: a hub listening on HTTP, in whatever runtime. */
export interface HubUnderTest {
  /** The hub's base URL (its PUBLIC_BASE_URL). */
  url: string;
  /** Where the sandbox's checkout is hosted (the hub itself on Node; a Node emulator beside workerd). */
  sandboxUrl: string;
  /** An in-process app on the same database: seeds the catalogue, moves an intent's deadline. */
  seed: Harness;
  /** One cron trigger's run, as the runtime runs it (src/jobs/index.ts, JOB_SCHEDULE). */
  scheduled(cron: string): Promise<void>;
  close(): Promise<void>;
}

/** Whoever reads the flow's state after it: the runtime's own assertions (workerd's background work, say). */
export interface CoreFlowState {
  hub: HubUnderTest;
  receiver: Receiver;
  portal: string;
  /** When the sandbox's payer clicked "pay" (ms), and the paid intent. */
  paidAt: number;
  /** When the flow fired its first cron trigger (ms). */
  firstCronAt: number;
  paid: { id: string; reference: string };
}

const WEBHOOK_SECRET = 'whsec-core-flow-secret-for-tests-0001';
const RETURN_URL = 'https://dichvucong.dongnai.gov.vn/thanh-toan/ket-qua';

/**
 * The hub's core flow, one assertion set for every runtime (test/api/core-flow.test.ts on Node,
 * test/workers/smoke.test.ts in workerd): health and readiness; a token's checks; a dossier; an
 * intent in the sandbox paid on its hosted checkout, whose signed callback reaches the hub over
 * HTTP; the signed receipt; a VNPay IPN and its repeat; an indicator query; then the cron
 * triggers: one expires an intent the gateway never saw paid, one delivers what the outbox holds
 * to a dossier system's endpoint, signed.
 */
export function describeCoreFlow(runtime: string, start: () => Promise<HubUnderTest>, more?: (state: () => CoreFlowState) => void) {
  describe(`the core flow on ${runtime}`, () => {
    let hub: HubUnderTest;
    let request: Requester;
    let receiver: Receiver;
    let portal: string;
    let admin: string;
    let procedure: string;
    const state = {} as CoreFlowState;

    beforeAll(async () => {
      hub = await start();
      request = requestOverHttp(hub.url);
      receiver = await startReceiver();
      await seedAgencyTree(hub.seed.ctx);
      procedure = await createProcedure(hub.seed.ctx, [
        rule({ feeCode: 'LP01', name: 'Lệ phí đổi giấy phép lái xe', formula: { type: 'fixed', amount: 135_000 } }),
        rule({ kind: 'phi', feeCode: 'P02', name: 'Phí thẩm định', lineNo: 2, formula: { type: 'fixed', amount: 1_000_005 } }),
      ]);
      portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province] });
      admin = await mintToken({ role: 'admin' });
      Object.assign(state, { hub, receiver, portal });
    });
    afterAll(async () => {
      await receiver?.close();
      await hub?.close();
    });

    it('is healthy, and ready with every migration applied', async () => {
      expect((await expectJson(await request('GET', '/healthz'), 200)).status).toBe('ok');
      const ready = await expectJson(await request('GET', '/readyz'), 200);
      expect(ready.status).toBe('ready');
      expect(ready.migrations.applied).toBe(ready.migrations.expected);
    });

    it('refuses a request without a token, or with a forged one, with 401 problem+json', async () => {
      await expectProblem(await request('GET', '/v1/payment-intents'), 401);
      const forged = await mintToken({ role: 'admin', secret: 'not-the-hubs-secret-but-long-enough-0123456789' });
      await expectProblem(await request('GET', '/v1/payment-intents', { token: forged }), 401);
    });

    it("registers a dossier, subscribes a dossier system's endpoint, and pays in the sandbox", async () => {
      const endpoint = await expectJson(
        await request('POST', '/v1/webhook-endpoints', {
          token: admin,
          headers: { 'idempotency-key': `core-flow-endpoint-${Date.now()}` },
          body: {
            url: receiver.url,
            agencyCode: AGENCIES.communeA,
            events: ['dossier.paid', 'receipt.issued', 'payment.expired'],
            secrets: [WEBHOOK_SECRET],
          },
        }),
        201,
      );
      expect(endpoint.secretFingerprints).toHaveLength(1);

      const dossier = await registerDossier({ request }, portal, procedure);
      expect(dossier.totalDue).toBe(1_135_005);
      const intent = await expectJson(await createIntent({ request }, portal, dossier.code), 201);
      expect(intent).toMatchObject({ status: 'pending', amount: 1_135_005, currency: 'VND', gateway: 'sandbox' });
      expect(intent.nextAction.url.startsWith(`${hub.sandboxUrl}/sandbox/checkout/${intent.reference}?`)).toBe(true);

      const { status, html, form } = await openCheckout(intent.nextAction.url);
      expect(status).toBe(200);
      expect(html).toContain('1.135.005 đ');
      form.set('choice', 'pay');
      state.paidAt = Date.now();
      const submitted = await fetch(intent.nextAction.url.split('?')[0], { method: 'POST', body: form, redirect: 'manual' });
      expect(submitted.status).toBe(303);
      const back = new URL(submitted.headers.get('location')!);
      expect(back.origin + back.pathname).toBe(`${hub.url}/v1/returns/sandbox`);
      expect(back.searchParams.get('status')).toBe('succeeded');

      // The sandbox delivered its signed callback to the hub before answering the payer.
      const paid = await expectJson(await request('GET', `/v1/payment-intents/${intent.id}`, { token: portal }), 200);
      expect(paid.status).toBe('succeeded');
      const after = await expectJson(await request('GET', `/v1/dossiers/${dossier.code}`, { token: portal }), 200);
      expect(after.totalDue).toBe(0);
      expect(after.onlinePaymentFlag).toBe(2);
      expect(after.obligations.every((o: { status: string }) => o.status === 'paid')).toBe(true);
      state.paid = { id: intent.id, reference: intent.reference };
    });

    it('issues the receipt, signed with the key the hub publishes', async () => {
      const path = `/v1/payment-intents/${state.paid.id}/receipt`;
      // Issued after the answer on Node's and Workers' paths alike: asked for until it is there.
      await waitFor(async () => (await request('GET', path, { token: portal })).status === 200, 15_000);
      const receipt = await expectJson(await request('GET', path, { token: portal }), 200);
      expect(receipt).toMatchObject({
        total: 1_135_005,
        totalInWords: 'Một triệu một trăm ba mươi lăm nghìn không trăm linh năm đồng',
        number: 1,
      });
      const jwks = await json(await request('GET', '/.well-known/jwks.json'));
      const verified = await compactVerify(receipt.signature, createLocalJWKSet(jwks));
      const payload = JSON.parse(new TextDecoder().decode(verified.payload));
      expect(payload).toMatchObject({ total: 1_135_005, number: 1, reference: state.paid.reference });
    });

    it('confirms a VNPay IPN with 00, and its repeat with 02', async () => {
      const dossier = await registerDossier({ request }, portal, procedure);
      const intent = await expectJson(
        await createIntent({ request }, portal, dossier.code, { gateway: 'vnpay', returnUrl: RETURN_URL }),
        201,
      );
      expect(new URL(intent.nextAction.url).searchParams.get('vnp_TxnRef')).toBe(intent.reference);
      const query = vnpSignedQuery(
        {
          ...vnpayFixture('ipn-success'),
          vnp_TmnCode: DEMO_CHANNELS.vnpayTmn,
          vnp_TxnRef: intent.reference,
          vnp_Amount: String(intent.amount * 100),
          vnp_OrderInfo: `Thanh toan phi le phi ho so ${intent.reference}`,
        },
        DEMO_CHANNELS.vnpaySecret,
      );
      expect(await expectJson(await request('GET', `/v1/callbacks/vnpay?${query}`), 200)).toEqual({
        RspCode: '00',
        Message: 'Confirm Success',
      });
      expect((await expectJson(await request('GET', `/v1/callbacks/vnpay?${query}`), 200)).RspCode).toBe('02');
      const paid = await expectJson(await request('GET', `/v1/payment-intents/${intent.id}`, { token: portal }), 200);
      expect(paid.status).toBe('succeeded');
    });

    it('counts both payments in the 766 online-payment indicator', async () => {
      const query = `agency=${AGENCIES.communeA}&from=2026-11-01&to=2026-11-30`;
      const indicators = await expectJson(await request('GET', `/v1/indicators/online-payment?${query}`, { token: admin }), 200);
      expect(indicators.dossierOnlinePayment).toMatchObject({ numerator: 2, denominator: 2 });
    });

    it('expires an unpaid intent on its cron trigger, and delivers the outbox on the minute', async () => {
      const dossier = await registerDossier({ request }, portal, procedure);
      const intent = await expectJson(await createIntent({ request }, portal, dossier.code), 201);
      // Its half hour is up (the sandbox never saw it paid): moved back rather than waited for.
      await hub.seed.db.db
        .update(paymentIntents)
        .set({ expiresAt: new Date(Date.now() - 60_000) })
        .where(eq(paymentIntents.id, intent.id));

      state.firstCronAt = Date.now();
      await hub.scheduled('*/5 * * * *');
      const expired = await expectJson(await request('GET', `/v1/payment-intents/${intent.id}`, { token: portal }), 200);
      expect(expired.status).toBe('expired');

      await hub.scheduled('* * * * *');
      const types = () => receiver.received.map((r) => r.body.type as string);
      await waitFor(() => types().length >= 5, 10_000);
      expect(types().sort()).toEqual(['dossier.paid', 'dossier.paid', 'payment.expired', 'receipt.issued', 'receipt.issued']);
      const told = receiver.received.find((r) => r.body.type === 'payment.expired')!;
      expect(told.body).toMatchObject({ dossierCode: dossier.code, agencyCode: AGENCIES.communeA, gateway: 'sandbox' });
      for (const r of receiver.received) {
        const header = String(r.headers['hub-signature']);
        expect(parseSignature(header).v1).toHaveLength(1);
        expect(signedWith(header, r.raw, WEBHOOK_SECRET)).toBe(true);
        expect(r.headers['hub-event-id']).toBe(r.body.id);
      }
      // Each event once: the background pass and the cron never both delivered one.
      expect(new Set(receiver.received.map((r) => r.body.id)).size).toBe(receiver.received.length);
    });

    more?.(() => state);
  });
}
