import { and, count, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callbackInbox, obligations, paymentEvents, paymentIntents, paymentReviews, receipts } from '../../src/db/schema/index.ts';
import { gmt7 } from '../../src/emulators/protocol/time.ts';
import { vnpSignedQuery, vnpUrlVerifies } from '../../src/emulators/protocol/vnpay.ts';
import { createVnpayGateway } from '../../src/gateways/vnpay/adapter.ts';
import { AGENCIES, createIntent, createProcedure, registerDossier, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type Harness, mintToken } from '../helpers/harness.ts';
import { expectJson, expectProblem } from '../helpers/problems.ts';
import { vnpayFixture } from '../helpers/vnpay-fixtures.ts';

/**
 * VNPay through the app: the payment URL the hub hands over, checked by the independent
 * implementation (src/emulators/protocol/vnpay.ts, the VNPay emulator's own); IPNs built and signed by that
 * implementation, sent as VNPay sends them (GET /v1/callbacks/vnpay); and the browser return.
 */
const SECRETS = ['VNPAYCURRENTSECRET0123456789ABCD', 'VNPAYPREVIOUSSECRET9876543210WXYZ'];
const TMN = 'DEMOV210';
const RETURN_URL = 'https://dichvucong.dongnai.gov.vn/thanh-toan/ket-qua?nguon=hub&lang=vi';

let h: Harness;
let portal: string;
let procedure: string;

beforeAll(async () => {
  h = await createHarness({
    gateways: (env) => ({
      vnpay: createVnpayGateway({
        tmnCode: TMN,
        secrets: SECRETS,
        paymentUrl: 'https://sandbox.vnpayment.vn/paymentv2/vpcpay.html',
        apiUrl: 'https://sandbox.vnpayment.vn/merchant_webapi/api/transaction',
        encoding: 'php',
        serverIp: '203.0.113.10',
        polling: { startDelaySeconds: 600, intervalSeconds: 900, maxAttempts: 8 },
        returnUrl: `${env.baseUrl}/v1/returns/vnpay`,
        fetch: env.fetch,
        now: env.now,
        timeoutMs: 2000,
      }),
    }),
  });
  await seedAgencyTree(h.ctx);
  portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province] });
  procedure = await createProcedure(h.ctx);
});
afterAll(() => h?.close());

interface Intent {
  id: string;
  reference: string;
  amount: number;
  dossierCode: string;
  createdAt: string;
  expiresAt: string;
  nextAction: { type: string; url: string };
}

async function vnpayIntent(extra: Record<string, unknown> = {}): Promise<Intent> {
  const dossier = await registerDossier(h, portal, procedure);
  return expectJson(await createIntent(h, portal, dossier.code, { gateway: 'vnpay', returnUrl: RETURN_URL, ...extra }), 201);
}

/** What VNPay sends for a payment: the recorded IPN shape, about this intent. */
const ipnParams = (intent: Pick<Intent, 'reference' | 'amount'>, overrides: Record<string, string> = {}, base = 'ipn-success') => ({
  ...vnpayFixture(base),
  vnp_TxnRef: intent.reference,
  vnp_Amount: String(intent.amount * 100),
  vnp_OrderInfo: `Thanh toan phi le phi ho so ${intent.reference}`,
  ...overrides,
});

const ipnQuery = (params: Record<string, string>, secret = SECRETS[0]!) => vnpSignedQuery(params, secret);

async function sendIpn(query: string) {
  const response = await h.request('GET', `/v1/callbacks/vnpay?${query}`);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  return expectJson<{ RspCode: string; Message: string }>(response, 200);
}

/** Changes one parameter of a signed query, leaving the signature as it was. */
function tamper(query: string, key: string, value: string): string {
  const params = new URLSearchParams(query);
  params.set(key, value);
  return params.toString();
}

const intentRow = async (id: string) => (await h.db.db.select().from(paymentIntents).where(eq(paymentIntents.id, id)))[0]!;
const obligationRows = (dossierCode: string) => h.db.db.select().from(obligations).where(eq(obligations.dossierCode, dossierCode));
const receiptCount = async (intentId: string) =>
  (await h.db.db.select({ n: count() }).from(receipts).where(eq(receipts.intentId, intentId)))[0]!.n;
const eventCount = async (intentId: string) =>
  (await h.db.db.select({ n: count() }).from(paymentEvents).where(eq(paymentEvents.intentId, intentId)))[0]!.n;
const inboxCount = async () => (await h.db.db.select({ n: count() }).from(callbackInbox).where(eq(callbackInbox.gateway, 'vnpay')))[0]!.n;
const inboxFor = (query: string) =>
  h.db.db
    .select()
    .from(callbackInbox)
    .where(and(eq(callbackInbox.gateway, 'vnpay'), eq(callbackInbox.url, `/v1/callbacks/vnpay?${query}`)));

async function snapshot(intent: Intent) {
  return {
    intent: await intentRow(intent.id),
    obligations: await obligationRows(intent.dossierCode),
    receipts: await receiptCount(intent.id),
  };
}

describe('payment URL', () => {
  it('is a VNPay 2.1.0 URL: amount × 100, the reference, GMT+7 dates whatever the server zone, signed', async () => {
    const zone = process.env.TZ;
    // 23:40 UTC is already the next day in Vietnam: a date computed in the server's zone is wrong.
    process.env.TZ = 'America/Los_Angeles';
    h.clock.now = new Date('2026-11-22T23:40:05.250Z');
    try {
      const intent = await vnpayIntent({ payer: { ip: '198.51.100.23' } });
      expect(intent.nextAction.type).toBe('redirect');
      const url = new URL(intent.nextAction.url);
      expect(`${url.origin}${url.pathname}`).toBe('https://sandbox.vnpayment.vn/paymentv2/vpcpay.html');
      const params = Object.fromEntries(url.searchParams);
      expect(params).toMatchObject({
        vnp_Version: '2.1.0',
        vnp_Command: 'pay',
        vnp_TmnCode: TMN,
        vnp_Amount: String(intent.amount * 100),
        vnp_CurrCode: 'VND',
        vnp_TxnRef: intent.reference,
        vnp_IpAddr: '198.51.100.23',
        vnp_ReturnUrl: 'http://hub.test/v1/returns/vnpay',
        vnp_CreateDate: '20261123064005',
        vnp_ExpireDate: gmt7(new Date(intent.expiresAt)),
      });
      expect(params.vnp_CreateDate).toBe(gmt7(new Date(intent.createdAt)));
      expect(params.vnp_OrderInfo).toMatch(/^[\x20-\x7e]+$/);
      expect(vnpUrlVerifies(intent.nextAction.url, SECRETS[0]!)).toBe(true);
      expect(
        vnpUrlVerifies(intent.nextAction.url.replace(`vnp_Amount=${intent.amount * 100}`, `vnp_Amount=${intent.amount * 10}`), SECRETS[0]!),
      ).toBe(false);
      const row = await intentRow(intent.id);
      expect(row).toMatchObject({ gateway: 'vnpay', gatewayReference: intent.reference, onlinePaymentFlag: 2 });
    } finally {
      h.clock.now = null;
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
  });
});

describe('IPN', () => {
  it('accepts a success signed by the independent implementation: 00, paid, receipt issued, stored in the inbox', async () => {
    const intent = await vnpayIntent();
    const query = ipnQuery(ipnParams(intent));
    expect(await sendIpn(query)).toEqual({ RspCode: '00', Message: 'Confirm Success' });

    const row = await intentRow(intent.id);
    expect(row).toMatchObject({ status: 'succeeded', gatewayTransactionId: '14226112' });
    expect(row.succeededAt).toEqual(new Date('2026-11-22T02:35:12Z'));
    expect(await receiptCount(intent.id)).toBe(1);
    const receipt = await expectJson(await h.request('GET', `/v1/payment-intents/${intent.id}/receipt`, { token: portal }), 200);
    expect(receipt).toMatchObject({ reference: intent.reference, total: intent.amount, gatewayTransactionId: '14226112' });
    expect((await obligationRows(intent.dossierCode)).map((o) => [o.status, o.paidIntentId])).toEqual([['paid', intent.id]]);

    const [stored] = await inboxFor(query);
    expect(stored).toMatchObject({
      method: 'GET',
      rawBody: '',
      status: 'processed',
      signatureValid: 'valid',
      reference: intent.reference,
      intentId: intent.id,
      result: 'applied',
      responseStatus: 200,
    });
    expect(JSON.parse(stored!.responseBody!)).toEqual({ RspCode: '00', Message: 'Confirm Success' });
  });

  it('answers a repeat with 02 and changes nothing', async () => {
    const intent = await vnpayIntent();
    const query = ipnQuery(ipnParams(intent));
    expect((await sendIpn(query)).RspCode).toBe('00');
    const after = await snapshot(intent);
    expect(await sendIpn(query)).toEqual({ RspCode: '02', Message: 'Order already confirmed' });
    expect(await snapshot(intent)).toEqual(after);
    expect(await inboxFor(query)).toHaveLength(2);
  });

  it.each([
    ['vnp_Amount', (i: Intent) => String(i.amount * 1000)],
    ['vnp_ResponseCode', () => '24'],
    ['vnp_TransactionNo', () => '99999999'],
    ['vnp_OrderInfo', () => 'Thanh toan khac'],
  ])('refuses an IPN whose %s was changed after signing with 97, and nothing changes', async (key, value) => {
    const intent = await vnpayIntent();
    const before = await snapshot(intent);
    const query = tamper(ipnQuery(ipnParams(intent)), key, value(intent));
    expect(await sendIpn(query)).toEqual({ RspCode: '97', Message: 'Invalid signature' });
    expect(await snapshot(intent)).toEqual(before);
    expect((await inboxFor(query))[0]).toMatchObject({ status: 'rejected', signatureValid: 'invalid', result: 'bad_signature' });
  });

  it('refuses an IPN without a hash, or signed with a secret that is not ours, with 97', async () => {
    const intent = await vnpayIntent();
    const unsigned = new URLSearchParams(ipnParams(intent)).toString();
    expect((await sendIpn(unsigned)).RspCode).toBe('97');
    expect((await sendIpn(ipnQuery(ipnParams(intent), 'NOTTHEHUBSSECRET'))).RspCode).toBe('97');
    expect((await intentRow(intent.id)).status).toBe('pending');
  });

  it('accepts an IPN signed with the second (rotated) secret', async () => {
    const intent = await vnpayIntent();
    expect((await sendIpn(ipnQuery(ipnParams(intent), SECRETS[1]))).RspCode).toBe('00');
    expect((await intentRow(intent.id)).status).toBe('succeeded');
  });

  it('answers an unknown vnp_TxnRef with 01', async () => {
    expect(await sendIpn(ipnQuery(ipnParams({ reference: 'HPZZZZZZZZZZ', amount: 135_000 })))).toEqual({
      RspCode: '01',
      Message: 'Order not found',
    });
  });

  it('answers a success for the wrong amount with 04, and holds the money for review', async () => {
    const intent = await vnpayIntent();
    const query = ipnQuery(ipnParams(intent, { vnp_Amount: String((intent.amount - 1000) * 100) }));
    expect(await sendIpn(query)).toEqual({ RspCode: '04', Message: 'Invalid amount' });
    const row = await intentRow(intent.id);
    expect(row.status).toBe('needs_review');
    expect(await receiptCount(intent.id)).toBe(0);
    const reviews = await h.db.db.select().from(paymentReviews).where(eq(paymentReviews.intentId, intent.id));
    expect(reviews.map((r) => [r.kind, r.amount])).toEqual([['amount_mismatch', intent.amount - 1000]]);
  });

  it('answers a decline for the wrong amount with 04, and changes nothing', async () => {
    const intent = await vnpayIntent();
    const before = await snapshot(intent);
    const params = ipnParams(intent, { vnp_Amount: String(intent.amount * 200) }, 'ipn-cancelled');
    expect((await sendIpn(ipnQuery(params))).RspCode).toBe('04');
    expect(await snapshot(intent)).toEqual(before);
  });

  it('answers an amount that is not whole VND × 100 with 04 (01 when the order is unknown), and changes nothing', async () => {
    const intent = await vnpayIntent();
    const before = await snapshot(intent);
    expect((await sendIpn(ipnQuery(ipnParams(intent, { vnp_Amount: `${intent.amount * 100 + 50}` })))).RspCode).toBe('04');
    expect((await sendIpn(ipnQuery(ipnParams(intent, { vnp_Amount: '1.35e7' })))).RspCode).toBe('04');
    expect(await snapshot(intent)).toEqual(before);
    expect((await sendIpn(ipnQuery(ipnParams({ reference: 'HPZZZZZZZZZZ', amount: 1 }, { vnp_Amount: '150' })))).RspCode).toBe('01');
  });

  it('answers 07 (suspected fraud) with 00 and holds the intent for review, obligations still held', async () => {
    const intent = await vnpayIntent();
    expect(await sendIpn(ipnQuery(ipnParams(intent, { vnp_ResponseCode: '07' })))).toEqual({ RspCode: '00', Message: 'Confirm Success' });
    const row = await intentRow(intent.id);
    expect(row.status).toBe('needs_review');
    expect(row.reviewReason).toMatch(/gian lận|fraud/);
    expect((await obligationRows(intent.dossierCode)).map((o) => [o.status, o.liveIntentId])).toEqual([['unpaid', intent.id]]);
    expect(await receiptCount(intent.id)).toBe(0);
  });

  it('records a decline (24, customer cancelled) with 00: failed, obligations free again', async () => {
    const intent = await vnpayIntent();
    expect(await sendIpn(ipnQuery(ipnParams(intent, {}, 'ipn-cancelled')))).toEqual({ RspCode: '00', Message: 'Confirm Success' });
    expect((await intentRow(intent.id)).status).toBe('failed');
    expect((await obligationRows(intent.dossierCode)).map((o) => [o.status, o.liveIntentId])).toEqual([['unpaid', null]]);
    await expectJson(await createIntent(h, portal, intent.dossierCode, { gateway: 'vnpay', returnUrl: RETURN_URL }), 201);
  });

  it('success needs both codes: response 00 with transaction status 02 is recorded as a decline', async () => {
    const intent = await vnpayIntent();
    expect((await sendIpn(ipnQuery(ipnParams(intent, { vnp_TransactionStatus: '02' })))).RspCode).toBe('00');
    expect((await intentRow(intent.id)).status).toBe('failed');
  });

  it('a failure after the success is answered 02 and changes nothing', async () => {
    const intent = await vnpayIntent();
    await sendIpn(ipnQuery(ipnParams(intent)));
    const after = await snapshot(intent);
    expect((await sendIpn(ipnQuery(ipnParams(intent, {}, 'ipn-cancelled')))).RspCode).toBe('02');
    expect(await snapshot(intent)).toEqual(after);
  });

  describe('order of checks', () => {
    it('bad signature and unknown reference: 97', async () => {
      const query = tamper(ipnQuery(ipnParams({ reference: 'HPZZZZZZZZZZ', amount: 135_000 })), 'vnp_Amount', '1');
      expect((await sendIpn(query)).RspCode).toBe('97');
    });

    it('unknown reference and wrong amount: 01', async () => {
      expect(await sendIpn(ipnQuery(ipnParams({ reference: 'HPZZZZZZZZZZ', amount: 999 })))).toMatchObject({ RspCode: '01' });
    });

    it('wrong amount on an order already confirmed: 04 before 02', async () => {
      const intent = await vnpayIntent();
      await sendIpn(ipnQuery(ipnParams(intent)));
      const after = await snapshot(intent);
      expect((await sendIpn(ipnQuery(ipnParams(intent, { vnp_Amount: String(intent.amount * 200) })))).RspCode).toBe('04');
      expect((await sendIpn(ipnQuery(ipnParams(intent, { vnp_Amount: String(intent.amount * 200) }, 'ipn-cancelled')))).RspCode).toBe('04');
      expect(await snapshot(intent)).toEqual(after);
    });
  });

  it('a signed message that is not an IPN of this terminal is answered 99 and kept', async () => {
    const intent = await vnpayIntent();
    const query = ipnQuery(ipnParams(intent, { vnp_TmnCode: 'OTHERTMN' }));
    expect(await sendIpn(query)).toEqual({ RspCode: '99', Message: 'Unknown error' });
    expect((await inboxFor(query))[0]).toMatchObject({ status: 'rejected', signatureValid: 'valid', result: 'malformed' });
    expect((await intentRow(intent.id)).status).toBe('pending');
  });

  it('stores every IPN in the inbox, whatever its answer', async () => {
    const intent = await vnpayIntent();
    const before = await inboxCount();
    const good = ipnQuery(ipnParams(intent));
    const queries = [
      good,
      good,
      tamper(good, 'vnp_Amount', '1'),
      ipnQuery(ipnParams({ reference: 'HPYYYYYYYYYY', amount: 5 })),
      'vnp_TxnRef=x',
    ];
    for (const query of queries) await sendIpn(query);
    expect(await inboxCount()).toBe(before + queries.length);
  });
});

describe('browser return', () => {
  const returnPath = (query: string) => `/v1/returns/vnpay?${query}`;

  it('shows a Vietnamese page with what VNPay said and what the hub has, redirects to returnUrl, changes nothing', async () => {
    const intent = await vnpayIntent();
    const before = await snapshot(intent);
    const events = await eventCount(intent.id);
    const inbox = await inboxCount();

    const response = await h.request('GET', returnPath(ipnQuery(ipnParams(intent))));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const page = await response.text();
    expect(page).toContain('<html lang="vi">');
    expect(page).toContain('VNPay báo <strong>giao dịch thành công</strong>');
    expect(page).toContain('Đang chờ xác nhận từ cổng thanh toán');
    expect(page).toContain('Bạn không cần thanh toán lại.');
    expect(page).toContain(intent.reference);

    const target = new URL(RETURN_URL);
    target.searchParams.set('reference', intent.reference);
    target.searchParams.set('status', 'pending');
    // Then the hub's signed result (test/api/hub-result.test.ts verifies it).
    const escaped = `${target.toString().replaceAll('&', '&amp;')}&amp;hubResult=`;
    expect(page).toContain(`<meta http-equiv="refresh" content="5;url=${escaped}`);
    expect(page).toContain(`<a href="${escaped}`);

    // The browser's word is never proof: the intent is exactly as before, nothing recorded.
    expect(await snapshot(intent)).toEqual(before);
    expect(await eventCount(intent.id)).toBe(events);
    expect(await inboxCount()).toBe(inbox);
  });

  it('after the IPN, shows the payment as recorded and passes status=succeeded', async () => {
    const intent = await vnpayIntent();
    const query = ipnQuery(ipnParams(intent));
    await sendIpn(query);
    const page = await (await h.request('GET', returnPath(query))).text();
    expect(page).toContain('Đã ghi nhận thanh toán');
    expect(page).toContain(`reference=${intent.reference}&amp;status=succeeded`);
  });

  it('shows a decline with its reason, and suspected fraud, still changing nothing', async () => {
    const intent = await vnpayIntent();
    const before = await snapshot(intent);
    const declined = await (await h.request('GET', returnPath(ipnQuery(ipnParams(intent, {}, 'ipn-cancelled'))))).text();
    expect(declined).toContain('giao dịch không thành công</strong>: Khách hàng hủy giao dịch.');
    expect(declined).not.toContain('không cần thanh toán lại');
    const fraud = await (await h.request('GET', returnPath(ipnQuery(ipnParams(intent, { vnp_ResponseCode: '07' }))))).text();
    expect(fraud).toContain('nghi ngờ gian lận');
    expect(await snapshot(intent)).toEqual(before);
  });

  it('refuses a tampered return with 400 and no redirect; never marks anything paid', async () => {
    const intent = await vnpayIntent();
    const before = await snapshot(intent);
    const query = tamper(ipnQuery(ipnParams(intent, { vnp_ResponseCode: '24' }, 'ipn-cancelled')), 'vnp_ResponseCode', '00');
    const response = await h.request('GET', returnPath(query));
    expect(response.status).toBe(400);
    const page = await response.text();
    expect(page).toContain('Liên kết không hợp lệ');
    expect(page).not.toContain('http-equiv="refresh"');
    expect(page).not.toContain('dichvucong.dongnai.gov.vn');
    expect(await snapshot(intent)).toEqual(before);
  });

  it('answers a validly signed return for an unknown reference with a 404 page', async () => {
    const response = await h.request('GET', returnPath(ipnQuery(ipnParams({ reference: 'HPZZZZZZZZZZ', amount: 135_000 }))));
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await response.text()).toContain('Không tìm thấy giao dịch');
  });

  it('is documented, needs no token, and is a 404 problem where VNPay is not configured', async () => {
    const doc = await expectJson(await h.request('GET', '/openapi.json'), 200);
    expect(doc.paths['/v1/returns/vnpay'].get.operationId).toBe('vnpayBrowserReturn');
    const bare = await createHarness();
    try {
      await expectProblem(
        await bare.request('GET', returnPath(ipnQuery(ipnParams({ reference: 'HPZZZZZZZZZZ', amount: 1 })))),
        404,
        'not-found',
      );
    } finally {
      await bare.close();
    }
  });
});
