import { and, count, eq, isNull, sql } from 'drizzle-orm';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { callbackInbox, obligations, paymentIntents, paymentReviews, receipts } from '../../src/db/schema/index.ts';
import {
  ANSWER_FIELDS,
  CONFIRM_FIELDS,
  INIT_FIELDS,
  OUTCOME_SIGNED_FIELDS,
  platformMac,
  QUERY_FIELDS,
} from '../../src/emulators/protocol/dvcqg.ts';
import { upsertAgency } from '../../src/services/catalogue.ts';
import { answerAfter, fixture } from '../gateways/drivers/driver.ts';
import { PARTNER, PLATFORM, testDvcqgGateway } from '../helpers/dvcqg-gateway.ts';
import { AGENCIES, createIntent, createProcedure, registerDossier, rule, seedAgencyTree, uniqueDossierCode } from '../helpers/factories.ts';
import { createHarness, type Harness, mintToken } from '../helpers/harness.ts';
import { expectJson, expectProblem } from '../helpers/problems.ts';

/**
 * The national platform end to end: intent creation posts the signed init (faked with nock) and
 * hands over its URL; POST /v1/callbacks/dvcqg takes the platform's confirm, checked here with an
 * independent node:crypto MaXacThuc; the portal's look-up answers error_code 1 / 0 / -1.
 *
 * The documented confirm layout signs neither MaLoi nor MaGiaoDich, so its outcome is only a
 * hint: the hub asks the platform's status query (faked with nock) and applies that answer. A
 * layout that signs both (DVCQG_CONFIRM_FIELDS) is taken at its word.
 */
const KEY = 'dvcqg-api-test-key-2026';
const OLD_KEY = 'dvcqg-api-test-key-2025';
const TIMEOUT_MS = 300;
const ACCOUNT = { bankBin: '970415', accountNumber: '113000123456', accountName: 'UBND TINH DONG NAI' };

const mac = (message: Record<string, any>, fields: string[], key = KEY) => platformMac(message, fields, key);

/** One hub with the national platform configured (its status query URL included) and a two-line procedure. */
interface Hub {
  h: Harness;
  procedure: string;
}

async function startHub(confirmFields: string[]): Promise<Hub> {
  const h = await createHarness({
    gateways: (env) => ({
      dvcqg: testDvcqgGateway({
        secrets: [KEY, OLD_KEY],
        confirmFields,
        returnUrl: `${env.baseUrl}/v1/returns/dvcqg`,
        callbackUrl: `${env.baseUrl}/v1/callbacks/dvcqg`,
        fetch: env.fetch,
        now: env.now,
        timeoutMs: TIMEOUT_MS,
      }),
    }),
  });
  await seedAgencyTree(h.ctx);
  // The province's account collects for every agency under it that has none of its own.
  await upsertAgency(h.ctx, { code: AGENCIES.province, name: 'UBND tỉnh Đồng Nai', level: 'province', parentCode: null, ...ACCOUNT });
  const procedure = await createProcedure(h.ctx, [
    rule({ kind: 'phi', feeCode: 'P01', name: 'Phí thẩm định', lineNo: 1, formula: { type: 'fixed', amount: 50_000 } }),
    rule({ kind: 'le_phi', feeCode: 'LP01', name: 'Lệ phí cấp giấy', lineNo: 2, formula: { type: 'fixed', amount: 135_000 } }),
  ]);
  return { h, procedure };
}

/** The hub with the documented confirm layout, used unless a test says otherwise. */
let hub: Hub;
let h: Harness;
let portal: string;
let procedure: string;

beforeAll(async () => {
  hub = await startHub(CONFIRM_FIELDS);
  ({ h, procedure } = hub);
  portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province] });
  nock.disableNetConnect();
});
afterEach(() => {
  nock.cleanAll();
});
afterAll(async () => {
  nock.enableNetConnect();
  await h?.close();
});

interface Intent {
  id: string;
  reference: string;
  amount: number;
  dossierCode: string;
  obligationIds: string[];
  nextAction: { type: string; url: string };
}

/** Fakes the platform's init endpoint once; the posted messages are collected. */
function fakeInit(
  answer: (message: Record<string, any>) => unknown = (m) => ({
    MaLoi: '00',
    MoTaLoi: 'Thanh cong',
    MaThamChieu: m.MaThamChieu,
    MaGiaoDich: `PP${m.MaThamChieu}`,
    UrlThanhToan: `https://thanhtoan.dichvucong.test/pay?ref=${m.MaThamChieu}`,
  }),
  status = 200,
) {
  const posted: Array<Record<string, any>> = [];
  const scope = nock(PLATFORM)
    .post('/api/v1/init', (body) => {
      posted.push(body);
      return true;
    })
    .reply(status, () => answer(posted[posted.length - 1]!));
  return { posted, scope };
}

async function dvcqgIntent(on: Hub = hub): Promise<{ intent: Intent; posted: Record<string, any> }> {
  const dossier = await registerDossier(on.h, portal, on.procedure);
  const { posted } = fakeInit();
  const intent = await expectJson<Intent>(
    await createIntent(on.h, portal, dossier.code, { gateway: 'dvcqg', payer: { ip: '203.113.10.5' } }),
    201,
  );
  return { intent, posted: posted[0]! };
}

function confirm(
  intent: Pick<Intent, 'reference' | 'amount'>,
  overrides: Record<string, unknown> = {},
  key = KEY,
  fields = CONFIRM_FIELDS,
) {
  const message: Record<string, unknown> = {
    LoaiBanTin: 'CONFIRM',
    MaLoi: '00',
    MaDoiTac: PARTNER,
    MaThamChieu: intent.reference,
    SoTien: intent.amount,
    MaTienTe: 'VND',
    MaGiaoDich: `PP-${intent.reference}`,
    MaNganHang: 'VCB',
    ThoiGianGD: '20261120093512',
    ThongTinGiaoDich: 'Thanh toan phi le phi',
    ...overrides,
  };
  return { ...message, MaXacThuc: mac(message, fields, key) };
}

/** A declined payment's confirm, as the platform signs it, with its MaLoi then changed to 00. */
function forgedSuccess(intent: Pick<Intent, 'reference' | 'amount'>, fields = CONFIRM_FIELDS): Record<string, unknown> {
  const declined: Record<string, unknown> = confirm(intent, { MaLoi: '11', MoTaLoi: 'Khach hang huy giao dich' }, KEY, fields);
  const { MoTaLoi: _text, ...forged } = declined;
  return { ...forged, MaLoi: '00' };
}

/**
 * The platform's answer to a status query, in the recorded shape (test/fixtures/dvcqg):
 * TrangThaiGD 1 paid, 3 pending, 4 failed; signed over the confirm layout, as the adapter checks it.
 */
function queryAnswer(
  intent: Pick<Intent, 'reference' | 'amount'>,
  state: '1' | '3' | '4',
  overrides: Record<string, unknown> = {},
  fields = CONFIRM_FIELDS,
) {
  const answer: Record<string, unknown> = {
    ...fixture('dvcqg', 'query-answer-paid'),
    MaThamChieu: intent.reference,
    SoTien: intent.amount,
    MaGiaoDich: `PP-${intent.reference}`,
    TrangThaiGD: state,
    ...overrides,
  };
  const { MaXacThuc: _recorded, ...message } = answer;
  return { ...message, MaXacThuc: mac(message, fields) };
}

/** The platform's status query for one reference; only a query whose MaXacThuc verifies is matched. */
const statusQuery = (reference: string) =>
  nock(PLATFORM).post(
    '/api/v1/query',
    (body: Record<string, any>) => body.MaThamChieu === reference && body.MaXacThuc === mac(body, QUERY_FIELDS),
  );

async function deliver(body: unknown, { on = hub, status = 200 }: { on?: Hub; status?: number } = {}) {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const response = await on.h.request('POST', '/v1/callbacks/dvcqg', { rawBody: raw, headers: { 'content-type': 'application/json' } });
  const answer = await expectJson(response, status);
  // Every answer is the platform's shape, signed with the current key.
  expect(Object.keys(answer).sort()).toEqual(['MaDoiTac', 'MaLoi', 'MaThamChieu', 'MaXacThuc', 'MoTaLoi', 'ThoiGianGD']);
  expect(answer.MaXacThuc).toBe(mac(answer, ANSWER_FIELDS));
  return answer;
}

const intentRow = async (id: string, on: Hub = hub) =>
  (await on.h.db.db.select().from(paymentIntents).where(eq(paymentIntents.id, id)))[0]!;
const obligationRows = (dossierCode: string, on: Hub = hub) =>
  on.h.db.db.select().from(obligations).where(eq(obligations.dossierCode, dossierCode)).orderBy(obligations.lineNo);
const receiptCount = async (intentId: string, on: Hub = hub) =>
  (await on.h.db.db.select({ n: count() }).from(receipts).where(eq(receipts.intentId, intentId)))[0]!.n;
const inboxOf = (reference: string, on: Hub = hub) => on.h.db.db.select().from(callbackInbox).where(eq(callbackInbox.reference, reference));
const dossierFlag = async (code: string) => {
  const result = await h.db.db.execute(sql`SELECT online_payment_flag FROM dossiers WHERE code = ${code}`);
  const rows = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as Array<{ online_payment_flag: number }>;
  return Number(rows[0]!.online_payment_flag);
};
const returnPage = async (fields: Record<string, unknown>, on: Hub = hub) => {
  const query = new URLSearchParams(Object.entries(fields).map(([k, v]) => [k, String(v)]));
  const response = await on.h.request('GET', `/v1/returns/dvcqg?${query}`);
  return { status: response.status, text: await response.text() };
};

describe('intent creation', () => {
  it("posts the signed init with the receipt block from the obligations and hands over the platform's URL", async () => {
    const { intent, posted } = await dvcqgIntent();
    expect(intent.nextAction).toEqual({ type: 'redirect', url: `https://thanhtoan.dichvucong.test/pay?ref=${intent.reference}` });
    expect(intent.amount).toBe(185_000);
    expect(posted).toMatchObject({
      LoaiBanTin: 'INIT',
      PhienBan: '1.0.6',
      MaDoiTac: PARTNER,
      MaThamChieu: intent.reference,
      SoTien: '185000',
      MaTienTe: 'VND',
      Ip: '203.113.10.5',
      ThoiGianGD: expect.stringMatching(/^\d{14}$/),
      ThongTinBienLai: {
        MaDichVu: '2',
        MaHoSo: intent.dossierCode,
        MaTTHC: procedure,
        MaDonVi: AGENCIES.communeA,
        TenDonVi: 'UBND phường Trấn Biên',
        TKThuHuong: ACCOUNT.accountNumber,
        MaNHThuHuong: ACCOUNT.bankBin,
        TenTKThuHuong: ACCOUNT.accountName,
        HoTenNguoiNop: 'Nguyễn Văn An',
        PhiLePhi: [
          { LoaiPhiLePhi: '1', MaPhiLePhi: 'P01', TenPhiLePhi: 'Phí thẩm định', SoTien: '50000' },
          { LoaiPhiLePhi: '2', MaPhiLePhi: 'LP01', TenPhiLePhi: 'Lệ phí cấp giấy', SoTien: '135000' },
        ],
      },
    });
    expect(posted.MaThamChieu.length).toBeLessThanOrEqual(20);
    expect(posted.MaXacThuc).toBe(mac(posted, INIT_FIELDS));
    const row = await intentRow(intent.id);
    expect(row).toMatchObject({ gateway: 'dvcqg', status: 'pending', onlinePaymentFlag: 1, gatewayReference: `PP${intent.reference}` });
  });

  it.each([
    ['a refusal (MaLoi 01)', () => fakeInit(() => ({ MaLoi: '01', MoTaLoi: 'Ma doi tac khong hop le' }))],
    ['a 5xx', () => fakeInit(() => ({ error: 'down' }), 503)],
    ['no redirect URL', () => fakeInit(() => ({ MaLoi: '00' }))],
  ])('answers %s with 502 gateway-error and writes nothing', async (_name, fake) => {
    const dossier = await registerDossier(h, portal, procedure);
    const { scope } = fake();
    const response = await createIntent(h, portal, dossier.code, { gateway: 'dvcqg' });
    await expectProblem(response, 502, 'gateway-error');
    expect(scope.isDone()).toBe(true);
    expect(await h.db.db.select().from(paymentIntents).where(eq(paymentIntents.dossierCode, dossier.code))).toEqual([]);
    expect((await obligationRows(dossier.code)).map((o) => [o.status, o.liveIntentId])).toEqual([
      ['unpaid', null],
      ['unpaid', null],
    ]);
  });
});

describe("confirm callback (DPNhanKQThanhToanHS), documented layout: the outcome is the status query's", () => {
  it('a signed success is checked with the platform, then pays the intent, issues the receipt and marks the dossier paid through the national platform', async () => {
    const { intent } = await dvcqgIntent();
    expect(await dossierFlag(intent.dossierCode)).toBe(0);
    const query = statusQuery(intent.reference).reply(200, queryAnswer(intent, '1'));
    const answer = await deliver(confirm(intent));
    expect(query.isDone()).toBe(true);
    expect(answer).toMatchObject({ MaLoi: '00', MaDoiTac: PARTNER, MaThamChieu: intent.reference });
    expect(await intentRow(intent.id)).toMatchObject({ status: 'succeeded', gatewayTransactionId: `PP-${intent.reference}` });
    expect((await intentRow(intent.id)).succeededAt).toEqual(new Date('2026-11-20T02:35:12Z'));
    expect(await receiptCount(intent.id)).toBe(1);
    expect((await obligationRows(intent.dossierCode)).map((o) => o.status)).toEqual(['paid', 'paid']);
    expect(await dossierFlag(intent.dossierCode)).toBe(1);

    // The same confirm again: asked again (its word is still no proof), told 00, nothing changes.
    const before = await intentRow(intent.id);
    const again = statusQuery(intent.reference).reply(200, queryAnswer(intent, '1'));
    expect(await deliver(confirm(intent))).toMatchObject({ MaLoi: '00' });
    expect(again.isDone()).toBe(true);
    expect(await intentRow(intent.id)).toEqual(before);
    expect(await receiptCount(intent.id)).toBe(1);
    const inbox = (await inboxOf(intent.reference)).sort((a, b) => String(a.result).localeCompare(String(b.result)));
    expect(inbox).toMatchObject([
      { result: 'applied', detail: { outcome: 'succeeded', confirmedByQuery: 'succeeded' } },
      { result: 'duplicate', detail: { outcome: 'succeeded', confirmedByQuery: 'succeeded' } },
    ]);
  });

  it('accepts a confirm signed with the previous key (rotation)', async () => {
    const { intent } = await dvcqgIntent();
    const query = statusQuery(intent.reference).reply(200, queryAnswer(intent, '1'));
    expect(await deliver(confirm(intent, {}, OLD_KEY))).toMatchObject({ MaLoi: '00' });
    expect(query.isDone()).toBe(true);
    expect((await intentRow(intent.id)).status).toBe('succeeded');
  });

  it('a declined payment, confirmed by the platform, fails the intent and frees its obligations', async () => {
    const { intent } = await dvcqgIntent();
    const query = statusQuery(intent.reference).reply(200, queryAnswer(intent, '4'));
    expect(await deliver(confirm(intent, { MaLoi: '11', MoTaLoi: 'Khach hang huy giao dich' }))).toMatchObject({ MaLoi: '00' });
    expect(query.isDone()).toBe(true);
    expect((await intentRow(intent.id)).status).toBe('failed');
    expect((await obligationRows(intent.dossierCode)).map((o) => [o.status, o.liveIntentId])).toEqual([
      ['unpaid', null],
      ['unpaid', null],
    ]);
    expect(await dossierFlag(intent.dossierCode)).toBe(0);
  });

  it('a declined confirm with MaLoi flipped to 00 still verifies, but the platform says failed: the intent fails and nothing is paid', async () => {
    const { intent } = await dvcqgIntent();
    const forged = forgedSuccess(intent);
    // The forgery's MaXacThuc is the platform's own: the documented layout does not cover MaLoi.
    expect(forged.MaXacThuc).toBe(confirm(intent, { MaLoi: '11' }).MaXacThuc);
    const query = statusQuery(intent.reference).reply(200, queryAnswer(intent, '4'));

    await deliver(forged);

    expect(query.isDone()).toBe(true);
    expect(await intentRow(intent.id)).toMatchObject({ status: 'failed', succeededAt: null });
    expect(await receiptCount(intent.id)).toBe(0);
    expect((await obligationRows(intent.dossierCode)).map((o) => [o.status, o.paidIntentId])).toEqual([
      ['unpaid', null],
      ['unpaid', null],
    ]);
    expect(await dossierFlag(intent.dossierCode)).toBe(0);
    expect(await inboxOf(intent.reference)).toMatchObject([
      { status: 'processed', signatureValid: 'valid', detail: { outcome: 'succeeded', confirmedByQuery: 'failed' } },
    ]);
  });

  type Query = ReturnType<typeof statusQuery>;
  it.each([
    ['answers HTTP 502', (query: Query) => query.reply(502, 'Bad Gateway')],
    [
      'does not answer in time',
      (query: Query, intent: Intent) => query.reply(answerAfter(TIMEOUT_MS + 300, 200, queryAnswer(intent, '1'))),
    ],
    ['does not know yet (TrangThaiGD 3)', (query: Query, intent: Intent) => query.reply(200, queryAnswer(intent, '3', { MaGiaoDich: '' }))],
  ])('a signed success while the platform %s is answered 99 with HTTP 503, and the intent waits for the poller', async (_name, fake) => {
    const { intent } = await dvcqgIntent();
    expect((await intentRow(intent.id)).nextPollAt!.getTime()).toBeGreaterThan(Date.now());
    const query = fake(statusQuery(intent.reference), intent);
    const delivered = confirm(intent);

    const answer = await deliver(delivered, { status: 503 });

    expect(query.isDone()).toBe(true);
    expect(answer).toMatchObject({ MaLoi: '99', MaThamChieu: intent.reference });
    const row = await intentRow(intent.id);
    expect(row.status).toBe('pending');
    // The poller asks at once, whether or not the platform delivers again.
    expect(row.nextPollAt!.getTime()).toBeLessThanOrEqual(Date.now());
    expect(await receiptCount(intent.id)).toBe(0);
    expect((await obligationRows(intent.dossierCode)).map((o) => [o.status, o.liveIntentId])).toEqual([
      ['unpaid', intent.id],
      ['unpaid', intent.id],
    ]);
    // Kept for the inbox job to process again.
    expect(
      await h.db.db
        .select()
        .from(callbackInbox)
        .where(eq(callbackInbox.rawBody, JSON.stringify(delivered))),
    ).toMatchObject([{ status: 'received', result: 'error', responseStatus: 503, attempts: 1, reference: intent.reference }]);

    // Delivered again once the platform can say: then it pays.
    const later = statusQuery(intent.reference).reply(200, queryAnswer(intent, '1'));
    expect(await deliver(delivered)).toMatchObject({ MaLoi: '00' });
    expect(later.isDone()).toBe(true);
    expect((await intentRow(intent.id)).status).toBe('succeeded');
  });

  it('a bad signature is answered 99, asks nothing and changes nothing', async () => {
    const { intent } = await dvcqgIntent();
    const before = { intent: await intentRow(intent.id), obligations: await obligationRows(intent.dossierCode) };
    const query = statusQuery(intent.reference).reply(200, queryAnswer(intent, '1'));
    const forged = { ...confirm(intent), SoTien: 1_000 };
    const answer = await deliver(forged);
    expect(answer).toMatchObject({ MaLoi: '99', MaThamChieu: intent.reference, MoTaLoi: expect.stringMatching(/xac thuc/i) });
    expect(await deliver(confirm(intent, {}, 'a-key-nobody-configured'))).toMatchObject({ MaLoi: '99' });
    expect(await deliver('not json at all')).toMatchObject({ MaLoi: '99', MaThamChieu: '' });
    expect(query.isDone()).toBe(false);
    expect({ intent: await intentRow(intent.id), obligations: await obligationRows(intent.dossierCode) }).toEqual(before);
    expect(await receiptCount(intent.id)).toBe(0);
    const [stored] = await h.db.db
      .select()
      .from(callbackInbox)
      .where(eq(callbackInbox.rawBody, JSON.stringify(forged)));
    expect(stored).toMatchObject({ status: 'rejected', signatureValid: 'invalid', result: 'bad_signature', reference: intent.reference });
  });

  it('another amount, confirmed by the platform, is answered 99 and the intent is not paid', async () => {
    const { intent } = await dvcqgIntent();
    const paid = { reference: intent.reference, amount: intent.amount - 1 };
    const query = statusQuery(intent.reference).reply(200, queryAnswer(paid, '1'));
    expect(await deliver(confirm(paid))).toMatchObject({ MaLoi: '99' });
    expect(query.isDone()).toBe(true);
    expect((await intentRow(intent.id)).status).not.toBe('succeeded');
    expect(await receiptCount(intent.id)).toBe(0);
  });

  it('an unknown MaThamChieu is answered 99; nothing is asked, and the claimed payment is kept once for a person', async () => {
    const stranger = { reference: 'HPZZZZZZZZZZ', amount: 185_000 };
    const query = statusQuery(stranger.reference).reply(200, queryAnswer(stranger, '1'));
    expect(await deliver(confirm(stranger))).toMatchObject({
      MaLoi: '99',
      MaThamChieu: 'HPZZZZZZZZZZ',
      MoTaLoi: expect.stringMatching(/tham chieu/i),
    });
    expect(query.isDone()).toBe(false);
    expect(await inboxOf(stranger.reference)).toMatchObject([{ status: 'processed', result: 'unknown_reference', intentId: null }]);
    // Its MaGiaoDich is unsigned: the review is keyed by the message, so a redelivery adds none.
    await deliver(confirm(stranger));
    const kept = await h.db.db
      .select()
      .from(paymentReviews)
      .where(and(eq(paymentReviews.gateway, 'dvcqg'), isNull(paymentReviews.intentId)));
    expect(kept.map((r) => [r.kind, r.amount, r.proposedAction])).toEqual([['unmatched_credit', 185_000, 'decide']]);
  });

  it("the return page does not show the link's unsigned result: the hub confirms it with the platform", async () => {
    const { intent } = await dvcqgIntent();
    for (const link of [confirm(intent), forgedSuccess(intent), confirm(intent, { MaLoi: '11', MoTaLoi: 'Khach hang huy giao dich' })]) {
      const page = await returnPage(link);
      expect(page.status).toBe(200);
      expect(page.text).toContain('Hệ thống xác nhận kết quả trực tiếp với');
      expect(page.text).not.toMatch(/giao dịch (không )?thành công|Khach hang huy/);
    }
    expect((await intentRow(intent.id)).status).toBe('pending');
  });
});

describe('confirm callback, with a layout that signs MaLoi and MaGiaoDich (DVCQG_CONFIRM_FIELDS)', () => {
  let signing: Hub;
  beforeAll(async () => {
    signing = await startHub(OUTCOME_SIGNED_FIELDS);
  });
  afterAll(async () => {
    await signing?.h.close();
  });
  const signedConfirm = (intent: Intent, overrides: Record<string, unknown> = {}) => confirm(intent, overrides, KEY, OUTCOME_SIGNED_FIELDS);
  /** A query the hub must not make: the platform would say "paid". */
  const unaskedQuery = (intent: Intent) => statusQuery(intent.reference).reply(200, queryAnswer(intent, '1', {}, OUTCOME_SIGNED_FIELDS));

  it('a signed success pays on its own word: the platform is not asked', async () => {
    const { intent } = await dvcqgIntent(signing);
    const query = unaskedQuery(intent);
    expect(await deliver(signedConfirm(intent), { on: signing })).toMatchObject({ MaLoi: '00', MoTaLoi: 'Thanh cong' });
    expect(query.isDone()).toBe(false);
    expect(await intentRow(intent.id, signing)).toMatchObject({ status: 'succeeded', gatewayTransactionId: `PP-${intent.reference}` });
    expect(await receiptCount(intent.id, signing)).toBe(1);
    expect((await inboxOf(intent.reference, signing))[0]!.detail).toEqual({ outcome: 'succeeded', event: expect.any(String) });
  });

  it('a declined confirm with MaLoi flipped to 00 (or another MaGiaoDich) is refused as a bad signature, and the platform is not asked', async () => {
    const { intent } = await dvcqgIntent(signing);
    const before = { intent: await intentRow(intent.id, signing), obligations: await obligationRows(intent.dossierCode, signing) };
    const query = unaskedQuery(intent);
    const forged = forgedSuccess(intent, OUTCOME_SIGNED_FIELDS);
    const otherTransaction = { ...signedConfirm(intent), MaGiaoDich: 'PP-SOMEONE-ELSES' };

    for (const message of [forged, otherTransaction]) {
      expect(await deliver(message, { on: signing })).toMatchObject({ MaLoi: '99', MoTaLoi: expect.stringMatching(/xac thuc/i) });
    }

    expect(query.isDone()).toBe(false);
    expect({ intent: await intentRow(intent.id, signing), obligations: await obligationRows(intent.dossierCode, signing) }).toEqual(before);
    expect(await receiptCount(intent.id, signing)).toBe(0);
    expect((await inboxOf(intent.reference, signing)).map((r) => [r.status, r.signatureValid, r.result])).toEqual([
      ['rejected', 'invalid', 'bad_signature'],
      ['rejected', 'invalid', 'bad_signature'],
    ]);
  });

  it('the return page shows the signed result, and refuses a flipped one', async () => {
    const { intent } = await dvcqgIntent(signing);
    const paid = await returnPage(signedConfirm(intent), signing);
    expect(paid.status).toBe(200);
    expect(paid.text).toContain('giao dịch thành công');
    expect((await returnPage(forgedSuccess(intent, OUTCOME_SIGNED_FIELDS), signing)).status).toBe(400);
  });
});

describe('POST /v1/dvcqg/payment-lookup (DPTraCuuThanhToanHS)', () => {
  const lookup = (body: unknown, token: string | null = portal) =>
    h.request(
      'POST',
      '/v1/dvcqg/payment-lookup',
      typeof body === 'string' ? { token, rawBody: body, headers: { 'content-type': 'application/json' } } : { token, body },
    );

  it('answers 1 with the unpaid lines and their sum', async () => {
    const dossier = await registerDossier(h, portal, procedure);
    expect(await expectJson(await lookup({ MaHoSo: dossier.code }), 200)).toEqual({
      error_code: 1,
      message: {
        MaHoSo: dossier.code,
        MaTTHC: procedure,
        TenTTHC: `Thủ tục thử nghiệm ${procedure}`,
        MaDonVi: AGENCIES.communeA,
        TenDonVi: 'UBND phường Trấn Biên',
        SoTien: '185000',
        PhiLePhi: [
          { LoaiPhiLePhi: '1', MaPhiLePhi: 'P01', TenPhiLePhi: 'Phí thẩm định', SoTien: '50000' },
          { LoaiPhiLePhi: '2', MaPhiLePhi: 'LP01', TenPhiLePhi: 'Lệ phí cấp giấy', SoTien: '135000' },
        ],
      },
    });
  });

  it('answers 0 "already paid" once paid, and 0 "nothing to pay" for an exempt dossier', async () => {
    const { intent } = await dvcqgIntent();
    statusQuery(intent.reference).reply(200, queryAnswer(intent, '1'));
    await deliver(confirm(intent));
    expect(await expectJson(await lookup({ MaHoSo: intent.dossierCode }), 200)).toEqual({ error_code: 0, message: 'already paid' });

    const free = await createProcedure(h.ctx, [rule({ formula: { type: 'fixed', amount: 0 } })]);
    const exempt = await registerDossier(h, portal, free);
    expect(await expectJson(await lookup({ MaHoSo: exempt.code }), 200)).toEqual({ error_code: 0, message: 'nothing to pay' });
  });

  it('answers 0 "payment in progress" while another payment holds the lines, and 1 again once it is cancelled', async () => {
    const { intent } = await dvcqgIntent();
    // Offering held lines would let the citizen pay them twice, through two channels at once.
    expect(await expectJson(await lookup({ MaHoSo: intent.dossierCode }), 200)).toEqual({ error_code: 0, message: 'payment in progress' });
    expect((await h.request('POST', `/v1/payment-intents/${intent.id}/cancel`, { token: portal })).status).toBe(200);
    expect(await expectJson(await lookup({ MaHoSo: intent.dossierCode }), 200)).toMatchObject({
      error_code: 1,
      message: { SoTien: String(intent.amount) },
    });
  });

  it("answers -1 alike for an unknown dossier and for one outside the caller's agencies", async () => {
    const dossier = await registerDossier(h, portal, procedure);
    const unknown = await expectJson(await lookup({ MaHoSo: uniqueDossierCode() }), 200);
    expect(unknown).toMatchObject({ error_code: -1, message: expect.any(String) });
    const outsider = await mintToken({ role: 'portal', agencies: [AGENCIES.communeB] });
    const outside = await expectJson(await lookup({ MaHoSo: dossier.code }, outsider), 200);
    expect(outside.error_code).toBe(-1);
    const admin = await mintToken({ role: 'admin' });
    expect((await expectJson(await lookup({ MaHoSo: dossier.code }, admin), 200)).error_code).toBe(1);
  });

  it.each([
    ['no MaHoSo', {}],
    ['an empty MaHoSo', { MaHoSo: '' }],
    ['an extra member', { MaHoSo: '000.21.32.H19-261120-0001', SoTien: 1 }],
    ['a number', { MaHoSo: 42 }],
    ['JSON that does not parse', '{"MaHoSo": '],
  ])('answers %s with a 400 problem that also carries error_code -1', async (_name, body) => {
    const problem = await expectProblem(await lookup(body), 400);
    expect(problem.error_code).toBe(-1);
  });

  it('refuses other roles with a 403 problem carrying error_code -1, and no token with 401', async () => {
    const treasury = await mintToken({ role: 'treasury', agencies: [AGENCIES.province] });
    const problem = await expectProblem(await lookup({ MaHoSo: uniqueDossierCode() }, treasury), 403, 'forbidden');
    expect(problem.error_code).toBe(-1);
    await expectProblem(await lookup({ MaHoSo: uniqueDossierCode() }, null), 401, 'unauthenticated');
  });
});
