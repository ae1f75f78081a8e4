import { createHash, createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { and, count, eq, inArray, isNull } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  callbackInbox,
  dossiers,
  obligations,
  paymentEvents,
  paymentIntents,
  paymentReviews,
  receipts,
} from '../../src/db/schema/index.ts';
import type { Gateway, InboundMessage } from '../../src/gateways/types.ts';
import { createVietqrGateway } from '../../src/gateways/vietqr/adapter.ts';
import { findField, parseEmvco } from '../../src/gateways/vietqr/emvco.ts';
import { reprocessInbox } from '../../src/services/callbacks.ts';
import { upsertAgency } from '../../src/services/catalogue.ts';
import type { ServiceContext } from '../../src/services/context.ts';
import { AGENCIES, createIntent, createProcedure, registerDossier, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type GatewayEnv, type Harness, mintToken } from '../helpers/harness.ts';
import { expectJson, expectProblem } from '../helpers/problems.ts';

/**
 * VietQR end to end: an intent for an agency's collection account, then bank credit
 * notifications POSTed to /v1/callbacks/vietqr, signed here with node:crypto.
 */
const SECRETS = ['vietqr-notify-current-0123456789', 'vietqr-notify-previous-9876543210'];
const COMMUNE_ACCOUNT = { bankBin: '970415', accountNumber: '1014682259', accountName: 'UBND PHUONG TRAN BIEN' };
const PROVINCE_ACCOUNT = { bankBin: '970418', accountNumber: '31210000123456', accountName: 'UBND TINH DONG NAI' };

/** Called with each message the adapter is asked to verify, before it verifies it. */
let probe: ((message: InboundMessage) => Promise<void>) | undefined;

function vietqrGateways(format: 'standard' | 'sepay') {
  return (env: GatewayEnv) => {
    const real = createVietqrGateway({ secrets: SECRETS, signatureHeader: 'x-signature', format, service: 'QRIBFTTA', now: env.now });
    const probed: Gateway = {
      ...real,
      async verifyCallback(message, now) {
        await probe?.(message);
        return real.verifyCallback(message, now);
      },
    };
    return { vietqr: probed };
  };
}

async function seedAccounts(ctx: ServiceContext) {
  await seedAgencyTree(ctx);
  await upsertAgency(ctx, {
    code: AGENCIES.province,
    name: 'UBND tỉnh Đồng Nai',
    level: 'province',
    parentCode: null,
    ...PROVINCE_ACCOUNT,
  });
  await upsertAgency(ctx, {
    code: AGENCIES.communeA,
    name: 'UBND phường Trấn Biên',
    level: 'commune',
    parentCode: AGENCIES.province,
    ...COMMUNE_ACCOUNT,
  });
}

interface Intent {
  id: string;
  status: string;
  reference: string;
  amount: number;
  dossierCode: string;
  obligationIds: string[];
  nextAction: Record<string, any> | null;
}

const sign = (raw: string, secret = SECRETS[0]!) => createHmac('sha256', secret).update(raw, 'utf8').digest('hex');
const transactionId = () => `FT26324${randomUUID().replace(/\D/g, '').slice(0, 9)}`;

function credit(intent: Pick<Intent, 'reference' | 'amount'>, overrides: Record<string, unknown> = {}) {
  return {
    accountNumber: COMMUNE_ACCOUNT.accountNumber,
    amount: intent.amount,
    transactionId: transactionId(),
    time: '2026-11-20T10:15:42+07:00',
    description: `MBVCB.1187654321.084512.NGUYEN VAN AN chuyen tien ${intent.reference} thanh toan`,
    ...overrides,
  };
}

describe('VietQR with the standard notification layout', () => {
  let h: Harness;
  let portal: string;
  let procedure: string;

  beforeAll(async () => {
    h = await createHarness({ gateways: vietqrGateways('standard') });
    await seedAccounts(h.ctx);
    portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province, AGENCIES.otherProvince] });
    procedure = await createProcedure(h.ctx);
  });
  afterAll(() => h?.close());

  async function pendingIntent(agencyCode: string = AGENCIES.communeA): Promise<Intent> {
    const dossier = await registerDossier(h, portal, procedure, { agencyCode });
    return expectJson(await createIntent(h, portal, dossier.code, { gateway: 'vietqr' }), 201);
  }

  async function notify(body: unknown, options: { secret?: string; signature?: string } = {}) {
    const raw = typeof body === 'string' ? body : JSON.stringify(body);
    const response = await h.request('POST', '/v1/callbacks/vietqr', {
      rawBody: raw,
      headers: { 'content-type': 'application/json', 'x-signature': options.signature ?? sign(raw, options.secret) },
    });
    return { response, raw, answer: await response.json() };
  }

  const intentRow = async (id: string) => (await h.db.db.select().from(paymentIntents).where(eq(paymentIntents.id, id)))[0]!;
  const obligationsOf = (intent: Intent) => h.db.db.select().from(obligations).where(inArray(obligations.id, intent.obligationIds));
  const receiptCount = async (intentId: string) =>
    (await h.db.db.select({ n: count() }).from(receipts).where(eq(receipts.intentId, intentId)))[0]!.n;
  const reviewsOf = (intentId: string) => h.db.db.select().from(paymentReviews).where(eq(paymentReviews.intentId, intentId));
  const inboxFor = (raw: string) => h.db.db.select().from(callbackInbox).where(eq(callbackInbox.rawBody, raw));

  describe('the QR handed to the payer', () => {
    it("is a dynamic VietQR for the agency's own account, the amount and the intent's reference", async () => {
      const intent = await pendingIntent();
      expect(intent.status).toBe('pending');
      expect(intent.nextAction).toMatchObject({
        type: 'qr',
        bank: '970415',
        bankName: 'VietinBank',
        accountNumber: COMMUNE_ACCOUNT.accountNumber,
        accountName: COMMUNE_ACCOUNT.accountName,
        amount: 135_000,
        transferText: intent.reference,
      });
      expect(intent.reference).toMatch(/^HP[0-9A-Z]{10}$/);
      const { fields, crcValid } = parseEmvco(intent.nextAction!.payload);
      expect(crcValid).toBe(true);
      expect(findField(fields, '01')?.value).toBe('12');
      expect(findField(fields, '38', '01', '00')?.value).toBe('970415');
      expect(findField(fields, '38', '01', '01')?.value).toBe(COMMUNE_ACCOUNT.accountNumber);
      expect(findField(fields, '54')?.value).toBe('135000');
      expect(findField(fields, '62', '08')?.value).toBe(intent.reference);
      expect(intent.nextAction!.imageSvg).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
      // The same next action is read back with the intent.
      const read = await expectJson(await h.request('GET', `/v1/payment-intents/${intent.id}`, { token: portal }), 200);
      expect(read.nextAction).toEqual(intent.nextAction);
    });

    it('uses the nearest account above an agency that has none of its own', async () => {
      const intent = await pendingIntent(AGENCIES.communeB);
      expect(intent.nextAction).toMatchObject({ bank: '970418', bankName: 'BIDV', accountNumber: PROVINCE_ACCOUNT.accountNumber });
      expect(findField(parseEmvco(intent.nextAction!.payload).fields, '38', '01', '01')?.value).toBe(PROVINCE_ACCOUNT.accountNumber);
    });

    it('is refused with 422 collection-account-missing when no agency up the tree has an account', async () => {
      const dossier = await registerDossier(h, portal, procedure, { agencyCode: AGENCIES.otherProvince });
      await expectProblem(await createIntent(h, portal, dossier.code, { gateway: 'vietqr' }), 422, 'collection-account-missing');
      const rows = await h.db.db.select().from(paymentIntents).where(eq(paymentIntents.dossierCode, dossier.code));
      expect(rows).toHaveLength(0);
    });
  });

  describe('bank credit notifications', () => {
    const texts: Array<[string, (reference: string) => string]> = [
      ['lower case after a bank prefix', (r) => `MBVCB.123456.ck ${r.toLowerCase()} thanh toan`],
      [
        'dots and dashes inside the reference',
        (r) => `MBVCB.123456.ck ${r.slice(0, 2).toLowerCase()}-${r.slice(2, 7)}.${r.slice(7).toLowerCase()} thanh toan`,
      ],
      ['spaces inside, diacritics around', (r) => `IBFT Thanh toán lệ phí hộ tịch ${r.slice(0, 6)} ${r.slice(6)} - Nguyễn Văn Đức`],
      ["glued to the bank's own words", (r) => `CT DEN:0123456789${r}THANHTOAN`],
      ['after a look-alike code that names no intent', (r) => `MBVCB.HP0000000000.ck ${r}`],
    ];

    it.each(texts)('pays the intent for the exact amount, text %s, with one receipt', async (_, text) => {
      const intent = await pendingIntent();
      const body = credit(intent, { description: text(intent.reference) });
      const { response, answer } = await notify(body);
      expect(response.status).toBe(200);
      expect(answer).toEqual({ success: true, result: 'applied' });

      const row = await intentRow(intent.id);
      expect(row.status).toBe('succeeded');
      expect(row.gatewayTransactionId).toBe(body.transactionId);
      expect(row.succeededAt?.toISOString()).toBe('2026-11-20T03:15:42.000Z');
      expect((await obligationsOf(intent)).map((o) => [o.status, o.paidIntentId])).toEqual([['paid', intent.id]]);
      expect(await receiptCount(intent.id)).toBe(1);
      const [dossier] = await h.db.db.select().from(dossiers).where(eq(dossiers.code, intent.dossierCode));
      expect(dossier!.onlinePaymentFlag).toBe(2);
      // The receiving account is kept with the payment, for the account check a person can make.
      const [event] = await h.db.db
        .select()
        .from(paymentEvents)
        .where(and(eq(paymentEvents.intentId, intent.id), eq(paymentEvents.event, 'payment_succeeded')));
      expect((event!.detail as any).outcome.detail.accountNumber).toBe(COMMUNE_ACCOUNT.accountNumber);
    });

    it('verifies the notification before storing it (nothing written yet), then stores it byte for byte before applying it', async () => {
      const intent = await pendingIntent();
      const raw = `{ "amount": ${intent.amount}, "accountNumber": "${COMMUNE_ACCOUNT.accountNumber}", "transactionId": "${transactionId()}",\n  "time": "2026-11-20T10:15:42+07:00", "description": "ck ${intent.reference}" }`;
      const seen: string[] = [];
      probe = async (message) => {
        const rows = await inboxFor(message.rawBody);
        seen.push(...rows.map((r) => r.status));
      };
      try {
        const { response } = await notify(raw);
        expect(response.status).toBe(200);
      } finally {
        probe = undefined;
      }
      // Verification reads no database and changes nothing: a refused message is then kept only
      // bounded (issue 14), a verified one whole, committed before it is applied.
      expect(seen).toEqual([]);
      const [stored] = await inboxFor(raw);
      expect(stored).toMatchObject({
        gateway: 'vietqr',
        status: 'processed',
        signatureValid: 'valid',
        result: 'applied',
        reference: intent.reference,
        intentId: intent.id,
      });
      expect(stored!.rawBody).toBe(raw);
    });

    it('holds an underpaid intent for review: no obligation paid, no receipt, a review row', async () => {
      const intent = await pendingIntent();
      const { response, answer } = await notify(credit(intent, { amount: intent.amount - 35_000 }));
      expect(response.status).toBe(200);
      expect(answer).toEqual({ success: true, result: 'amount_mismatch' });
      expect((await intentRow(intent.id)).status).toBe('needs_review');
      expect((await obligationsOf(intent)).map((o) => o.status)).toEqual(['unpaid']);
      expect(await receiptCount(intent.id)).toBe(0);
      const reviews = await reviewsOf(intent.id);
      expect(reviews.map((r) => [r.kind, r.amount, r.gateway])).toEqual([['amount_mismatch', 100_000, 'vietqr']]);
    });

    it('holds for review a credit on another account than the one the QR showed, whatever its text says', async () => {
      const intent = await pendingIntent();
      const { answer } = await notify(credit(intent, { accountNumber: PROVINCE_ACCOUNT.accountNumber }));
      expect(answer).toEqual({ success: true, result: 'amount_mismatch' });
      expect((await intentRow(intent.id)).status).toBe('needs_review');
      expect((await obligationsOf(intent)).map((o) => o.status)).toEqual(['unpaid']);
      expect(await receiptCount(intent.id)).toBe(0);
      const reviews = await reviewsOf(intent.id);
      expect(reviews.map((r) => r.reason)).toEqual([
        `paid into account ${PROVINCE_ACCOUNT.accountNumber}, not the intent's ${COMMUNE_ACCOUNT.accountNumber}`,
      ]);
      // Spelled with the bank's separators, the shown account is still the shown account.
      const other = await pendingIntent();
      const spaced = COMMUNE_ACCOUNT.accountNumber.replace(/(\d{4})/g, '$1 ').trim();
      expect((await notify(credit(other, { accountNumber: spaced }))).answer).toEqual({ success: true, result: 'applied' });
    });

    it('holds an overpaid intent for review the same way', async () => {
      const intent = await pendingIntent();
      const { answer } = await notify(credit(intent, { amount: intent.amount + 1_000 }));
      expect(answer).toEqual({ success: true, result: 'amount_mismatch' });
      expect((await intentRow(intent.id)).status).toBe('needs_review');
      expect((await obligationsOf(intent)).map((o) => o.status)).toEqual(['unpaid']);
      expect((await reviewsOf(intent.id)).map((r) => [r.kind, r.amount])).toEqual([['amount_mismatch', 136_000]]);
    });

    it('records a credit naming no intent as one unmatched_credit review, however often it is delivered', async () => {
      const unknown = credit({ reference: 'HPZZZZZZZZZZ', amount: 135_000 });
      const first = await notify(unknown);
      const again = await notify(unknown);
      for (const { response, answer } of [first, again]) {
        expect(response.status).toBe(200);
        expect(answer).toEqual({ success: true, result: 'unknown_reference' });
      }
      const unmatched = () =>
        h.db.db
          .select()
          .from(paymentReviews)
          .where(and(eq(paymentReviews.gateway, 'vietqr'), eq(paymentReviews.gatewayTransactionId, unknown.transactionId)));
      const rows = await unmatched();
      expect(rows.map((r) => [r.kind, r.intentId, r.amount, r.proposedAction])).toEqual([['unmatched_credit', null, 135_000, 'decide']]);

      // A text with nothing like a reference in it is kept the same way.
      const bare = credit({ reference: '', amount: 50_000 }, { description: 'NGUYEN VAN AN chuyen tien' });
      expect((await notify(bare)).answer).toEqual({ success: true, result: 'unknown_reference' });
      const [kept] = await h.db.db.select().from(paymentReviews).where(eq(paymentReviews.gatewayTransactionId, bare.transactionId));
      expect(kept).toMatchObject({ kind: 'unmatched_credit', intentId: null, amount: 50_000 });
    });

    it('turns a second credit for a paid intent into a second_payment review; the intent stays paid once', async () => {
      const intent = await pendingIntent();
      expect((await notify(credit(intent))).answer).toEqual({ success: true, result: 'applied' });
      const second = credit(intent, { description: `chuyen lai ${intent.reference}` });
      const { response, answer } = await notify(second);
      expect(response.status).toBe(200);
      expect(answer).toEqual({ success: true, result: 'already_final' });
      expect((await intentRow(intent.id)).status).toBe('succeeded');
      expect(await receiptCount(intent.id)).toBe(1);
      const reviews = await reviewsOf(intent.id);
      expect(reviews.map((r) => [r.kind, r.gatewayTransactionId, r.proposedAction])).toEqual([
        ['second_payment', second.transactionId, 'refund'],
      ]);
    });

    it('applies the same notification delivered twice once', async () => {
      const intent = await pendingIntent();
      const body = credit(intent);
      const first = await notify(body);
      const second = await notify(body);
      expect(first.answer).toEqual({ success: true, result: 'applied' });
      expect(second.response.status).toBe(200);
      expect(second.answer).toEqual({ success: true, result: 'duplicate' });
      const accepted = await h.db.db
        .select()
        .from(paymentEvents)
        .where(and(eq(paymentEvents.intentId, intent.id), eq(paymentEvents.event, 'payment_succeeded'), eq(paymentEvents.accepted, true)));
      expect(accepted).toHaveLength(1);
      expect(await receiptCount(intent.id)).toBe(1);
      expect(await reviewsOf(intent.id)).toHaveLength(0);
      expect(await inboxFor(first.raw)).toHaveLength(2);
    });

    it('refuses a bad or tampered signature with 401 and changes nothing, keeping the message', async () => {
      const intent = await pendingIntent();
      const body = credit(intent);
      const forged = await notify(body, { secret: 'not-the-bank' });
      expect(forged.response.status).toBe(401);
      expect(forged.answer).toMatchObject({ success: false, error: 'bad_signature' });

      const signedRaw = JSON.stringify(body);
      const tamperedRaw = signedRaw.replace(`"amount":${intent.amount}`, `"amount":${intent.amount * 10}`);
      expect(tamperedRaw).not.toBe(signedRaw);
      const tampered = await notify(tamperedRaw, { signature: sign(signedRaw) });
      expect(tampered.response.status).toBe(401);

      expect((await intentRow(intent.id)).status).toBe('pending');
      expect((await obligationsOf(intent)).map((o) => o.status)).toEqual(['unpaid']);
      expect(await reviewsOf(intent.id)).toHaveLength(0);
      const kept = [...(await inboxFor(forged.raw)), ...(await inboxFor(tamperedRaw))];
      expect(kept.map((r) => [r.status, r.signatureValid, r.result])).toEqual([
        ['rejected', 'invalid', 'bad_signature'],
        ['rejected', 'invalid', 'bad_signature'],
      ]);
      // The previous secret still verifies (rotation): the genuine message then pays.
      expect((await notify(body, { secret: SECRETS[1] })).answer).toEqual({ success: true, result: 'applied' });
    });

    it('answers 400 to a signed message that is no credit (a debit, a fraction), changing nothing', async () => {
      const intent = await pendingIntent();
      for (const amount of [-intent.amount, intent.amount + 0.5]) {
        const { response, answer } = await notify(credit(intent, { amount }));
        expect(response.status).toBe(400);
        expect(answer).toMatchObject({ success: false, error: 'malformed' });
      }
      expect((await intentRow(intent.id)).status).toBe('pending');
      // Signed by the bank but unreadable: each kept for a person, never only a rejected line.
      const unreadable = await h.db.db
        .select()
        .from(paymentReviews)
        .where(and(eq(paymentReviews.kind, 'unreadable_message'), isNull(paymentReviews.intentId)));
      expect(unreadable.length).toBeGreaterThanOrEqual(2);
      // The bank delivering the same message again opens nothing new.
      const again = credit(intent, { amount: -intent.amount, transactionId: 'FT-REPEATED-UNREADABLE' });
      await notify(again);
      await notify(again);
      const after = await h.db.db
        .select()
        .from(paymentReviews)
        .where(and(eq(paymentReviews.kind, 'unreadable_message'), isNull(paymentReviews.intentId)));
      expect(after.length).toBe(unreadable.length + 1);
      expect(unreadable.every((r) => r.gateway === 'vietqr' && r.reason.startsWith('a message signed by vietqr could not be read'))).toBe(
        true,
      );
    });
  });
});

describe('VietQR with the SePay notification layout', () => {
  let h: Harness;
  let portal: string;
  let procedure: string;

  beforeAll(async () => {
    h = await createHarness({ gateways: vietqrGateways('sepay') });
    await seedAccounts(h.ctx);
    portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province] });
    procedure = await createProcedure(h.ctx);
  });
  afterAll(() => h?.close());

  it('pays an intent from a SePay "in" webhook and answers { success: true }; a debit is refused', async () => {
    const dossier = await registerDossier(h, portal, procedure);
    const intent: Intent = await expectJson(await createIntent(h, portal, dossier.code, { gateway: 'vietqr' }), 201);
    const webhook = {
      id: 92704,
      gateway: 'VietinBank',
      transactionDate: '2026-11-20 10:15:42',
      accountNumber: COMMUNE_ACCOUNT.accountNumber,
      code: null,
      content: `NGUYEN VAN AN chuyen tien ${intent.reference.toLowerCase()}`,
      transferType: 'in',
      transferAmount: intent.amount,
      accumulated: 19_077_000,
      subAccount: null,
      referenceCode: 'FT26324918273645',
      description: `BankAPINotify NGUYEN VAN AN chuyen tien ${intent.reference.toLowerCase()}`,
    };
    const post = async (body: unknown) => {
      const raw = JSON.stringify(body);
      return h.request('POST', '/v1/callbacks/vietqr', {
        rawBody: raw,
        headers: { 'content-type': 'application/json', 'x-signature': sign(raw) },
      });
    };

    const debit = await post({ ...webhook, id: 92703, transferType: 'out' });
    expect(debit.status).toBe(400);
    expect((await h.db.db.select().from(paymentIntents).where(eq(paymentIntents.id, intent.id)))[0]!.status).toBe('pending');

    const paid = await post(webhook);
    expect(paid.status).toBe(200);
    expect(await paid.json()).toEqual({ success: true, result: 'applied' });
    const [row] = await h.db.db.select().from(paymentIntents).where(eq(paymentIntents.id, intent.id));
    expect(row).toMatchObject({ status: 'succeeded', gatewayTransactionId: '92704' });
    expect(row!.succeededAt?.toISOString()).toBe('2026-11-20T03:15:42.000Z');
  });
});

const sepayFixture = JSON.parse(readFileSync(new URL('../fixtures/vietqr/sepay-credit.json', import.meta.url), 'utf8'));

describe("SePay's API-key mode (Authorization: Apikey)", () => {
  const KEYS = ['sepay-key-current-4f9c2a7e1b', 'sepay-key-previous-8d3e6b0c5a'];
  let h: Harness;
  let portal: string;
  let procedure: string;

  beforeAll(async () => {
    h = await createHarness({
      gateways: (env: GatewayEnv) => ({
        vietqr: createVietqrGateway({
          secrets: [],
          apiKeys: KEYS,
          signatureHeader: 'x-signature',
          format: 'sepay',
          service: 'QRIBFTTA',
          now: env.now,
        }),
      }),
    });
    await seedAccounts(h.ctx);
    portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province] });
    procedure = await createProcedure(h.ctx);
  });
  afterAll(() => h?.close());

  /** SePay's webhook as it sends it (test/fixtures/vietqr/sepay-credit.json), for this intent. */
  const webhookFor = (intent: Intent, id: number) =>
    JSON.stringify({
      ...sepayFixture,
      id,
      accountNumber: COMMUNE_ACCOUNT.accountNumber,
      content: `NGUYEN VAN AN chuyen tien ${intent.reference}`,
      transferAmount: intent.amount,
    });
  const post = (raw: string, authorization?: string) =>
    h.request('POST', '/v1/callbacks/vietqr', {
      rawBody: raw,
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    });
  const pending = async () => {
    const dossier = await registerDossier(h, portal, procedure);
    return (await expectJson(await createIntent(h, portal, dossier.code, { gateway: 'vietqr' }), 201)) as Intent;
  };
  const statusOf = async (id: string) => (await h.db.db.select().from(paymentIntents).where(eq(paymentIntents.id, id)))[0]!.status;

  it('pays with either of two keys (rotation), the scheme in any case; the inbox keeps no key', async () => {
    for (const [i, authorization] of [`Apikey ${KEYS[0]}`, `APIKEY  ${KEYS[1]}`, `apikey ${KEYS[1]}`].entries()) {
      const intent = await pending();
      const raw = webhookFor(intent, 93_000 + i);
      const response = await post(raw, authorization);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ success: true, result: 'applied' });
      expect(await statusOf(intent.id)).toBe('succeeded');
      const [stored] = await h.db.db.select().from(callbackInbox).where(eq(callbackInbox.rawBody, raw));
      const key = authorization.trim().split(/\s+/)[1]!;
      expect(JSON.stringify(stored!.headers)).not.toContain(key);
      expect(stored!.headers.authorization).toBeUndefined();
      expect(stored!.headers['x-hub-apikey-sha256']).toBe(createHash('sha256').update(key).digest('hex'));
    }
  });

  it('refuses a wrong key, no key, another scheme, or a digest sent in place of the key, with 401, keeping the message and changing nothing', async () => {
    const intent = await pending();
    const raw = webhookFor(intent, 93_100);
    const attempts: Array<Record<string, string>> = [
      { authorization: 'Apikey not-a-key' },
      {},
      { authorization: `Bearer ${KEYS[0]}` },
      { authorization: `Apikey ${KEYS[0]} extra` },
      // Someone who read the inbox's digest cannot replay it as a header: the hub sets that header itself.
      { 'x-hub-apikey-sha256': createHash('sha256').update(KEYS[0]!).digest('hex') },
    ];
    for (const headers of attempts) {
      const response = await h.request('POST', '/v1/callbacks/vietqr', {
        rawBody: raw,
        headers: { 'content-type': 'application/json', ...headers },
      });
      expect(response.status, JSON.stringify(headers)).toBe(401);
      expect(await response.json()).toMatchObject({ success: false, error: 'bad_signature' });
    }
    expect(await statusOf(intent.id)).toBe('pending');
    const kept = await h.db.db.select().from(callbackInbox).where(eq(callbackInbox.rawBody, raw));
    expect(kept.map((r) => [r.status, r.result])).toEqual(attempts.map(() => ['rejected', 'bad_signature']));
  });

  it('the same SePay transaction delivered twice pays once', async () => {
    const intent = await pending();
    const raw = webhookFor(intent, 93_200);
    expect(await (await post(raw, `Apikey ${KEYS[0]}`)).json()).toEqual({ success: true, result: 'applied' });
    const again = await post(raw, `Apikey ${KEYS[0]}`);
    expect(again.status).toBe(200);
    expect((await again.json()).result).not.toBe('applied');
    const events = await h.db.db.select().from(paymentEvents).where(eq(paymentEvents.intentId, intent.id));
    expect(events.filter((e) => e.event === 'payment_succeeded')).toHaveLength(1);
  });

  it('a message stored but not yet processed (the process died) is re-processed by the inbox job as it came in: with its key, or refused without', async () => {
    const paid = await pending();
    const refused = await pending();
    const stored = (raw: string, key: string) => ({
      id: randomUUID(),
      gateway: 'vietqr',
      method: 'POST',
      url: '/v1/callbacks/vietqr',
      // What keptHeaders stored of `Authorization: Apikey <key>`: the key's SHA-256, never the key.
      headers: { 'content-type': 'application/json', 'x-hub-apikey-sha256': createHash('sha256').update(key).digest('hex') },
      rawBody: raw,
      receivedAt: new Date(Date.now() - 5 * 60_000),
    });
    await h.db.db
      .insert(callbackInbox)
      .values([stored(webhookFor(paid, 93_300), KEYS[1]!), stored(webhookFor(refused, 93_301), 'not-a-key')]);

    await reprocessInbox(h.ctx);

    expect(await statusOf(paid.id)).toBe('succeeded');
    expect(await statusOf(refused.id)).toBe('pending');
    const rows = await h.db.db
      .select()
      .from(callbackInbox)
      .where(inArray(callbackInbox.rawBody, [webhookFor(paid, 93_300), webhookFor(refused, 93_301)]));
    expect(rows.map((r) => [r.reference, r.status, r.result]).sort()).toEqual(
      [
        [paid.reference, 'processed', 'applied'],
        [refused.reference, 'rejected', 'bad_signature'],
      ].sort(),
    );
  });

  it('a gateway with neither secret nor key cannot be built', () => {
    expect(() =>
      createVietqrGateway({
        secrets: [],
        apiKeys: [],
        signatureHeader: 'x-signature',
        format: 'sepay',
        service: 'QRIBFTTA',
        now: () => new Date(),
      }),
    ).toThrow();
  });
});
