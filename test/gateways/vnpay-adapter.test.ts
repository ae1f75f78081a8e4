import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { gmt7 } from '../../src/emulators/protocol/time.ts';
import {
  pipeHash,
  QUERYDR_ANSWER_FIELDS,
  QUERYDR_REQUEST_FIELDS,
  REFUND_ANSWER_FIELDS,
  REFUND_REQUEST_FIELDS,
  signedAnswer,
  vnpSignedQuery,
  vnpUrlVerifies,
} from '../../src/emulators/protocol/vnpay.ts';
import type { CallbackResult, InboundMessage, IntentSnapshot, PaymentRequest, RefundRequest } from '../../src/gateways/types.ts';
import { createVnpayGateway, type VnpayOptions } from '../../src/gateways/vnpay/adapter.ts';
import { vnpayFixture } from '../helpers/vnpay-fixtures.ts';

/**
 * The VNPay adapter on its own. Everything VNPay would send is built and signed here by the
 * independent implementation (src/emulators/protocol/vnpay.ts, the VNPay emulator's own), from recorded message shapes
 * in test/fixtures/vnpay; the querydr/refund API is faked with nock.
 */

const SECRETS = ['VNPAYCURRENTSECRET0123456789ABCD', 'VNPAYPREVIOUSSECRET9876543210WXYZ'];
const TMN = 'DEMOV210';
const API = 'https://sandbox.vnpayment.vn';
const API_PATH = '/merchant_webapi/api/transaction';
const REFERENCE = 'HP0123456789';
const NOW = new Date('2026-11-22T02:40:00Z');

function gateway(overrides: Partial<VnpayOptions> = {}) {
  return createVnpayGateway({
    tmnCode: TMN,
    secrets: SECRETS,
    paymentUrl: `${API}/paymentv2/vpcpay.html`,
    apiUrl: `${API}${API_PATH}`,
    encoding: 'php',
    serverIp: '203.0.113.10',
    polling: { startDelaySeconds: 600, intervalSeconds: 900, maxAttempts: 8 },
    returnUrl: 'https://hub.example.gov.vn/v1/returns/vnpay',
    fetch: (input, init) => fetch(input, init),
    now: () => NOW,
    timeoutMs: 300,
    ...overrides,
  });
}

const intent: IntentSnapshot = {
  id: '00000000-0000-4000-8000-000000000001',
  reference: REFERENCE,
  amount: 135_000,
  // 23:55 in Hanoi on the 21st: VNPay's transaction date is that local day, not the UTC one.
  createdAt: new Date('2026-11-21T16:55:07Z'),
  gatewayReference: REFERENCE,
  gatewayTransactionId: '14226112',
  succeededAt: null,
};

function paymentRequest(overrides: Partial<PaymentRequest> = {}): PaymentRequest {
  return {
    intentId: intent.id,
    reference: REFERENCE,
    amount: 135_000,
    currency: 'VND',
    createdAt: new Date('2026-11-21T16:55:07Z'),
    expiresAt: new Date('2026-11-21T17:25:07Z'),
    returnUrl: 'https://dichvucong.dongnai.gov.vn/thanh-toan/ket-qua',
    dossierCode: '000.21.32.H19-261121-0001',
    procedureCode: '1.001234',
    procedureName: 'Cấp bản sao trích lục hộ tịch',
    agencyCode: '000.21.32.H19',
    agencyName: 'UBND phường Trấn Biên',
    description: 'Thanh toan phi le phi ho so 000.21.32.H19-261121-0001',
    lines: [{ kind: 'le_phi', feeCode: 'LP01', name: 'Lệ phí', amount: 135_000 }],
    payer: { ip: '198.51.100.23' },
    ...overrides,
  };
}

const ipn = (overrides: Record<string, string> = {}, secret = SECRETS[0]!, base = 'ipn-success'): InboundMessage => ({
  method: 'GET',
  url: `/v1/callbacks/vnpay?${vnpSignedQuery({ ...vnpayFixture(base), ...overrides }, secret)}`,
  headers: {},
  rawBody: '',
});

beforeAll(() => {
  nock.disableNetConnect();
});
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending, 'every faked VNPay answer was asked for').toEqual([]);
});

describe('createPayment', () => {
  it('hands over a VNPay 2.1.0 URL signed over the sorted, PHP-urlencoded parameters', async () => {
    const { nextAction, gatewayReference } = await gateway().createPayment(paymentRequest());
    expect(gatewayReference).toBe(REFERENCE);
    expect(nextAction.type).toBe('redirect');
    const url = (nextAction as { url: string }).url;
    expect(url.startsWith(`${API}/paymentv2/vpcpay.html?`)).toBe(true);
    expect(vnpUrlVerifies(url, SECRETS[0]!)).toBe(true);
    expect(vnpUrlVerifies(url, SECRETS[1]!)).toBe(false);
    const params = Object.fromEntries(new URL(url).searchParams);
    expect(params).toMatchObject({
      vnp_Version: '2.1.0',
      vnp_Command: 'pay',
      vnp_TmnCode: TMN,
      vnp_Amount: '13500000',
      vnp_CurrCode: 'VND',
      vnp_TxnRef: REFERENCE,
      vnp_OrderInfo: 'Thanh toan phi le phi ho so 000.21.32.H19-261121-0001',
      vnp_OrderType: 'other',
      vnp_Locale: 'vn',
      vnp_ReturnUrl: 'https://hub.example.gov.vn/v1/returns/vnpay',
      vnp_IpAddr: '198.51.100.23',
      vnp_CreateDate: '20261121235507',
      vnp_ExpireDate: '20261122002507',
    });
    expect(params.vnp_CreateDate).toBe(gmt7(paymentRequest().createdAt));
    // The hash is the last parameter, as VNPay's samples append it.
    expect(url).toMatch(/&vnp_SecureHash=[0-9a-f]{128}$/);
  });

  it('sends order text with diacritics as ASCII, still signed the way PHP encodes it', async () => {
    const { nextAction } = await gateway().createPayment(paymentRequest({ description: "Lệ phí hộ tịch (bản sao) * 2 ~ 'đủ'!" }));
    const url = (nextAction as { url: string }).url;
    expect(new URL(url).searchParams.get('vnp_OrderInfo')).toBe("Le phi ho tich (ban sao) * 2 ~ 'du'!");
    expect(vnpUrlVerifies(url, SECRETS[0]!)).toBe(true);
  });
});

describe('verifyCallback (IPN)', () => {
  it('verifies an IPN signed by the independent implementation: success with amount ÷ 100', async () => {
    expect(await gateway().verifyCallback(ipn(), NOW)).toEqual({
      ok: true,
      reference: REFERENCE,
      outcome: { kind: 'succeeded', amount: 135_000, transactionId: '14226112', paidAt: new Date('2026-11-22T02:35:12Z') },
    });
  });

  it('accepts the second (rotated) secret, refuses an unknown one', async () => {
    expect((await gateway().verifyCallback(ipn({}, SECRETS[1]), NOW)).ok).toBe(true);
    expect(await gateway().verifyCallback(ipn({}, 'SOMEONEELSESSECRET'), NOW)).toMatchObject({
      ok: false,
      reason: 'bad_signature',
      reference: REFERENCE,
    });
  });

  it.each([
    ['vnp_Amount', '1350000000'],
    ['vnp_ResponseCode', '24'],
    ['vnp_TxnRef', 'HP9999999999'],
    ['vnp_OrderInfo', 'something else'],
  ])('refuses an IPN whose %s was changed after signing', async (key, value) => {
    const message = ipn();
    const url = new URL(message.url, 'http://hub.test');
    url.searchParams.set(key, value);
    const result = await gateway().verifyCallback({ ...message, url: `${url.pathname}${url.search}` }, NOW);
    expect(result).toMatchObject({ ok: false, reason: 'bad_signature' });
  });

  it('refuses a parameter given twice, even when one copy is the signed value', async () => {
    const message = ipn();
    const result = await gateway().verifyCallback({ ...message, url: `${message.url}&vnp_Amount=1` }, NOW);
    expect(result).toMatchObject({ ok: false, reason: 'bad_signature' });
  });

  it('a signed message that is not an IPN of ours is malformed', async () => {
    const { vnp_ResponseCode: _c, ...noCode } = vnpayFixture('ipn-success');
    const cases: InboundMessage[] = [
      { method: 'GET', url: `/v1/callbacks/vnpay?${vnpSignedQuery(noCode, SECRETS[0]!)}`, headers: {}, rawBody: '' },
      ipn({ vnp_TmnCode: 'OTHERTMN' }),
      ipn({ vnp_CurrCode: 'USD' }),
    ];
    for (const message of cases) {
      expect(await gateway().verifyCallback(message, NOW)).toMatchObject({ ok: false, reason: 'malformed', reference: REFERENCE });
    }
    expect((await gateway().verifyCallback(ipn({ vnp_CurrCode: 'VND' }), NOW)).ok).toBe(true);
  });

  it('07 is held for review; 24 (cancelled) is a decline carrying the amount', async () => {
    expect(await gateway().verifyCallback(ipn({ vnp_ResponseCode: '07' }), NOW)).toMatchObject({
      ok: true,
      outcome: { kind: 'needs_review', amount: 135_000, transactionId: '14226112' },
    });
    expect(await gateway().verifyCallback(ipn({}, SECRETS[0], 'ipn-cancelled'), NOW)).toEqual({
      ok: true,
      reference: REFERENCE,
      outcome: { kind: 'failed', reason: expect.stringContaining('Customer cancelled'), amount: 135_000 },
    });
  });

  it('success needs both codes 00: response 00 with status 02 is a decline', async () => {
    expect(await gateway().verifyCallback(ipn({ vnp_TransactionStatus: '02' }), NOW)).toMatchObject({
      ok: true,
      outcome: { kind: 'failed' },
    });
  });

  it('an amount that is not VND × 100 becomes a decline no intent can match (answered 04, nothing changes)', async () => {
    const result = await gateway().verifyCallback(ipn({ vnp_Amount: '13500050' }), NOW);
    expect(result).toMatchObject({ ok: true, reference: REFERENCE, outcome: { kind: 'failed', amount: 135_000.5 } });
    const garbled = await gateway().verifyCallback(ipn({ vnp_Amount: '1.35e7' }), NOW);
    expect(garbled.ok && garbled.outcome.kind === 'failed' && Number.isNaN(garbled.outcome.amount)).toBe(true);
  });
});

describe('respond', () => {
  it.each([
    ['applied', '00', 'Confirm Success'],
    ['needs_review', '00', 'Confirm Success'],
    ['duplicate', '02', 'Order already confirmed'],
    ['already_final', '02', 'Order already confirmed'],
    ['unknown_reference', '01', 'Order not found'],
    ['amount_mismatch', '04', 'Invalid amount'],
    ['bad_signature', '97', 'Invalid signature'],
    ['malformed', '99', 'Unknown error'],
    ['error', '99', 'Unknown error'],
  ] as const)('%s → HTTP 200 {"RspCode":"%s"}', async (result: CallbackResult, code, message) => {
    const response = await gateway().respond(result);
    expect(response.status).toBe(200);
    expect(response.contentType).toBe('application/json');
    expect(JSON.parse(response.body)).toEqual({ RspCode: code, Message: message });
  });
});

/** Fakes one querydr/refund exchange; the request body is kept for the test to check. */
function fakeApi(answer: (request: Record<string, string>) => unknown, status = 200) {
  const seen: Array<Record<string, string>> = [];
  // nock 15 hands a one-argument reply function the fetch Request itself.
  nock(API)
    .post(API_PATH)
    .reply(status, (async (intercepted: Request) => {
      const request = (await intercepted.json()) as Record<string, string>;
      seen.push(request);
      return answer(request);
    }) as never);
  return seen;
}

const querydrAnswer = (overrides: Record<string, unknown> = {}, secret = SECRETS[0]!, base = 'querydr-success') =>
  signedAnswer({ ...vnpayFixture<Record<string, unknown>>(base), ...overrides }, QUERYDR_ANSWER_FIELDS, secret);

describe('queryStatus (querydr)', () => {
  it('sends a querydr signed over the documented fields, dated in GMT+7, with a fresh request id', async () => {
    const [first, second] = [fakeApi(() => querydrAnswer()), fakeApi(() => querydrAnswer())];
    await gateway().queryStatus!(intent);
    await gateway().queryStatus!(intent);
    expect(first[0]).toMatchObject({
      vnp_Version: '2.1.0',
      vnp_Command: 'querydr',
      vnp_TmnCode: TMN,
      vnp_TxnRef: REFERENCE,
      vnp_TransactionNo: '14226112',
      vnp_TransactionDate: '20261121235507',
      vnp_CreateDate: gmt7(NOW),
      vnp_IpAddr: '203.0.113.10',
    });
    const [a, b] = [first[0]!, second[0]!];
    expect(a.vnp_RequestId).toMatch(/^[A-Za-z0-9]{1,32}$/);
    expect(b.vnp_RequestId).not.toBe(a.vnp_RequestId);
    expect(a.vnp_SecureHash).toBe(pipeHash(a, QUERYDR_REQUEST_FIELDS, SECRETS[0]!));
  });

  it('00 / status 00: the payment succeeded, amount ÷ 100, with VNPay transaction and pay date', async () => {
    fakeApi(() => querydrAnswer());
    expect(await gateway().queryStatus!(intent)).toEqual({
      kind: 'outcome',
      outcome: { kind: 'succeeded', amount: 135_000, transactionId: '14226112', paidAt: new Date('2026-11-22T02:35:12Z') },
    });
  });

  it('accepts an answer signed with the second secret', async () => {
    fakeApi(() => querydrAnswer({}, SECRETS[1]));
    expect(await gateway().queryStatus!(intent)).toMatchObject({ kind: 'outcome', outcome: { kind: 'succeeded' } });
  });

  it.each([
    ['01', { kind: 'pending' }],
    ['02', { kind: 'outcome', outcome: { kind: 'failed', amount: 135_000 } }],
    ['07', { kind: 'outcome', outcome: { kind: 'needs_review', reason: expect.stringMatching(/fraud/) } }],
    ['04', { kind: 'outcome', outcome: { kind: 'needs_review', reason: expect.stringMatching(/Reversed/) } }],
    ['05', { kind: 'outcome', outcome: { kind: 'needs_review', reason: expect.stringMatching(/refund/) } }],
    ['06', { kind: 'outcome', outcome: { kind: 'needs_review' } }],
    ['09', { kind: 'outcome', outcome: { kind: 'needs_review' } }],
    ['42', { kind: 'unknown' }],
  ])('transaction status %s → %j', async (status, expected) => {
    fakeApi(() => querydrAnswer({ vnp_TransactionStatus: status }));
    expect(await gateway().queryStatus!(intent)).toMatchObject(expected);
  });

  it('91 is not found', async () => {
    fakeApi(() => querydrAnswer({}, SECRETS[0], 'querydr-not-found'));
    expect(await gateway().queryStatus!(intent)).toEqual({ kind: 'not_found' });
  });

  it.each(['94', '97', '99'])('%s is unknown, never a decline', async (code) => {
    fakeApi(() => querydrAnswer({ vnp_ResponseCode: code, vnp_TransactionStatus: '' }));
    expect(await gateway().queryStatus!(intent)).toMatchObject({ kind: 'unknown' });
  });

  it('a success whose signature does not verify is unknown', async () => {
    fakeApi(() => ({ ...querydrAnswer(), vnp_Amount: '1350000000' }));
    expect(await gateway().queryStatus!(intent)).toMatchObject({ kind: 'unknown', reason: expect.stringContaining('vnp_SecureHash') });
    fakeApi(() => querydrAnswer({}, 'NOTOURSECRET'));
    expect(await gateway().queryStatus!(intent)).toMatchObject({ kind: 'unknown' });
    const { vnp_SecureHash: _h, ...unsigned } = querydrAnswer();
    fakeApi(() => unsigned);
    expect(await gateway().queryStatus!(intent)).toMatchObject({ kind: 'unknown' });
  });

  it('a signed not-found or success about another transaction or terminal is unknown', async () => {
    fakeApi(() => querydrAnswer({ vnp_TxnRef: 'HP9999999999' }));
    expect(await gateway().queryStatus!(intent)).toMatchObject({ kind: 'unknown' });
    fakeApi(() => querydrAnswer({ vnp_TmnCode: 'OTHERTMN' }, SECRETS[0], 'querydr-not-found'));
    expect(await gateway().queryStatus!(intent)).toMatchObject({ kind: 'unknown' });
  });

  it('5xx, a body that is not JSON, and a timeout are unknown', async () => {
    fakeApi(() => ({ error: 'down' }), 503);
    expect(await gateway().queryStatus!(intent)).toMatchObject({ kind: 'unknown', reason: expect.stringContaining('503') });
    fakeApi(() => '<html>maintenance</html>');
    expect(await gateway().queryStatus!(intent)).toMatchObject({ kind: 'unknown' });
    nock(API).post(API_PATH).delay(2_000).reply(200, querydrAnswer());
    const started = Date.now();
    expect(await gateway({ timeoutMs: 200 }).queryStatus!(intent)).toMatchObject({ kind: 'unknown' });
    expect(Date.now() - started).toBeLessThan(1_500);
  });
});

const refundRequest = (overrides: Partial<RefundRequest> = {}): RefundRequest => ({
  refundId: '3f2b9c1e-7d4a-4e8b-9a6c-5b1d2e3f4a5b',
  intent: { ...intent, succeededAt: new Date('2026-11-22T02:35:12Z') },
  amount: 135_000,
  full: true,
  requestedBy: 'treasury:ke.toan.01',
  reason: 'Nộp trùng | hoàn lại',
  now: NOW,
  ...overrides,
});

const refundAnswer = (overrides: Record<string, unknown> = {}, secret = SECRETS[0]!, base = 'refund-success') =>
  signedAnswer({ ...vnpayFixture<Record<string, unknown>>(base), ...overrides }, REFUND_ANSWER_FIELDS, secret);

describe('refund', () => {
  it('sends a full refund (02) signed over the documented fields: amount × 100, the hub refund id, who asked', async () => {
    const seen = fakeApi(() => refundAnswer());
    expect(await gateway().refund!(refundRequest())).toMatchObject({ kind: 'succeeded', gatewayRefundId: '14231876' });
    const [body] = seen;
    expect(body).toMatchObject({
      vnp_RequestId: '3f2b9c1e7d4a4e8b9a6c5b1d2e3f4a5b',
      vnp_Version: '2.1.0',
      vnp_Command: 'refund',
      vnp_TmnCode: TMN,
      vnp_TransactionType: '02',
      vnp_TxnRef: REFERENCE,
      vnp_Amount: '13500000',
      vnp_TransactionNo: '14226112',
      vnp_TransactionDate: '20261121235507',
      vnp_CreateBy: 'treasury:ke.toan.01',
      vnp_CreateDate: gmt7(NOW),
      vnp_IpAddr: '203.0.113.10',
    });
    // ASCII, and no '|' (the hash separator) from the reason.
    expect(body!.vnp_OrderInfo).toBe('Hoan tien HP0123456789: Nop trung / hoan lai');
    expect(body!.vnp_SecureHash).toBe(pipeHash(body!, REFUND_REQUEST_FIELDS, SECRETS[0]!));
  });

  it('sends a partial refund as 03', async () => {
    const seen = fakeApi((request) => refundAnswer({ vnp_TransactionType: '03', vnp_Amount: request.vnp_Amount }));
    expect(await gateway().refund!(refundRequest({ amount: 35_000, full: false }))).toMatchObject({ kind: 'succeeded' });
    expect(seen[0]).toMatchObject({ vnp_TransactionType: '03', vnp_Amount: '3500000' });
  });

  it.each([
    ['91', 'failed'],
    ['95', 'failed'],
    ['94', 'unknown'],
    ['97', 'unknown'],
    ['99', 'unknown'],
  ])('answer %s → %s', async (code, kind) => {
    fakeApi(() => refundAnswer({ vnp_ResponseCode: code }, SECRETS[0], 'refund-in-progress'));
    expect(await gateway().refund!(refundRequest())).toMatchObject({ kind });
  });

  it('a 00 for another amount is unknown, not a refund of what was asked', async () => {
    fakeApi(() => refundAnswer({ vnp_Amount: '100000' }));
    expect(await gateway().refund!(refundRequest())).toMatchObject({ kind: 'unknown' });
  });

  it('an unverifiable answer, a 5xx and a timeout are unknown, never failed', async () => {
    fakeApi(() => ({ ...refundAnswer(), vnp_ResponseCode: '95' }));
    expect(await gateway().refund!(refundRequest())).toMatchObject({ kind: 'unknown' });
    fakeApi(() => 'Bad Gateway', 502);
    expect(await gateway().refund!(refundRequest())).toMatchObject({ kind: 'unknown' });
    nock(API).post(API_PATH).delay(2_000).reply(200, refundAnswer());
    expect(await gateway({ timeoutMs: 200 }).refund!(refundRequest())).toMatchObject({ kind: 'unknown' });
  });
});

describe('declared', () => {
  it('is a redirect gateway that can be queried and refunded, flag 2, polled on its schedule', () => {
    const g = gateway();
    expect(g).toMatchObject({
      id: 'vnpay',
      onlinePaymentFlag: 2,
      capabilities: { redirect: true, qr: false, queryStatus: true, refund: true, statement: true },
      polling: { startDelaySeconds: 600, intervalSeconds: 900, maxAttempts: 8 },
    });
  });
});
