import { count, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { obligations, paymentIntents } from '../../src/db/schema/index.ts';
import {
  AGENCIES,
  createIntent,
  createProcedure,
  idempotencyKey,
  registerDossier,
  rule,
  seedAgencyTree,
  uniqueDossierCode,
} from '../helpers/factories.ts';
import { createHarness, type Harness, mintToken } from '../helpers/harness.ts';
import { expectJson, expectProblem } from '../helpers/problems.ts';
import { deliverSandboxCallback, sandboxEvent } from '../helpers/sandbox.ts';

/** POST /v1/payment-intents, GET, cancel and receipt. */
let h: Harness;
let portal: string;
let twoLines: string; // 135.000 đ lệ phí + 50.000 đ phí
let onlyWaived: string;

const RETURN_URL = 'https://dichvucong.dongnai.gov.vn/thanh-toan/ket-qua';

beforeAll(async () => {
  h = await createHarness();
  await seedAgencyTree(h.ctx);
  portal = await mintToken({ role: 'portal', agencies: [AGENCIES.communeA] });
  twoLines = await createProcedure(h.ctx, [
    rule({ feeCode: 'LP01', name: 'Lệ phí cấp giấy', formula: { type: 'fixed', amount: 135_000 } }),
    rule({ kind: 'phi', feeCode: 'P02', name: 'Phí thẩm định', lineNo: 2, formula: { type: 'fixed', amount: 50_000 } }),
  ]);
  onlyWaived = await createProcedure(h.ctx, [rule({ formula: { type: 'exempt' } })]);
});
afterAll(() => h?.close());

const newDossier = (procedure = twoLines) => registerDossier(h, portal, procedure);
const getIntent = (id: string, token = portal) => h.request('GET', `/v1/payment-intents/${id}`, { token });
const cancel = (id: string, token = portal) => h.request('POST', `/v1/payment-intents/${id}/cancel`, { token });
const getDossier = (code: string) => h.request('GET', `/v1/dossiers/${code}`, { token: portal });
const intentsOf = async (dossierCode: string) =>
  (await h.db.db.select({ n: count() }).from(paymentIntents).where(eq(paymentIntents.dossierCode, dossierCode)))[0]!.n;

async function pay(intent: { reference: string; amount: number }) {
  const response = await deliverSandboxCallback(h, sandboxEvent(intent));
  expect(await expectJson(response, 200)).toMatchObject({ result: 'applied' });
}

describe('happy', () => {
  it('creates an intent for every unpaid obligation (201)', async () => {
    const dossier = await newDossier();
    const before = Date.now();
    const response = await createIntent(h, portal, dossier.code);
    const intent = await expectJson(response, 201);
    expect(intent).toMatchObject({
      status: 'pending',
      amount: 185_000,
      currency: 'VND',
      gateway: 'sandbox',
      dossierCode: dossier.code,
      obligationIds: dossier.obligations.map((o: { id: string }) => o.id),
      returnUrl: RETURN_URL,
      succeededAt: null,
      reviewReason: null,
    });
    expect(intent.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(intent.reference).toMatch(/^HP[0-9A-Z]{10}$/);
    const ttl = Date.parse(intent.expiresAt) - before;
    expect(ttl).toBeGreaterThan(29 * 60_000);
    expect(ttl).toBeLessThanOrEqual(31 * 60_000);
    expect(intent.nextAction.type).toBe('redirect');
    expect(intent.nextAction.url).toContain(`/sandbox/checkout/${intent.reference}`);
    expect(await expectJson(await getIntent(intent.id), 200)).toEqual(intent);
  });

  it('creates an intent for a subset of the obligations, and another for the rest', async () => {
    const dossier = await newDossier();
    const [first, second] = dossier.obligations;
    const one = await expectJson(await createIntent(h, portal, dossier.code, { obligationIds: [second.id] }), 201);
    expect(one).toMatchObject({ amount: 50_000, obligationIds: [second.id] });
    const other = await expectJson(await createIntent(h, portal, dossier.code, { obligationIds: [first.id, first.id] }), 201);
    expect(other).toMatchObject({ amount: 135_000, obligationIds: [first.id] });
    expect(other.reference).not.toBe(one.reference);
  });

  it('replays the first answer for the same Idempotency-Key and body, and creates no second intent', async () => {
    const dossier = await newDossier();
    const key = idempotencyKey();
    const first = await expectJson(await createIntent(h, portal, dossier.code, {}, key), 201);
    const replay = await createIntent(h, portal, dossier.code, {}, key);
    expect(await expectJson(replay, 201)).toEqual(first);
    // The same body with its keys in another order is the same request.
    const reordered = await h.request('POST', '/v1/payment-intents', {
      token: portal,
      headers: { 'idempotency-key': key },
      body: { returnUrl: RETURN_URL, gateway: 'sandbox', dossierCode: dossier.code },
    });
    expect(await expectJson(reordered, 201)).toEqual(first);
    expect(await intentsOf(dossier.code)).toBe(1);
  });

  it("keys are per principal: another principal's key does not replay mine", async () => {
    const dossier = await newDossier();
    const key = idempotencyKey();
    const mine = await expectJson(await createIntent(h, portal, dossier.code, {}, key), 201);
    const other = await mintToken({ role: 'portal', agencies: [AGENCIES.province], subject: 'another-portal' });
    // Same key, same body, another caller: a new request, refused because the obligations are held.
    await expectProblem(await createIntent(h, other, dossier.code, {}, key), 409, 'obligation-unavailable');
    expect(await intentsOf(dossier.code)).toBe(1);
    expect((await expectJson(await getIntent(mine.id), 200)).status).toBe('pending');
  });

  it('cancels a live intent (200) and frees its obligations for a new intent', async () => {
    const dossier = await newDossier();
    const intent = await expectJson(await createIntent(h, portal, dossier.code), 201);
    const cancelled = await expectJson(await cancel(intent.id), 200);
    expect(cancelled).toMatchObject({ id: intent.id, status: 'cancelled', nextAction: null, obligationIds: intent.obligationIds });
    const rows = await h.db.db.select().from(obligations).where(eq(obligations.dossierCode, dossier.code));
    expect(rows.every((o) => o.liveIntentId === null && o.status === 'unpaid')).toBe(true);
    const again = await expectJson(await createIntent(h, portal, dossier.code), 201);
    expect(again.id).not.toBe(intent.id);
    expect(again.amount).toBe(185_000);
  });

  it('cancelling twice answers 200 both times', async () => {
    const dossier = await newDossier();
    const intent = await expectJson(await createIntent(h, portal, dossier.code), 201);
    const first = await expectJson(await cancel(intent.id), 200);
    const second = await expectJson(await cancel(intent.id), 200);
    expect(second).toEqual(first);
  });

  it('a treasury principal reads intents and receipts but may not create or cancel (403)', async () => {
    const dossier = await newDossier();
    const intent = await expectJson(await createIntent(h, portal, dossier.code), 201);
    await pay(intent);
    const treasury = await mintToken({ role: 'treasury', agencies: [AGENCIES.province] });
    expect((await expectJson(await getIntent(intent.id, treasury), 200)).status).toBe('succeeded');
    const receipt = await expectJson(await h.request('GET', `/v1/payment-intents/${intent.id}/receipt`, { token: treasury }), 200);
    expect(receipt).toMatchObject({ intentId: intent.id, total: 185_000, reference: intent.reference });
    await expectProblem(await cancel(intent.id, treasury), 403, 'forbidden');
    await expectProblem(await createIntent(h, treasury, dossier.code), 403, 'forbidden');
  });
});

describe('error', () => {
  it('refuses the same Idempotency-Key with a different body (409 idempotency-key-reused)', async () => {
    const dossier = await newDossier();
    const key = idempotencyKey();
    const first = await expectJson(await createIntent(h, portal, dossier.code, {}, key), 201);
    await expectProblem(
      await createIntent(h, portal, dossier.code, { returnUrl: 'https://dichvucong.dongnai.gov.vn/khac' }, key),
      409,
      'idempotency-key-reused',
    );
    await expectProblem(
      await createIntent(h, portal, dossier.code, { obligationIds: [dossier.obligations[0].id] }, key),
      409,
      'idempotency-key-reused',
    );
    expect(await intentsOf(dossier.code)).toBe(1);
    expect(await expectJson(await createIntent(h, portal, dossier.code, {}, key), 201)).toEqual(first);
  });

  it('requires an Idempotency-Key (400 idempotency-key-required), and creates nothing', async () => {
    const dossier = await newDossier();
    const problem = await expectProblem(
      await h.request('POST', '/v1/payment-intents', {
        token: portal,
        body: { dossierCode: dossier.code, gateway: 'sandbox', returnUrl: RETURN_URL },
      }),
      400,
      'idempotency-key-required',
    );
    expect(problem.errors?.[0]?.path).toBe('Idempotency-Key');
    expect(await intentsOf(dossier.code)).toBe(0);
  });

  it.each([
    ['a space', 'key with space'],
    ['non-ASCII', 'khóa-1'],
    ['256 characters', 'k'.repeat(256)],
  ])('refuses an Idempotency-Key with %s (400)', async (_name, key) => {
    const dossier = await newDossier();
    await expectProblem(await createIntent(h, portal, dossier.code, {}, key), 400, 'validation-failed');
    expect(await intentsOf(dossier.code)).toBe(0);
  });

  it('refuses an obligation already held by a live intent (409 obligation-unavailable)', async () => {
    const dossier = await newDossier();
    const [first, second] = dossier.obligations;
    await expectJson(await createIntent(h, portal, dossier.code, { obligationIds: [first.id] }), 201);
    const held = await expectProblem(
      await createIntent(h, portal, dossier.code, { obligationIds: [first.id, second.id] }),
      409,
      'obligation-unavailable',
    );
    expect(held.obligationIds).toEqual([first.id]);
    // All unpaid obligations, by default: one is held, so the whole request is refused.
    await expectProblem(await createIntent(h, portal, dossier.code), 409, 'obligation-unavailable');
    expect(await intentsOf(dossier.code)).toBe(1);
  });

  it('refuses a paid obligation (409), and a fully paid dossier has nothing to pay (422)', async () => {
    const dossier = await newDossier();
    const intent = await expectJson(await createIntent(h, portal, dossier.code), 201);
    await pay(intent);
    await expectProblem(
      await createIntent(h, portal, dossier.code, { obligationIds: [dossier.obligations[0].id] }),
      409,
      'obligation-unavailable',
    );
    await expectProblem(await createIntent(h, portal, dossier.code), 422, 'nothing-to-pay');
    expect(await intentsOf(dossier.code)).toBe(1);
  });

  it('refuses an obligation of another dossier, or unknown (400)', async () => {
    const dossier = await newDossier();
    const elsewhere = await newDossier();
    const unknown = await expectProblem(
      await createIntent(h, portal, dossier.code, { obligationIds: ['0b5a7a3e-8a8c-4c4e-9d55-2d0f6f1c2a11'] }),
      400,
      'validation-failed',
    );
    expect(unknown.errors?.[0]?.path).toBe('obligationIds');
    await expectProblem(
      await createIntent(h, portal, dossier.code, { obligationIds: [elsewhere.obligations[0].id] }),
      400,
      'validation-failed',
    );
    await expectProblem(await createIntent(h, portal, dossier.code, { obligationIds: ['not-a-uuid'] }), 400, 'validation-failed');
    await expectProblem(await createIntent(h, portal, dossier.code, { obligationIds: [] }), 400, 'validation-failed');
    expect(await intentsOf(dossier.code)).toBe(0);
  });

  it('a dossier with nothing to pay: 422 nothing-to-pay', async () => {
    const dossier = await newDossier(onlyWaived);
    expect(dossier.totalDue).toBe(0);
    await expectProblem(await createIntent(h, portal, dossier.code), 422, 'nothing-to-pay');
    await expectProblem(await createIntent(h, portal, dossier.code, { obligationIds: [dossier.obligations[0].id] }), 422, 'nothing-to-pay');
    expect(await intentsOf(dossier.code)).toBe(0);
  });

  it('a gateway that is not configured: 422 gateway-not-available; an unknown one: 400', async () => {
    const dossier = await newDossier();
    const problem = await expectProblem(await createIntent(h, portal, dossier.code, { gateway: 'vnpay' }), 422, 'gateway-not-available');
    expect(problem.errors?.[0]?.path).toBe('gateway');
    await expectProblem(await createIntent(h, portal, dossier.code, { gateway: 'paypal' }), 400, 'validation-failed');
    expect(await intentsOf(dossier.code)).toBe(0);
  });

  it('an unknown dossier: 404', async () => {
    await expectProblem(await createIntent(h, portal, uniqueDossierCode()), 404, 'not-found');
  });

  it('cancelling a succeeded intent: 409 invalid-transition, and it stays succeeded', async () => {
    const dossier = await newDossier();
    const intent = await expectJson(await createIntent(h, portal, dossier.code), 201);
    await pay(intent);
    const problem = await expectProblem(await cancel(intent.id), 409, 'invalid-transition');
    expect(problem.intentStatus).toBe('succeeded');
    expect((await expectJson(await getIntent(intent.id), 200)).status).toBe('succeeded');
    const paid = await expectJson(await getDossier(dossier.code), 200);
    expect(paid.obligations.every((o: { status: string }) => o.status === 'paid')).toBe(true);
  });

  it('a receipt before payment: 409 receipt-not-issued', async () => {
    const dossier = await newDossier();
    const intent = await expectJson(await createIntent(h, portal, dossier.code), 201);
    const problem = await expectProblem(
      await h.request('GET', `/v1/payment-intents/${intent.id}/receipt`, { token: portal }),
      409,
      'receipt-not-issued',
    );
    expect(problem.intentStatus).toBe('pending');
    await expectJson(await cancel(intent.id), 200);
    await expectProblem(await h.request('GET', `/v1/payment-intents/${intent.id}/receipt`, { token: portal }), 409, 'receipt-not-issued');
  });

  it('an unknown intent id: 404 for GET, cancel and receipt; a malformed one: 400', async () => {
    const id = crypto.randomUUID();
    await expectProblem(await getIntent(id), 404, 'not-found');
    await expectProblem(await cancel(id), 404, 'not-found');
    await expectProblem(await h.request('GET', `/v1/payment-intents/${id}/receipt`, { token: portal }), 404, 'not-found');
    await expectProblem(await getIntent('12345'), 400, 'validation-failed');
    await expectProblem(await cancel('not-a-uuid'), 400, 'validation-failed');
  });

  it.each([
    'javascript:alert(1)',
    'ftp://dichvucong.dongnai.gov.vn/ket-qua',
    'data:text/html,<script>alert(1)</script>',
    'file:///etc/passwd',
    '/relative/path',
    'not a url',
    `https://dichvucong.dongnai.gov.vn/${'a'.repeat(2000)}`,
  ])('refuses the returnUrl %s (400)', async (returnUrl) => {
    const dossier = await newDossier();
    const problem = await expectProblem(await createIntent(h, portal, dossier.code, { returnUrl }), 400, 'validation-failed');
    expect(problem.errors?.[0]?.path).toBe('returnUrl');
    expect(await intentsOf(dossier.code)).toBe(0);
  });

  it('accepts an http returnUrl', async () => {
    const dossier = await newDossier();
    await expectJson(await createIntent(h, portal, dossier.code, { returnUrl: 'http://localhost:8080/done' }), 201);
  });

  it.each([
    ['an unknown field', { amount: 1 }],
    ['no dossierCode', { dossierCode: undefined }],
    ['a malformed dossierCode', { dossierCode: '../../etc' }],
    ['a returnUrl with a NUL character', { returnUrl: 'https://dichvucong.dongnai.gov.vn/x\u0000y' }],
    ['a returnUrl with an unpaired surrogate', { returnUrl: 'https://dichvucong.dongnai.gov.vn/x\ud800' }],
  ])('refuses %s (400), and creates nothing', async (_name, extra) => {
    const dossier = await newDossier();
    await expectProblem(await createIntent(h, portal, dossier.code, extra), 400, 'validation-failed');
    expect(await intentsOf(dossier.code)).toBe(0);
  });

  it('an error answer does not spend the Idempotency-Key', async () => {
    const dossier = await newDossier();
    const key = idempotencyKey();
    await expectProblem(await createIntent(h, portal, uniqueDossierCode(), {}, key), 404, 'not-found');
    // The same key, now with a body that can succeed, is a new request.
    await expectJson(await createIntent(h, portal, dossier.code, {}, key), 201);
  });
});

describe('security', () => {
  it('a sibling commune cannot see, cancel or pay for the intent (404)', async () => {
    const dossier = await newDossier();
    const intent = await expectJson(await createIntent(h, portal, dossier.code), 201);
    const sibling = await mintToken({ role: 'portal', agencies: [AGENCIES.communeB] });
    await expectProblem(await getIntent(intent.id, sibling), 404, 'not-found');
    await expectProblem(await cancel(intent.id, sibling), 404, 'not-found');
    expect((await expectJson(await getIntent(intent.id), 200)).status).toBe('pending');
    await expectProblem(await createIntent(h, sibling, dossier.code), 404, 'not-found');
  });
});
