import { readFileSync } from 'node:fs';
import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ANSWER_FIELDS,
  CONFIRM_FIELDS,
  INIT_FIELDS,
  type PlatformAlgorithm,
  platformMac,
  QUERY_FIELDS,
  UNSIGNED_OUTCOME_CONFIRM_FIELDS,
} from '../../src/emulators/protocol/dvcqg.ts';
import type { DvcqgOptions } from '../../src/gateways/dvcqg/adapter.ts';
import {
  ANSWERS,
  authenticationCode,
  buildAnswer,
  buildInitMessage,
  buildQueryMessage,
  confirmSchema,
  DVCQG_DEFAULTS,
  DVCQG_RECEIPT_DEFAULTS,
  portalPaymentInfo,
  queryResult,
  readInitAnswer,
  receiptBlock,
  signString,
  verifyAuthenticationCode,
} from '../../src/gateways/dvcqg/protocol.ts';
import type { IntentSnapshot, PaymentRequest } from '../../src/gateways/types.ts';
import { PLATFORM, testDvcqgGateway } from '../helpers/dvcqg-gateway.ts';

// ---------------------------------------------------------------------------------------------
// An independent MaXacThuc: node:crypto over the values joined by '|', as the production
// integrations build their string by interpolation: SHA-256 with the key appended by default,
// the HMACs as options.
// ---------------------------------------------------------------------------------------------

const KEY = 'dvcqg-test-key-2026';
const NEXT_KEY = 'dvcqg-next-key-2027';
const independentMac = (message: Record<string, any>, fields: string[], key = KEY, algorithm: PlatformAlgorithm = 'SHA256-KEY') =>
  platformMac(message, fields, key, algorithm);

const fixture = (name: string): Record<string, any> =>
  JSON.parse(readFileSync(new URL(`../fixtures/dvcqg/${name}.json`, import.meta.url), 'utf8'));

/** The request behind test/fixtures/dvcqg/init-request.json. */
const request: PaymentRequest = {
  intentId: '6f1c9a52-6c43-4c36-9d51-2f7b1d0c9e11',
  reference: 'HP0A1B2C3D4E',
  amount: 185_000,
  currency: 'VND',
  createdAt: new Date('2026-11-20T02:30:00Z'),
  expiresAt: new Date('2026-11-20T03:00:00Z'),
  returnUrl: 'https://dichvucong.dongnai.gov.vn/thanh-toan/ket-qua',
  dossierCode: '000.21.32.H19-261120-0032',
  procedureCode: '1.001612',
  procedureName: 'Cấp phiếu lý lịch tư pháp',
  agencyCode: '000.21.32.H19',
  agencyName: 'UBND phường Trấn Biên',
  description: 'Thanh toan phi le phi ho so 000.21.32.H19-261120-0032',
  lines: [
    // The phí is partly kept by the agency (no single budget account), the lệ phí goes to the budget.
    { kind: 'phi', feeCode: 'P01', name: 'Phí thẩm định', amount: 50_000, budgetAccount: null },
    { kind: 'le_phi', feeCode: 'LP01', name: 'Lệ phí cấp phiếu', amount: 135_000, budgetAccount: '7111' },
  ],
  payer: { ip: '203.113.10.5', name: 'Nguyễn Văn An', idNumber: '075201001234', address: '12 Võ Thị Sáu, Trấn Biên, Đồng Nai' },
  collectionAccount: { bankBin: '970415', accountNumber: '113000123456', accountName: 'UBND PHUONG TRAN BIEN' },
};

const initSettings = {
  partnerCode: 'HCC_DONGNAI',
  version: '1.0.6',
  algorithm: 'SHA256-KEY' as const,
  secret: KEY,
  fields: INIT_FIELDS,
  constants: DVCQG_DEFAULTS,
  receipt: DVCQG_RECEIPT_DEFAULTS,
};

describe('protocol: MaXacThuc', () => {
  it('joins the configured fields with |, absent ones empty, and refuses nested values', () => {
    expect(signString({ A: 'x', B: 185000, D: null }, ['A', 'B', 'C', 'D'])).toBe('x|185000||');
    expect(() => signString({ A: { nested: true } }, ['A'])).toThrow(TypeError);
  });

  it('is, by default, hex(SHA-256(fields joined by | then | and the key)): fixed test vectors', async () => {
    // Vectors checked with coreutils: printf '%s' 'một|2|3|dvcqg-test-key-2026' | sha256sum
    expect(await authenticationCode('SHA256-KEY', KEY, { A: 'một', B: '2', C: '3' }, ['A', 'B', 'C'])).toBe(
      '4031b43175b780489ca74b4c5f913f1ae09b46876e27159c7b2092042cbfd215',
    );
    // The recorded confirm (test/fixtures/dvcqg/confirm-success.json) over the documented layout:
    // 'CONFIRM|00|HCC_DONGNAI|HP0A1B2C3D4E|185000|VND|PP2611200000123|VCB|20261120093512|Thanh toan phi le phi ho so 000.21.32.H19-261120-0032|dvcqg-test-key-2026'
    const confirm = fixture('confirm-success');
    expect(await authenticationCode('SHA256-KEY', KEY, confirm, CONFIRM_FIELDS)).toBe(
      '0b0503c293daa5b57fa1668ff9ce9a2324056942bb7ccab7abe7e0d4c4d85a50',
    );
    expect(confirm.MaXacThuc).toBe('0b0503c293daa5b57fa1668ff9ce9a2324056942bb7ccab7abe7e0d4c4d85a50');
  });

  it('is, in every mode, what an independent implementation computes over the configured order', async () => {
    const message = { A: 'một', B: '2', C: '3' };
    for (const algorithm of ['SHA256-KEY', 'HMAC-SHA256', 'HMAC-SHA512'] as const) {
      expect(await authenticationCode(algorithm, KEY, message, ['A', 'B', 'C']), algorithm).toBe(
        independentMac(message, ['A', 'B', 'C'], KEY, algorithm),
      );
      expect(await authenticationCode(algorithm, KEY, message, ['C', 'B', 'A']), algorithm).toBe(
        independentMac(message, ['C', 'B', 'A'], KEY, algorithm),
      );
    }
    // The modes differ: the key is hashed with the text, not used as an HMAC key.
    expect(await authenticationCode('SHA256-KEY', KEY, message, ['A'])).not.toBe(
      await authenticationCode('HMAC-SHA256', KEY, message, ['A']),
    );
  });

  it('verifies with any key (rotation), in constant form, and refuses a tampered or malformed code', async () => {
    const confirm = fixture('confirm-success');
    expect(confirm.MaXacThuc).toBe(independentMac(confirm, CONFIRM_FIELDS));
    expect(await verifyAuthenticationCode('SHA256-KEY', [NEXT_KEY, KEY], confirm, CONFIRM_FIELDS)).toBe(true);
    expect(await verifyAuthenticationCode('SHA256-KEY', [NEXT_KEY], confirm, CONFIRM_FIELDS)).toBe(false);
    expect(
      await verifyAuthenticationCode('SHA256-KEY', [KEY], { ...confirm, MaXacThuc: confirm.MaXacThuc.toUpperCase() }, CONFIRM_FIELDS),
    ).toBe(true);
    expect(await verifyAuthenticationCode('SHA256-KEY', [KEY], { ...confirm, SoTien: 1_850_000 }, CONFIRM_FIELDS)).toBe(false);
    expect(await verifyAuthenticationCode('SHA256-KEY', [KEY], { ...confirm, MaLoi: '11' }, CONFIRM_FIELDS)).toBe(false);
    expect(await verifyAuthenticationCode('SHA256-KEY', [KEY], { ...confirm, MaGiaoDich: 'PP2611200000999' }, CONFIRM_FIELDS)).toBe(false);
    expect(await verifyAuthenticationCode('SHA256-KEY', [KEY], { ...confirm, MaXacThuc: confirm.MaXacThuc.slice(1) }, CONFIRM_FIELDS)).toBe(
      false,
    );
    // The other modes do not take it, nor does this one take theirs.
    expect(await verifyAuthenticationCode('HMAC-SHA256', [KEY], confirm, CONFIRM_FIELDS)).toBe(false);
    expect(await verifyAuthenticationCode('HMAC-SHA512', [KEY], confirm, CONFIRM_FIELDS)).toBe(false);
    const hmac = fixture('confirm-success-hmac');
    expect(await verifyAuthenticationCode('HMAC-SHA256', [NEXT_KEY, KEY], hmac, UNSIGNED_OUTCOME_CONFIRM_FIELDS)).toBe(true);
    expect(await verifyAuthenticationCode('SHA256-KEY', [KEY], hmac, UNSIGNED_OUTCOME_CONFIRM_FIELDS)).toBe(false);
    expect(await verifyAuthenticationCode('SHA256-KEY', [KEY], [confirm], CONFIRM_FIELDS)).toBe(false);
  });
});

describe('protocol: init', () => {
  it('builds the recorded init message exactly, receipt block and PhiLePhi lines included', async () => {
    const expected = fixture('init-request');
    expect(expected.MaXacThuc).toBe(independentMac(expected, INIT_FIELDS));
    expect(await buildInitMessage(request, initSettings)).toEqual(expected);
  });

  it('signs in the configured order and algorithm', async () => {
    const reordered = [...INIT_FIELDS].reverse();
    const sha512 = await buildInitMessage(request, { ...initSettings, algorithm: 'HMAC-SHA512', fields: reordered });
    expect(sha512.MaXacThuc).toBe(independentMac(sha512, reordered, KEY, 'HMAC-SHA512'));
    const hmac = await buildInitMessage(request, { ...initSettings, algorithm: 'HMAC-SHA256' });
    expect(hmac.MaXacThuc).toBe(independentMac(hmac, INIT_FIELDS, KEY, 'HMAC-SHA256'));
  });

  it('fills the receipt block from the bill, and its enrolment values from configuration', () => {
    const bill = { ...request, collectionAccount: request.collectionAccount!, at: new Date('2026-12-03T17:30:00Z') };
    const block = receiptBlock(bill, { serviceCodeSuffix: '.01', treasury: 'KBNN Dong Nai' });
    expect(block).toMatchObject({
      MaDVC: '1.001612.01',
      KhoBac: 'KBNN Dong Nai',
      // 00:30 on 4 December in Vietnam.
      NgayQD: '20261204',
      MaCoQuanQD: '000.21.32.H19',
      TenCoQuanQD: 'UBND phường Trấn Biên',
      DSKhoanNop: [
        { NoiDung: 'Phí thẩm định', SoTien: '50000' },
        { NoiDung: 'Lệ phí cấp phiếu', SoTien: '135000' },
      ],
    });
    // The lines name two destinations: no single state-budget account to state.
    expect(block).not.toHaveProperty('TaiKhoanThuNSNN');
    const toBudget = receiptBlock({ ...bill, lines: bill.lines.map((l) => ({ ...l, budgetAccount: '7111' })) }, DVCQG_RECEIPT_DEFAULTS);
    expect(toBudget.TaiKhoanThuNSNN).toBe('7111');
    expect(toBudget.MaDVC).toBe('1.001612');
  });

  it("answers the portal's look-up with the receipt block, its total, MaTraCuuTT and the partner code", () => {
    const bill = { ...request, collectionAccount: request.collectionAccount!, at: new Date('2026-12-04T03:15:00Z') };
    expect(portalPaymentInfo(bill, { ...DVCQG_RECEIPT_DEFAULTS, partnerCode: 'HCC_DONGNAI' })).toEqual({
      transaction_id: '000.21.32.H19-261120-003220261204101500',
      client_id: 'HCC_DONGNAI',
      MaTraCuuTT: '000.21.32.H19-261120-003220261204101500',
      SoTien: '185000',
      ...receiptBlock(bill, DVCQG_RECEIPT_DEFAULTS),
    });
  });

  it('keeps the signed transaction text ASCII and free of the field separator', async () => {
    const message = await buildInitMessage({ ...request, description: 'Thanh toán | hồ sơ Đ01' }, initSettings);
    expect(message.ThongTinGiaoDich).toBe('Thanh toan ho so D01');
  });

  it('refuses a MaThamChieu over 20 characters, a zero amount and a missing beneficiary account', async () => {
    await expect(buildInitMessage({ ...request, reference: 'HP0123456789ABCDEFGHJ' }, initSettings)).rejects.toThrow(/20/);
    await expect(buildInitMessage({ ...request, reference: 'HP0123456789ABCDEFGH' }, initSettings)).resolves.toBeDefined();
    await expect(buildInitMessage({ ...request, amount: 0 }, initSettings)).rejects.toThrow(/SoTien/);
    await expect(buildInitMessage({ ...request, collectionAccount: undefined }, initSettings)).rejects.toThrow(/account/);
  });

  it("reads the platform's answers: MaLoi 00 with the URL, the error_code envelope, and refusals", () => {
    expect(readInitAnswer(fixture('init-answer'), 'UrlThanhToan')).toEqual({
      ok: true,
      url: 'https://thanhtoan.dichvucong.gov.vn/payment?token=7f3c2a9e1b',
      transactionId: 'PP2611200000123',
    });
    expect(readInitAnswer(fixture('init-answer-envelope'), 'UrlThanhToan')).toEqual({
      ok: true,
      url: 'https://thanhtoan.dichvucong.gov.vn/payment?token=9a8b7c6d5e',
      transactionId: undefined,
    });
    expect(readInitAnswer(fixture('init-answer-refused'), 'UrlThanhToan')).toMatchObject({
      ok: false,
      reason: expect.stringContaining('MaLoi 01'),
    });
    expect(readInitAnswer({ error_code: '-1', message: 'loi' }, 'UrlThanhToan').ok).toBe(false);
    expect(readInitAnswer(fixture('init-answer'), 'PaymentUrl').ok).toBe(false);
    expect(readInitAnswer({ MaLoi: '00', UrlThanhToan: 'javascript:alert(1)' }, 'UrlThanhToan').ok).toBe(false);
    expect(readInitAnswer(undefined, 'UrlThanhToan').ok).toBe(false);
  });
});

describe("protocol: the province's answer and the status query", () => {
  it("answers in the platform's shape, signed over the answer fields", async () => {
    const expected = fixture('province-answer');
    const answer = await buildAnswer({
      result: 'applied',
      partnerCode: 'HCC_DONGNAI',
      reference: 'HP0A1B2C3D4E',
      now: new Date('2026-11-20T02:35:13Z'),
      algorithm: 'SHA256-KEY',
      secret: KEY,
      fields: ANSWER_FIELDS,
    });
    expect(answer).toEqual({ status: 200, body: expected });
    expect(expected.MaXacThuc).toBe(independentMac(expected, ANSWER_FIELDS));
  });

  it('tells the platform 00 only when the hub recorded the payment, and asks again only on an error', () => {
    for (const result of ['applied', 'duplicate', 'already_final', 'needs_review'] as const)
      expect(ANSWERS[result].code, result).toBe('00');
    for (const result of ['amount_mismatch', 'unknown_reference', 'bad_signature', 'malformed', 'stale', 'error'] as const) {
      expect(ANSWERS[result].code, result).toBe('99');
    }
    expect(
      Object.entries(ANSWERS)
        .filter(([, a]) => a.status !== 200)
        .map(([r]) => r),
    ).toEqual(['error']);
  });

  it('builds the recorded query message', async () => {
    const expected = fixture('query-request');
    expect(expected.MaXacThuc).toBe(independentMac(expected, QUERY_FIELDS));
    const message = await buildQueryMessage({
      reference: 'HP0A1B2C3D4E',
      initiatedAt: request.createdAt,
      partnerCode: 'HCC_DONGNAI',
      version: '1.0.6',
      algorithm: 'SHA256-KEY',
      secret: KEY,
      constants: DVCQG_DEFAULTS,
    });
    expect(message).toEqual(expected);
  });

  it('reads TrangThaiGD 1 paid, 3 pending, 4 failed; another MaLoi is unknown unless configured as not found', () => {
    const paid = confirmSchema.parse(fixture('query-answer-paid'));
    expect(queryResult(paid, DVCQG_DEFAULTS)).toEqual({
      kind: 'outcome',
      outcome: { kind: 'succeeded', amount: 185_000, transactionId: 'PP2611200000123', paidAt: new Date('2026-11-20T02:35:12Z') },
    });
    expect(queryResult(confirmSchema.parse(fixture('query-answer-pending')), DVCQG_DEFAULTS)).toEqual({ kind: 'pending' });
    expect(queryResult({ ...paid, TrangThaiGD: '4' }, DVCQG_DEFAULTS)).toMatchObject({ kind: 'outcome', outcome: { kind: 'failed' } });
    expect(queryResult({ ...paid, TrangThaiGD: '7' }, DVCQG_DEFAULTS).kind).toBe('unknown');
    expect(queryResult({ ...paid, MaLoi: '05' }, DVCQG_DEFAULTS).kind).toBe('unknown');
    expect(queryResult({ ...paid, MaLoi: '05' }, { ...DVCQG_DEFAULTS, notFoundCodes: ['05'] })).toEqual({ kind: 'not_found' });
  });
});

// ---------------------------------------------------------------------------------------------
// The adapter, over faked HTTP
// ---------------------------------------------------------------------------------------------

function gateway(overrides: Partial<DvcqgOptions> = {}) {
  return testDvcqgGateway({
    secrets: [KEY],
    returnUrl: 'https://hub.test/v1/returns/dvcqg',
    callbackUrl: 'https://hub.test/v1/callbacks/dvcqg',
    fetch: (input, init) => fetch(input, init),
    now: () => new Date('2026-11-20T02:35:13Z'),
    timeoutMs: 300,
    ...overrides,
  });
}

const inbound = (body: unknown) => ({
  method: 'POST',
  url: '/v1/callbacks/dvcqg',
  headers: { 'content-type': 'application/json' },
  rawBody: typeof body === 'string' ? body : JSON.stringify(body),
});

const signedConfirm = (overrides: Record<string, unknown>, key = KEY) => {
  const message: Record<string, unknown> = { ...fixture('confirm-success'), ...overrides };
  delete message.MaXacThuc;
  return { ...message, MaXacThuc: independentMac(message, CONFIRM_FIELDS, key) };
};

const snapshot: IntentSnapshot = {
  id: request.intentId,
  reference: request.reference,
  amount: request.amount,
  createdAt: request.createdAt,
  gatewayReference: null,
  gatewayTransactionId: null,
  succeededAt: null,
};

beforeAll(() => {
  nock.disableNetConnect();
});
afterEach(() => {
  nock.cleanAll();
});

describe('adapter', () => {
  it('declares the national platform: flag 1, a collection account, a redirect, polling only with a query URL', () => {
    const withQuery = gateway();
    expect(withQuery).toMatchObject({ id: 'dvcqg', onlinePaymentFlag: 1, needsCollectionAccount: true });
    expect(withQuery.capabilities).toEqual({ redirect: true, qr: false, queryStatus: true, refund: false, statement: true });
    expect(withQuery.polling).toEqual({ startDelaySeconds: 600, intervalSeconds: 900, maxAttempts: 8 });
    // The documented layout signs the outcome: the platform need not be asked.
    const withoutQuery = gateway({ queryUrl: undefined });
    expect(withoutQuery.capabilities.queryStatus).toBe(false);
    expect(withoutQuery.queryStatus).toBeUndefined();
    expect(withoutQuery.polling).toBeUndefined();
  });

  it('refuses to be built without a query URL when the confirm layout leaves out MaLoi or MaGiaoDich', () => {
    const legacy = UNSIGNED_OUTCOME_CONFIRM_FIELDS;
    expect(() => gateway({ queryUrl: undefined, confirmFields: legacy })).toThrow(/DVCQG_QUERY_URL/);
    expect(() => gateway({ queryUrl: undefined, confirmFields: [...legacy, 'MaLoi'] })).toThrow(/DVCQG_QUERY_URL/);
    expect(() => gateway({ queryUrl: undefined, confirmFields: [...legacy, 'MaGiaoDich'] })).toThrow(/DVCQG_QUERY_URL/);
    expect(() => gateway({ queryUrl: undefined, confirmFields: [...legacy, 'MaGiaoDich', 'MaLoi'] })).not.toThrow();
    expect(() => gateway({ queryUrl: undefined, confirmFields: CONFIRM_FIELDS })).not.toThrow();
  });

  it("posts the signed init and hands over the platform's URL", async () => {
    let posted: any;
    const scope = nock(PLATFORM)
      .post('/api/v1/init', (body) => {
        posted = body;
        return true;
      })
      .reply(200, fixture('init-answer'));
    const handover = await gateway().createPayment(request);
    expect(scope.isDone()).toBe(true);
    expect(posted).toEqual(fixture('init-request'));
    expect(handover).toEqual({
      nextAction: { type: 'redirect', url: 'https://thanhtoan.dichvucong.gov.vn/payment?token=7f3c2a9e1b' },
      gatewayReference: 'PP2611200000123',
    });
  });

  it('reads the error_code envelope; the reference stands in for a missing platform id', async () => {
    nock(PLATFORM).post('/api/v1/init').reply(200, fixture('init-answer-envelope'));
    const handover = await gateway().createPayment(request);
    expect(handover.gatewayReference).toBe(request.reference);
  });

  it('throws on a refusal, a 5xx, a non-JSON answer and a timeout', async () => {
    nock(PLATFORM).post('/api/v1/init').reply(200, fixture('init-answer-refused'));
    await expect(gateway().createPayment(request)).rejects.toThrow(/MaLoi 01/);
    nock(PLATFORM).post('/api/v1/init').reply(503, 'Service Unavailable');
    await expect(gateway().createPayment(request)).rejects.toThrow(/503/);
    nock(PLATFORM).post('/api/v1/init').reply(200, '<html>maintenance</html>');
    await expect(gateway().createPayment(request)).rejects.toThrow();
    nock(PLATFORM).post('/api/v1/init').delay(2_000).reply(200, fixture('init-answer'));
    const started = Date.now();
    await expect(gateway({ timeoutMs: 150 }).createPayment(request)).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('verifies a confirm with any configured key and, under the documented layout, takes its word: no query', async () => {
    const rotated = gateway({ secrets: [NEXT_KEY, KEY] });
    expect(await rotated.verifyCallback(inbound(fixture('confirm-success')), new Date())).toEqual({
      ok: true,
      reference: 'HP0A1B2C3D4E',
      outcome: { kind: 'succeeded', amount: 185_000, transactionId: 'PP2611200000123', paidAt: new Date('2026-11-20T02:35:12Z') },
    });
    const failure = await rotated.verifyCallback(inbound(fixture('confirm-failure')), new Date());
    expect(failure).toEqual({
      ok: true,
      reference: 'HP0A1B2C3D4E',
      outcome: { kind: 'failed', reason: 'MaLoi 11: Khach hang huy giao dich', amount: 185_000, transactionId: 'PP2611200000124' },
    });
    // MaXacThuc covers the result and the transaction: a failure flipped to 00, or another
    // MaGiaoDich, no longer verifies.
    for (const forged of [{ MaLoi: '00' }, { MaGiaoDich: 'PP2611200000999' }]) {
      expect(await rotated.verifyCallback(inbound({ ...fixture('confirm-failure'), ...forged }), new Date())).toMatchObject({
        ok: false,
        reason: 'bad_signature',
      });
    }
  });

  it('keeps HMAC-SHA256 as an option: with a layout that leaves out MaLoi, a confirm is only a hint to confirm by a query', async () => {
    const hmac = gateway({ secrets: [NEXT_KEY, KEY], algorithm: 'HMAC-SHA256', confirmFields: UNSIGNED_OUTCOME_CONFIRM_FIELDS });
    expect(await hmac.verifyCallback(inbound(fixture('confirm-success-hmac')), new Date())).toEqual({
      ok: true,
      reference: 'HP0A1B2C3D4E',
      outcome: { kind: 'succeeded', amount: 185_000, transactionId: 'PP2611200000123', paidAt: new Date('2026-11-20T02:35:12Z') },
      confirmByQuery: true,
    });
    // Why: that MaXacThuc does not cover MaLoi, so a failure flipped to 00 still verifies; only
    // the query can tell it from a payment.
    const flipped = await hmac.verifyCallback(inbound({ ...fixture('confirm-failure-hmac'), MaLoi: '00' }), new Date());
    expect(flipped).toMatchObject({ ok: true, outcome: { kind: 'succeeded' }, confirmByQuery: true });
    // Neither mode takes the other's code.
    expect(await hmac.verifyCallback(inbound(fixture('confirm-success')), new Date())).toMatchObject({
      ok: false,
      reason: 'bad_signature',
    });
    expect(await gateway().verifyCallback(inbound(fixture('confirm-success-hmac')), new Date())).toMatchObject({
      ok: false,
      reason: 'bad_signature',
    });
    // An HMAC over the documented layout is an option too, and then signs the outcome.
    const signedHmac: Record<string, any> = { ...fixture('confirm-failure') };
    signedHmac.MaXacThuc = independentMac(signedHmac, CONFIRM_FIELDS, KEY, 'HMAC-SHA512');
    const sha512 = gateway({ algorithm: 'HMAC-SHA512' });
    expect(await sha512.verifyCallback(inbound(signedHmac), new Date())).toMatchObject({ ok: true, outcome: { kind: 'failed' } });
    expect(await sha512.verifyCallback(inbound({ ...signedHmac, MaLoi: '00' }), new Date())).toMatchObject({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it('signs a confirm without MaDoiTac with the configured partner code', async () => {
    const message: Record<string, unknown> = { ...fixture('confirm-success') };
    delete message.MaDoiTac;
    expect(await gateway().verifyCallback(inbound(message), new Date())).toMatchObject({ ok: true });
  });

  it('refuses a tampered, unsigned or unreadable confirm as a bad signature, before reading it', async () => {
    const tampered = { ...fixture('confirm-success'), SoTien: 1_850_000 };
    expect(await gateway().verifyCallback(inbound(tampered), new Date())).toMatchObject({
      ok: false,
      reason: 'bad_signature',
      reference: 'HP0A1B2C3D4E',
    });
    expect(await gateway({ secrets: [NEXT_KEY] }).verifyCallback(inbound(fixture('confirm-success')), new Date())).toMatchObject({
      ok: false,
      reason: 'bad_signature',
    });
    expect(await gateway().verifyCallback(inbound('{"MaLoi":"00"'), new Date())).toMatchObject({ ok: false, reason: 'bad_signature' });
  });

  it('calls a signed message the platform does not send malformed, and another currency a review', async () => {
    expect(await gateway().verifyCallback(inbound(signedConfirm({ MaThamChieu: undefined })), new Date())).toMatchObject({
      ok: false,
      reason: 'malformed',
    });
    expect(await gateway().verifyCallback(inbound(signedConfirm({ SoTien: 185_000.5 })), new Date())).toMatchObject({
      ok: false,
      reason: 'malformed',
    });
    // A signed success without its transaction id is not one the platform sends.
    expect(await gateway().verifyCallback(inbound(signedConfirm({ MaGiaoDich: '' })), new Date())).toMatchObject({
      ok: false,
      reason: 'malformed',
    });
    // Where MaGiaoDich is not signed (an older layout), such a confirm is only a hint, and the
    // platform is asked, rather than an unreadable message kept for a person.
    const legacy = { ...fixture('confirm-success-hmac'), MaGiaoDich: '' };
    expect(
      await gateway({ algorithm: 'HMAC-SHA256', confirmFields: UNSIGNED_OUTCOME_CONFIRM_FIELDS }).verifyCallback(
        inbound(legacy),
        new Date(),
      ),
    ).toMatchObject({ ok: true, confirmByQuery: true });
    expect(await gateway().verifyCallback(inbound(signedConfirm({ SoTien: '185000' })), new Date())).toMatchObject({
      ok: true,
      outcome: { kind: 'succeeded', amount: 185_000 },
    });
    expect(await gateway().verifyCallback(inbound(signedConfirm({ MaTienTe: 'USD' })), new Date())).toMatchObject({
      ok: true,
      outcome: { kind: 'needs_review', amount: 185_000 },
    });
  });

  it("answers in the platform's shape, echoing MaThamChieu, signed with the first key", async () => {
    const g = gateway({ secrets: [NEXT_KEY, KEY] });
    const applied = await g.respond('applied', inbound(fixture('confirm-success')));
    const body = JSON.parse(applied.body);
    expect(applied.status).toBe(200);
    expect(body).toMatchObject({ MaLoi: '00', MaDoiTac: 'HCC_DONGNAI', MaThamChieu: 'HP0A1B2C3D4E', ThoiGianGD: '20261120093513' });
    expect(body.MaXacThuc).toBe(independentMac(body, ANSWER_FIELDS, NEXT_KEY));
    const refused = JSON.parse((await g.respond('bad_signature', inbound('not json'))).body);
    expect(refused).toMatchObject({ MaLoi: '99', MaThamChieu: '', MoTaLoi: expect.stringMatching(/xac thuc/) });
    expect((await g.respond('error', inbound(fixture('confirm-success')))).status).toBe(503);
  });

  it('queries the status with the recorded message and reads the verified answer', async () => {
    let posted: any;
    nock(PLATFORM)
      .post('/api/v1/query', (body) => {
        posted = body;
        return true;
      })
      .reply(200, fixture('query-answer-paid'));
    expect(await gateway().queryStatus!(snapshot)).toMatchObject({ kind: 'outcome', outcome: { kind: 'succeeded', amount: 185_000 } });
    expect(posted).toEqual(fixture('query-request'));

    nock(PLATFORM).post('/api/v1/query').reply(200, fixture('query-answer-pending'));
    expect(await gateway().queryStatus!(snapshot)).toEqual({ kind: 'pending' });
  });

  it('reports unknown, never failed, on a 5xx, a timeout, a bad signature or another reference', async () => {
    nock(PLATFORM).post('/api/v1/query').reply(502, 'Bad Gateway');
    expect((await gateway().queryStatus!(snapshot)).kind).toBe('unknown');
    nock(PLATFORM).post('/api/v1/query').delay(2_000).reply(200, fixture('query-answer-paid'));
    expect((await gateway({ timeoutMs: 150 }).queryStatus!(snapshot)).kind).toBe('unknown');
    nock(PLATFORM)
      .post('/api/v1/query')
      .reply(200, { ...fixture('query-answer-paid'), SoTien: 18_500 });
    expect((await gateway().queryStatus!(snapshot)).kind).toBe('unknown');
    nock(PLATFORM).post('/api/v1/query').reply(200, fixture('query-answer-paid'));
    expect((await gateway().queryStatus!({ ...snapshot, reference: 'HP9Z9Z9Z9Z9Z' })).kind).toBe('unknown');
  });
});
