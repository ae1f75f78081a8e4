import { and, count, eq, isNull } from 'drizzle-orm';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { callbackInbox, obligations, paymentEvents, paymentIntents, paymentReviews, receipts, refunds } from '../../src/db/schema/index.ts';
import { gatewayIds } from '../../src/gateways/types.ts';
import { expireDueIntents } from '../../src/jobs/expire-intents.ts';
import { pollPendingIntents } from '../../src/jobs/poll-intents.ts';
import { upsertAgency } from '../../src/services/catalogue.ts';
import { databaseLabel } from '../helpers/database.ts';
import { AGENCIES, createIntent, createProcedure, idempotencyKey, registerDossier, rule, seedAgencyTree } from '../helpers/factories.ts';
import { type Harness, mintToken } from '../helpers/harness.ts';
import { expectJson, expectProblem } from '../helpers/problems.ts';
import { COLLECTION_ACCOUNT, type CreatedIntent, type GatewayDriver } from './drivers/driver.ts';
import { dvcqgDriver } from './drivers/dvcqg.ts';
import { sandboxDriver } from './drivers/sandbox.ts';
import { vietqrDriver } from './drivers/vietqr.ts';
import { vnpayDriver } from './drivers/vnpay.ts';

/**
 * The contract every gateway adapter keeps with the hub (issue 3, "The same for every adapter"),
 * run against each through the HTTP API, with its own signed message shapes and its outbound
 * calls faked with nock. Each case checks the hub's state (API and database), not only the
 * gateway's answer. Where a gateway cannot do something at all (VietQR has no decline and no
 * status API) the case says so and checks what the gateway does instead.
 */
/**
 * `verifiesStrangerPayments: false` is for a gateway whose signature does not cover the outcome
 * (the national platform's documented layout): a claimed payment naming no intent is still kept
 * for a person, but keyed by the message itself, since its transaction id is unsigned.
 */
const drivers: Array<GatewayDriver & { verifiesStrangerPayments?: boolean }> = [sandboxDriver, vnpayDriver, vietqrDriver, dvcqgDriver];
/** A reference no intent has. */
const STRANGER = { reference: 'HPZZZZZZZZZZ', amount: 185_000 };

beforeAll(() => {
  // No test reaches a real host: every outbound call below is one nock was told to expect.
  nock.disableNetConnect();
});
afterAll(() => {
  nock.enableNetConnect();
});

describe.each(drivers)(`the gateway contract on ${databaseLabel}: $id`, (driver) => {
  let h: Harness;
  let portal: string;
  let treasury: string;
  let procedure: string;

  beforeAll(async () => {
    h = await driver.harness();
    await seedAgencyTree(h.ctx);
    await upsertAgency(h.ctx, {
      code: AGENCIES.province,
      name: 'UBND tỉnh Đồng Nai',
      level: 'province',
      parentCode: null,
      ...COLLECTION_ACCOUNT,
    });
    portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province] });
    treasury = await mintToken({ role: 'treasury', agencies: [AGENCIES.province], subject: 'thu-quy-an' });
    procedure = await createProcedure(h.ctx, [
      rule({ kind: 'phi', feeCode: 'P01', name: 'Phí thẩm định', lineNo: 1, formula: { type: 'fixed', amount: 50_000 } }),
      rule({ kind: 'le_phi', feeCode: 'LP01', name: 'Lệ phí cấp giấy', lineNo: 2, formula: { type: 'fixed', amount: 135_000 } }),
    ]);
  });
  afterEach(() => {
    h.clock.now = null;
    nock.cleanAll();
  });
  afterAll(() => h?.close());

  const gateway = () => h.ctx.gateways[driver.id]!;

  async function newIntent(): Promise<CreatedIntent> {
    const dossier = await registerDossier(h, portal, procedure);
    driver.beforeCreate(h);
    const intent = await expectJson<CreatedIntent>(await createIntent(h, portal, dossier.code, { gateway: driver.id }), 201);
    expect(intent).toMatchObject({ status: 'pending', amount: 185_000, gateway: driver.id });
    return intent;
  }

  const api = async (path: string) => expectJson(await h.request('GET', path, { token: portal }), 200);
  const rowOf = async (id: string) => (await h.db.db.select().from(paymentIntents).where(eq(paymentIntents.id, id)))[0]!;
  const obligationsOf = (dossierCode: string) =>
    h.db.db.select().from(obligations).where(eq(obligations.dossierCode, dossierCode)).orderBy(obligations.lineNo);
  const receiptCount = async (intentId?: string) =>
    (
      await h.db.db
        .select({ n: count() })
        .from(receipts)
        .where(intentId ? eq(receipts.intentId, intentId) : undefined)
    )[0]!.n;
  const eventsOf = (intentId: string) => h.db.db.select().from(paymentEvents).where(eq(paymentEvents.intentId, intentId));
  const acceptedEvents = async (intentId: string, event: string) =>
    (await eventsOf(intentId)).filter((e) => e.event === event && e.accepted);
  const inboxOf = (reference: string) =>
    h.db.db
      .select()
      .from(callbackInbox)
      .where(and(eq(callbackInbox.gateway, driver.id), eq(callbackInbox.reference, reference)));
  const reviewsOf = (intentId: string) => h.db.db.select().from(paymentReviews).where(eq(paymentReviews.intentId, intentId));

  /** Everything a message may change about an intent. */
  async function snapshot(intent: CreatedIntent) {
    return {
      intent: await rowOf(intent.id),
      obligations: await obligationsOf(intent.dossierCode),
      receipts: await receiptCount(intent.id),
      events: (await eventsOf(intent.id)).length,
      reviews: (await reviewsOf(intent.id)).length,
    };
  }

  /** The intent is paid: succeeded, every obligation paid by it, one receipt, the dossier's 766 flag. */
  async function expectPaid(intent: CreatedIntent) {
    expect(await api(`/v1/payment-intents/${intent.id}`)).toMatchObject({ status: 'succeeded', succeededAt: expect.any(String) });
    const dossier = await api(`/v1/dossiers/${intent.dossierCode}`);
    expect(dossier.onlinePaymentFlag).toBe(driver.onlinePaymentFlag);
    expect(dossier.obligations.map((o: { status: string }) => o.status)).toEqual(['paid', 'paid']);
    expect((await obligationsOf(intent.dossierCode)).map((o) => o.paidIntentId)).toEqual([intent.id, intent.id]);
    expect(await receiptCount(intent.id)).toBe(1);
    expect(await api(`/v1/payment-intents/${intent.id}/receipt`)).toMatchObject({ reference: intent.reference, total: intent.amount });
  }

  /** Nothing was decided: still pending, its obligations unpaid and still held by it. */
  async function expectStillPending(intent: CreatedIntent) {
    expect((await api(`/v1/payment-intents/${intent.id}`)).status).toBe('pending');
    expect((await obligationsOf(intent.dossierCode)).map((o) => [o.status, o.liveIntentId])).toEqual([
      ['unpaid', intent.id],
      ['unpaid', intent.id],
    ]);
    expect(await receiptCount(intent.id)).toBe(0);
    expect((await eventsOf(intent.id)).map((e) => e.event).sort()).toEqual(['created', 'handed_over']);
  }

  const secondsAfter = (instant: string, seconds: number) => new Date(new Date(instant).getTime() + seconds * 1000);

  it('1. create → callback → paid: succeeded, obligations paid, one receipt, the 766 flag, the message processed in the inbox', async () => {
    const intent = await newIntent();
    expect((await obligationsOf(intent.dossierCode)).map((o) => o.liveIntentId)).toEqual([intent.id, intent.id]);

    expect((await driver.send(h, intent, 'success')).verdict).toBe('accepted');

    await expectPaid(intent);
    expect(await acceptedEvents(intent.id, 'payment_succeeded')).toMatchObject([{ source: 'callback', toStatus: 'succeeded' }]);
    expect(await inboxOf(intent.reference)).toMatchObject([
      { status: 'processed', signatureValid: 'valid', result: 'applied', intentId: intent.id, responseStatus: 200 },
    ]);
  });

  it('2. a duplicate callback is answered "already recorded": one transition, one receipt', async () => {
    const intent = await newIntent();
    expect((await driver.send(h, intent, 'success')).verdict).toBe('accepted');
    const paid = await snapshot(intent);

    expect((await driver.send(h, intent, 'success')).verdict).toBe('already-recorded');

    expect(await snapshot(intent)).toEqual(paid);
    expect(await acceptedEvents(intent.id, 'payment_succeeded')).toHaveLength(1);
    expect(await receiptCount(intent.id)).toBe(1);
    expect((await inboxOf(intent.reference)).map((r) => `${r.status} ${r.result}`).sort()).toEqual([
      'processed applied',
      'processed duplicate',
    ]);
  });

  it(`3. reordered callbacks: a later ${driver.laterMessage} after the success changes nothing`, async () => {
    // VietQR has no decline (a transfer arrives or it does not): what can follow its success is
    // another credit, which must not undo or repeat the payment either.
    const intent = await newIntent();
    expect((await driver.send(h, intent, 'success')).verdict).toBe('accepted');
    const paid = await snapshot(intent);

    expect((await driver.send(h, intent, driver.laterMessage)).verdict).toBe('already-recorded');

    const after = await snapshot(intent);
    expect({ ...after, events: paid.events, reviews: paid.reviews }).toEqual(paid);
    await expectPaid(intent);
    expect(await acceptedEvents(intent.id, 'payment_succeeded')).toHaveLength(1);
    // The late message is in the history, refused.
    const refused = (await eventsOf(intent.id)).filter((e) => !e.accepted);
    expect(refused.map((e) => e.event)).toEqual([driver.laterMessage === 'decline' ? 'payment_declined' : 'payment_succeeded']);
    if (driver.laterMessage === 'second-credit') {
      // The second credit's money is kept for a refund, never lost.
      expect((await reviewsOf(intent.id)).map((r) => [r.kind, r.proposedAction])).toEqual([['second_payment', 'refund']]);
    }
  });

  it("4. a bad signature is refused in the gateway's words, changes nothing, and is kept in the inbox as rejected", async () => {
    const intent = await newIntent();
    const before = await snapshot(intent);

    expect((await driver.send(h, intent, 'tampered')).verdict).toBe('refused-signature');

    expect(await snapshot(intent)).toEqual(before);
    await expectStillPending(intent);
    expect(await inboxOf(intent.reference)).toMatchObject([
      { status: 'rejected', signatureValid: 'invalid', result: 'bad_signature', intentId: null },
    ]);
    // The same message, untouched, pays: the refusal was the signature's alone.
    expect((await driver.send(h, intent, 'success')).verdict).toBe('accepted');
    await expectPaid(intent);
  });

  it('5. a payment of another amount is never paid: held for review, no receipt, a payment_reviews row', async () => {
    const intent = await newIntent();

    const answer = await driver.send(h, { reference: intent.reference, amount: intent.amount - 1_000 }, 'success');

    expect(answer.verdict).toBe('amount-mismatch');
    // Money moved for another amount: a person decides, and the obligations stay held meanwhile.
    expect(await api(`/v1/payment-intents/${intent.id}`)).toMatchObject({
      status: 'needs_review',
      reviewReason: expect.stringContaining('184000'),
    });
    expect((await obligationsOf(intent.dossierCode)).map((o) => [o.status, o.liveIntentId])).toEqual([
      ['unpaid', intent.id],
      ['unpaid', intent.id],
    ]);
    expect(await receiptCount(intent.id)).toBe(0);
    expect((await api(`/v1/dossiers/${intent.dossierCode}`)).onlinePaymentFlag).toBe(0);
    expect((await reviewsOf(intent.id)).map((r) => [r.kind, r.amount, r.gateway, r.status])).toEqual([
      ['amount_mismatch', 184_000, driver.id, 'open'],
    ]);
  });

  it(`6. a ${driver.verifiesStrangerPayments === false ? 'signed confirm (its outcome unsigned)' : 'verified payment'} naming no intent is answered "unknown", pays nothing, and becomes an unmatched_credit review`, async () => {
    const receiptsBefore = await receiptCount();

    expect((await driver.send(h, STRANGER, 'success')).verdict).toBe('unknown-reference');

    expect(await receiptCount()).toBe(receiptsBefore);
    const unmatched = await h.db.db
      .select()
      .from(paymentReviews)
      .where(and(eq(paymentReviews.gateway, driver.id), isNull(paymentReviews.intentId)));
    expect(unmatched.map((r) => [r.kind, r.amount, r.proposedAction])).toEqual([['unmatched_credit', STRANGER.amount, 'decide']]);
    if (driver.verifiesStrangerPayments === false) expect(unmatched[0]!.gatewayTransactionId).toMatch(/^message:[0-9a-f]{64}$/);
    expect(await inboxOf(STRANGER.reference)).toMatchObject([
      { status: 'processed', signatureValid: 'valid', result: 'unknown_reference', intentId: null },
    ]);
  });

  // Cases 7 and 8 depend on what the gateway can be asked: each is registered only where it
  // applies, and where it does not, the variant beside it checks what the gateway does instead.
  if (driver.paidAtGateway)
    it('7. a lost callback is healed by the poller once the start delay has passed', async () => {
      const { capabilities, polling } = gateway();
      expect(capabilities.queryStatus).toBe(true);
      const intent = await newIntent();
      const faked = await driver.paidAtGateway!(h, intent);
      expect((await rowOf(intent.id)).status).toBe('pending'); // no callback arrived

      h.clock.now = secondsAfter(intent.createdAt, polling!.startDelaySeconds - 1);
      await pollPendingIntents(h.ctx);
      expect(await rowOf(intent.id)).toMatchObject({ status: 'pending', pollAttempts: 0 });

      h.clock.now = secondsAfter(intent.createdAt, polling!.startDelaySeconds + 1);
      await pollPendingIntents(h.ctx);

      for (const scope of faked) expect(scope.isDone()).toBe(true);
      await expectPaid(intent);
      expect(await rowOf(intent.id)).toMatchObject({ nextPollAt: null, pollAttempts: 1 });
      expect(await acceptedEvents(intent.id, 'payment_succeeded')).toMatchObject([{ source: 'poller' }]);
      expect(await inboxOf(intent.reference)).toEqual([]);
    });

  if (!driver.paidAtGateway)
    it('7. without a status API the poller leaves the intents alone', async () => {
      // VietQR has no status API: nobody can be asked about a transfer. A lost notification is
      // healed by the bank statement (matched on the transfer text), not by the poller.
      expect(gateway().capabilities.queryStatus).toBe(false);
      expect(gateway().queryStatus).toBeUndefined();
      const intent = await newIntent();
      const before = await snapshot(intent);
      expect(before.intent.nextPollAt).toBeNull();

      h.clock.now = secondsAfter(intent.createdAt, 600);
      await pollPendingIntents(h.ctx);

      expect(await snapshot(intent)).toEqual(before);
      await expectStillPending(intent);
    });

  for (const how of ['http-502', 'timeout'] as const) {
    if (driver.statusQueryFails)
      it(`8. a status query answered ${how} leaves the intent pending for the poller, asked again later`, async () => {
        const intent = await newIntent();
        const { polling } = gateway();
        const scope = driver.statusQueryFails!(h, intent, how);
        const now = secondsAfter(intent.createdAt, polling!.startDelaySeconds + 1);
        h.clock.now = now;

        await pollPendingIntents(h.ctx);

        expect(scope.isDone()).toBe(true);
        await expectStillPending(intent);
        expect(await rowOf(intent.id)).toMatchObject({
          pollAttempts: 1,
          nextPollAt: new Date(now.getTime() + polling!.intervalSeconds * 1000),
        });
      });

    if (driver.statusQueryFails)
      it(`8. a status query answered ${how} at expiry, within the grace period, leaves the intent pending`, async () => {
        const intent = await newIntent();
        const scope = driver.statusQueryFails!(h, intent, how);
        // Past the deadline, within the hub's 60-minute grace for an unknown answer.
        h.clock.now = secondsAfter(intent.expiresAt, 60);

        const report = await expireDueIntents(h.ctx);

        expect(scope.isDone()).toBe(true);
        expect(report.leftPending).toBeGreaterThanOrEqual(1);
        await expectStillPending(intent);
      });

    if (driver.initFails)
      it(`8. an init answered ${how} is a 502 problem, and no intent is written`, async () => {
        const dossier = await registerDossier(h, portal, procedure);
        const scope = driver.initFails!(how);

        await expectProblem(await createIntent(h, portal, dossier.code, { gateway: driver.id }), 502, 'gateway-error');

        expect(scope.isDone()).toBe(true);
        expect(await h.db.db.select().from(paymentIntents).where(eq(paymentIntents.dossierCode, dossier.code))).toEqual([]);
        expect((await obligationsOf(dossier.code)).map((o) => [o.status, o.liveIntentId])).toEqual([
          ['unpaid', null],
          ['unpaid', null],
        ]);
      });
  }

  if (!driver.initFails)
    it('8. the hand-over calls no gateway, so it cannot time out', async () => {
      // Every outbound host is refused here, and nothing is faked.
      expect(nock.pendingMocks()).toEqual([]);
      const intent = await newIntent();
      expect(intent.nextAction).not.toBeNull();
    });

  if (!driver.statusQueryFails)
    it('8. nothing is asked at expiry either: an expired intent frees its obligations', async () => {
      // VietQR: with no status API there is no unknown answer to wait for; a transfer arriving
      // after expiry is a late payment the hub still takes or holds for review.
      const intent = await newIntent();
      h.clock.now = secondsAfter(intent.expiresAt, 60);
      const report = await expireDueIntents(h.ctx);
      expect(report.leftPending).toBe(0);
      expect((await api(`/v1/payment-intents/${intent.id}`)).status).toBe('expired');
      expect((await obligationsOf(intent.dossierCode)).map((o) => [o.status, o.liveIntentId])).toEqual([
        ['unpaid', null],
        ['unpaid', null],
      ]);
    });

  it('9. capabilities match the adapter, and intents follow them (next action, polling schedule)', async () => {
    const g = gateway();
    expect(g.capabilities.queryStatus).toBe(typeof g.queryStatus === 'function');
    expect(g.capabilities.refund).toBe(typeof g.refund === 'function');
    expect(g.onlinePaymentFlag).toBe(driver.onlinePaymentFlag);
    const intent = await newIntent();
    expect(intent.nextAction!.type).toBe(g.capabilities.redirect ? 'redirect' : 'qr');
    expect(g.capabilities[intent.nextAction!.type as 'redirect' | 'qr']).toBe(true);
    const row = await rowOf(intent.id);
    expect(row.onlinePaymentFlag).toBe(driver.onlinePaymentFlag);
    expect(row.nextPollAt).toEqual(g.capabilities.queryStatus ? secondsAfter(intent.createdAt, g.polling!.startDelaySeconds) : null);
  });

  it(`9. a refund is ${driver.refunds ? 'taken up (the capability is there)' : 'refused: 422 gateway-capability-missing'}`, async () => {
    expect(gateway().capabilities.refund).toBe(driver.refunds);
    const intent = await newIntent();
    expect((await driver.send(h, intent, 'success')).verdict).toBe('accepted');
    // A deliberately wrong expectedRefundable: a gateway that can refund gets past the capability
    // check to the hub's own 409, with no call to the gateway.
    const response = await h.request('POST', `/v1/payment-intents/${intent.id}/refunds`, {
      token: treasury,
      headers: { 'idempotency-key': idempotencyKey() },
      body: { amount: intent.amount, expectedRefundable: intent.amount - 1, reason: 'Nộp trùng' },
    });
    if (driver.refunds) await expectProblem(response, 409, 'refundable-changed');
    else await expectProblem(response, 422, 'gateway-capability-missing');
    expect(await h.db.db.select().from(refunds).where(eq(refunds.intentId, intent.id))).toEqual([]);
    await expectPaid(intent);
  });

  it(`9. an unconfigured gateway (${driver.unconfigured}) is refused at intent creation: 422 gateway-not-available`, async () => {
    expect(h.ctx.gateways[driver.unconfigured]).toBeUndefined();
    const dossier = await registerDossier(h, portal, procedure);
    await expectProblem(await createIntent(h, portal, dossier.code, { gateway: driver.unconfigured }), 422, 'gateway-not-available');
    expect(await h.db.db.select().from(paymentIntents).where(eq(paymentIntents.dossierCode, dossier.code))).toEqual([]);
    expect((await obligationsOf(dossier.code)).map((o) => o.liveIntentId)).toEqual([null, null]);
  });
});

// A driver list that missed a gateway would let an adapter skip the contract unnoticed.
it('the contract covers every gateway the hub knows', () => {
  expect(drivers.map((d) => d.id).sort()).toEqual([...gatewayIds].sort());
});
