import { createHash, createHmac } from 'node:crypto';
import { and, count, eq, isNull, sql } from 'drizzle-orm';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { callbackInbox, obligations, paymentIntents, paymentReviews, receipts } from '../../src/db/schema/index.ts';
import {
  ANSWER_FIELDS,
  type PlatformAlgorithm,
  platformMac,
  QUERY_FIELDS,
  UNSIGNED_OUTCOME_CONFIRM_FIELDS,
} from '../../src/emulators/protocol/dvcqg.ts';
import { upsertAgency } from '../../src/services/catalogue.ts';
import { answerAfter, fixture } from '../gateways/drivers/driver.ts';
import { PARTNER, PLATFORM, testDvcqgGateway } from '../helpers/dvcqg-gateway.ts';
import { AGENCIES, createIntent, createProcedure, registerDossier, rule, seedAgencyTree, uniqueDossierCode } from '../helpers/factories.ts';
import { createHarness, type Harness, mintToken } from '../helpers/harness.ts';
import { expectJson, expectProblem } from '../helpers/problems.ts';

/**
 * The national platform end to end, through the hub's HTTP app (requests and raw bodies as a
 * client sends them; the hub does not listen, since nock 15 drains the body of a request it lets
 * through to a real server, nock/nock#2989): intent creation posts the signed init (faked with
 * nock) and hands over its URL; POST /v1/callbacks/dvcqg takes the platform's confirm
 * (DPNhanKQThanhToanHS); the portal's look-up (DPTraCuuThanhToanHS) answers error_code 1 / 0 / -1.
 *
 * The confirms are built here by an implementation of MaXacThuc independent of the hub's:
 * node:crypto's SHA-256 over the fields written out by hand in the documented order, the key
 * appended after one more '|' (OpenCPS PayGateUtil.generateChecksum, release-candidate-3.0). That
 * layout signs MaLoi and MaGiaoDich, so a confirm is taken at its word. The HMAC option, with a
 * layout that leaves them out, stays tested: there a confirm is only a hint checked by the
 * platform's status query (faked with nock).
 */
const KEY = 'dvcqg-api-test-key-2026';
const OLD_KEY = 'dvcqg-api-test-key-2025';
const TIMEOUT_MS = 300;
const ACCOUNT = { bankBin: '970415', accountNumber: '113000123456', accountName: 'UBND TINH DONG NAI' };

const sha256Hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** One hub with the national platform configured (its status query URL included) and a two-line procedure. */
interface Hub {
  h: Harness;
  procedure: string;
  algorithm: PlatformAlgorithm;
  confirmFields: readonly string[];
}

async function startHub(algorithm: PlatformAlgorithm, confirmFields?: string[]): Promise<Hub> {
  const h = await createHarness({
    gateways: (env) => ({
      dvcqg: testDvcqgGateway({
        secrets: [KEY, OLD_KEY],
        algorithm,
        ...(confirmFields ? { confirmFields } : {}),
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
    rule({
      kind: 'phi',
      feeCode: 'P01',
      name: 'Phí thẩm định',
      lineNo: 1,
      formula: { type: 'fixed', amount: 50_000 },
      budgetAccount: '7111',
    }),
    rule({
      kind: 'le_phi',
      feeCode: 'LP01',
      name: 'Lệ phí cấp giấy',
      lineNo: 2,
      formula: { type: 'fixed', amount: 135_000 },
      budgetAccount: '7111',
    }),
  ]);
  return { h, procedure, algorithm, confirmFields: confirmFields ?? [] };
}

/** The hub with the documented checksum and layouts (the defaults), used unless a test says otherwise. */
let hub: Hub;
let h: Harness;
let portal: string;
let procedure: string;

beforeAll(async () => {
  hub = await startHub('SHA256-KEY');
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

interface ConfirmFields {
  LoaiBanTin: string;
  MaLoi: string;
  MoTaLoi?: string;
  MaDoiTac: string;
  MaThamChieu: string;
  SoTien: number;
  MaTienTe: string;
  MaGiaoDich: string;
  MaNganHang: string;
  ThoiGianGD: string;
  ThongTinGiaoDich: string;
}

function confirmFields(intent: Pick<Intent, 'reference' | 'amount'>, overrides: Partial<ConfirmFields> = {}): ConfirmFields {
  return {
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
}

/**
 * The platform's confirm, its MaXacThuc as the production integrations compute it, written out
 * by hand: LoaiBanTin|MaLoi|MaDoiTac|MaThamChieu|SoTien|MaTienTe|MaGiaoDich|MaNganHang|ThoiGianGD|ThongTinGiaoDich|key.
 */
function confirm(intent: Pick<Intent, 'reference' | 'amount'>, overrides: Partial<ConfirmFields> = {}, key = KEY) {
  const m = confirmFields(intent, overrides);
  const signed = `${m.LoaiBanTin}|${m.MaLoi}|${m.MaDoiTac}|${m.MaThamChieu}|${m.SoTien}|${m.MaTienTe}|${m.MaGiaoDich}|${m.MaNganHang}|${m.ThoiGianGD}|${m.ThongTinGiaoDich}|${key}`;
  return { ...m, MaXacThuc: sha256Hex(signed) };
}

/** The same confirm as an earlier platform version signs it: HMAC-SHA256 over a layout without MaLoi and MaGiaoDich. */
function hmacConfirm(intent: Pick<Intent, 'reference' | 'amount'>, overrides: Partial<ConfirmFields> = {}, key = KEY) {
  const m = confirmFields(intent, overrides);
  const signed = `${m.LoaiBanTin}|${m.MaDoiTac}|${m.MaThamChieu}|${m.SoTien}|${m.MaTienTe}|${m.MaNganHang}|${m.ThongTinGiaoDich}|${m.ThoiGianGD}`;
  return { ...m, MaXacThuc: createHmac('sha256', key).update(signed, 'utf8').digest('hex') };
}

/** A declined payment's confirm, as the platform signs it, with its MaLoi then changed to 00. */
function forgedSuccess(signer: typeof confirm, intent: Pick<Intent, 'reference' | 'amount'>): Record<string, unknown> {
  const { MoTaLoi: _text, ...forged } = signer(intent, { MaLoi: '11', MoTaLoi: 'Khach hang huy giao dich' });
  return { ...forged, MaLoi: '00' };
}

/**
 * The platform's answer to a status query, in the recorded shape (test/fixtures/dvcqg):
 * TrangThaiGD 1 paid, 3 pending, 4 failed; signed over the hub's confirm layout, as the adapter checks it.
 */
function queryAnswer(
  on: Hub,
  intent: Pick<Intent, 'reference' | 'amount'>,
  state: '1' | '3' | '4',
  overrides: Record<string, unknown> = {},
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
  return { ...message, MaXacThuc: platformMac(message, on.confirmFields, KEY, on.algorithm) };
}

/** The platform's status query for one reference; only a query whose MaXacThuc verifies is matched. */
const statusQuery = (reference: string, on: Hub = hub) =>
  nock(PLATFORM).post(
    '/api/v1/query',
    (body: Record<string, any>) => body.MaThamChieu === reference && body.MaXacThuc === platformMac(body, QUERY_FIELDS, KEY, on.algorithm),
  );

async function deliver(body: unknown, { on = hub, status = 200 }: { on?: Hub; status?: number } = {}) {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const response = await on.h.request('POST', '/v1/callbacks/dvcqg', { rawBody: raw, headers: { 'content-type': 'application/json' } });
  const answer = await expectJson(response, status);
  // Every answer is the platform's shape, signed with the current key.
  expect(Object.keys(answer).sort()).toEqual(['MaDoiTac', 'MaLoi', 'MaThamChieu', 'MaXacThuc', 'MoTaLoi', 'ThoiGianGD']);
  expect(answer.MaXacThuc).toBe(platformMac(answer, ANSWER_FIELDS, KEY, on.algorithm));
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

describe('MaXacThuc, the independent implementation used here', () => {
  it('gives the fixed test vector: SHA-256 of the fields and the key joined by |, lower-case hex', () => {
    // The same vector as test/fixtures/dvcqg/confirm-success.json, checked with coreutils' sha256sum.
    expect(
      sha256Hex(
        'CONFIRM|00|HCC_DONGNAI|HP0A1B2C3D4E|185000|VND|PP2611200000123|VCB|20261120093512|Thanh toan phi le phi ho so 000.21.32.H19-261120-0032|dvcqg-test-key-2026',
      ),
    ).toBe('0b0503c293daa5b57fa1668ff9ce9a2324056942bb7ccab7abe7e0d4c4d85a50');
    expect(confirm({ reference: 'HP0A1B2C3D4E', amount: 185_000 }, {}, 'k').MaXacThuc).toBe(
      sha256Hex('CONFIRM|00|HCC_DONGNAI|HP0A1B2C3D4E|185000|VND|PP-HP0A1B2C3D4E|VCB|20261120093512|Thanh toan phi le phi|k'),
    );
  });
});

describe('intent creation', () => {
  it("posts the init signed with SHA-256 over its fields and the key, with every field of the receipt block, and hands over the platform's URL", async () => {
    const { intent, posted } = await dvcqgIntent();
    expect(intent.nextAction).toEqual({ type: 'redirect', url: `https://thanhtoan.dichvucong.test/pay?ref=${intent.reference}` });
    expect(intent.amount).toBe(185_000);
    expect(posted).toEqual({
      LoaiBanTin: 'INIT',
      PhienBan: '1.0.6',
      MaDoiTac: PARTNER,
      MaThamChieu: intent.reference,
      SoTien: '185000',
      LoaiHinhThanhToan: 'PAY',
      MaKenhThanhToan: '1',
      MaThietBi: '1',
      NgonNgu: 'vi-VN',
      MaTienTe: 'VND',
      MaNganHang: 'PAYMENT',
      ThongTinGiaoDich: `Thanh toan phi le phi ho so ${intent.dossierCode}`,
      ThoiGianGD: expect.stringMatching(/^\d{14}$/),
      Ip: '203.113.10.5',
      ThongTinBienLai: {
        MaDichVu: '2',
        MaHoSo: intent.dossierCode,
        MaDVC: procedure,
        TenDVC: `Thủ tục thử nghiệm ${procedure}`,
        MaTTHC: procedure,
        TenTTHC: `Thủ tục thử nghiệm ${procedure}`,
        MaDonVi: AGENCIES.communeA,
        TenDonVi: 'UBND phường Trấn Biên',
        // The commune has no account of its own: the province's collects for it.
        TKThuHuong: ACCOUNT.accountNumber,
        MaNHThuHuong: ACCOUNT.bankBin,
        TenTKThuHuong: ACCOUNT.accountName,
        TaiKhoanThuNSNN: '7111',
        PhiLePhi: [
          { LoaiPhiLePhi: '1', MaPhiLePhi: 'P01', TenPhiLePhi: 'Phí thẩm định', SoTien: '50000' },
          { LoaiPhiLePhi: '2', MaPhiLePhi: 'LP01', TenPhiLePhi: 'Lệ phí cấp giấy', SoTien: '135000' },
        ],
        NoiDungThanhToan: `Thanh toan phi le phi ho so ${intent.dossierCode}`,
        MaCoQuanQD: AGENCIES.communeA,
        TenCoQuanQD: 'UBND phường Trấn Biên',
        KhoBac: '',
        NgayQD: posted.ThoiGianGD.slice(0, 8),
        DSKhoanNop: [
          { NoiDung: 'Phí thẩm định', SoTien: '50000' },
          { NoiDung: 'Lệ phí cấp giấy', SoTien: '135000' },
        ],
        HoTenNguoiNop: 'Nguyễn Văn An',
        SoCMNDNguoiNop: '',
        DiaChiNguoiNop: '12 Đường Võ Thị Sáu, phường Trấn Biên, Đồng Nai',
      },
      MaXacThuc: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    const p = posted;
    expect(p.MaXacThuc).toBe(
      sha256Hex(
        `${p.LoaiBanTin}|${p.PhienBan}|${p.MaDoiTac}|${p.MaThamChieu}|${p.SoTien}|${p.LoaiHinhThanhToan}|${p.MaKenhThanhToan}|${p.MaThietBi}|${p.NgonNgu}|${p.MaTienTe}|${p.MaNganHang}|${p.ThongTinGiaoDich}|${p.ThoiGianGD}|${p.Ip}|${KEY}`,
      ),
    );
    expect(posted.MaThamChieu.length).toBeLessThanOrEqual(20);
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

describe('confirm callback (DPNhanKQThanhToanHS), documented checksum: SHA-256 over the outcome-signing layout and the key', () => {
  it('a confirm signed by the independent implementation pays the intent on its word, issues the receipt and marks the dossier paid through the national platform', async () => {
    const { intent } = await dvcqgIntent();
    expect(await dossierFlag(intent.dossierCode)).toBe(0);
    // A query the hub need not make: the result is signed.
    const query = statusQuery(intent.reference).reply(200, queryAnswer(hub, intent, '1'));
    const answer = await deliver(confirm(intent));
    expect(query.isDone()).toBe(false);
    expect(answer).toMatchObject({ MaLoi: '00', MoTaLoi: 'Thanh cong', MaDoiTac: PARTNER, MaThamChieu: intent.reference });
    expect(await intentRow(intent.id)).toMatchObject({ status: 'succeeded', gatewayTransactionId: `PP-${intent.reference}` });
    expect((await intentRow(intent.id)).succeededAt).toEqual(new Date('2026-11-20T02:35:12Z'));
    expect(await receiptCount(intent.id)).toBe(1);
    expect((await obligationRows(intent.dossierCode)).map((o) => o.status)).toEqual(['paid', 'paid']);
    expect(await dossierFlag(intent.dossierCode)).toBe(1);

    // The same confirm again: told 00, nothing changes.
    const before = await intentRow(intent.id);
    expect(await deliver(confirm(intent))).toMatchObject({ MaLoi: '00' });
    expect(await intentRow(intent.id)).toEqual(before);
    expect(await receiptCount(intent.id)).toBe(1);
    const inbox = (await inboxOf(intent.reference)).sort((a, b) => String(a.result).localeCompare(String(b.result)));
    expect(inbox.map((r) => [r.result, r.signatureValid])).toEqual([
      ['applied', 'valid'],
      ['duplicate', 'valid'],
    ]);
  });

  it('accepts a confirm signed with the previous key (rotation)', async () => {
    const { intent } = await dvcqgIntent();
    expect(await deliver(confirm(intent, {}, OLD_KEY))).toMatchObject({ MaLoi: '00', MoTaLoi: 'Thanh cong' });
    expect((await intentRow(intent.id)).status).toBe('succeeded');
  });

  it('a signed decline fails the intent and frees its obligations', async () => {
    const { intent } = await dvcqgIntent();
    expect(await deliver(confirm(intent, { MaLoi: '11', MoTaLoi: 'Khach hang huy giao dich' }))).toMatchObject({ MaLoi: '00' });
    expect((await intentRow(intent.id)).status).toBe('failed');
    expect((await obligationRows(intent.dossierCode)).map((o) => [o.status, o.liveIntentId])).toEqual([
      ['unpaid', null],
      ['unpaid', null],
    ]);
    expect(await dossierFlag(intent.dossierCode)).toBe(0);
  });

  it('refuses, as a bad signature answered 99, a wrong checksum, an unknown key, the old HMAC, and a tampered MaLoi, MaGiaoDich or SoTien; nothing is asked or changed', async () => {
    const { intent } = await dvcqgIntent();
    const before = { intent: await intentRow(intent.id), obligations: await obligationRows(intent.dossierCode) };
    const query = statusQuery(intent.reference).reply(200, queryAnswer(hub, intent, '1'));
    const good = confirm(intent);
    const refused: Record<string, Record<string, unknown>> = {
      'a wrong checksum': { ...good, MaXacThuc: sha256Hex(`${good.MaXacThuc}x`) },
      'a key nobody configured': confirm(intent, {}, 'a-key-nobody-configured'),
      // The key only prepended, or the fields without it: not the documented composition.
      'the key prepended': {
        ...good,
        MaXacThuc: sha256Hex(
          `${KEY}|CONFIRM|00|${PARTNER}|${intent.reference}|${intent.amount}|VND|PP-${intent.reference}|VCB|20261120093512|Thanh toan phi le phi`,
        ),
      },
      'the old HMAC-SHA256 checksum': hmacConfirm(intent),
      'an HMAC over the documented layout': {
        ...good,
        MaXacThuc: createHmac('sha256', KEY)
          .update(
            `CONFIRM|00|${PARTNER}|${intent.reference}|${intent.amount}|VND|PP-${intent.reference}|VCB|20261120093512|Thanh toan phi le phi`,
          )
          .digest('hex'),
      },
      'a decline with MaLoi flipped to 00': forgedSuccess(confirm, intent),
      "another payment's MaGiaoDich": { ...good, MaGiaoDich: 'PP-SOMEONE-ELSES' },
      'another SoTien': { ...good, SoTien: 1_000 },
    };
    for (const [name, message] of Object.entries(refused)) {
      const answer = await deliver(message);
      expect(answer, name).toMatchObject({ MaLoi: '99', MaThamChieu: intent.reference, MoTaLoi: expect.stringMatching(/xac thuc/i) });
    }
    expect(await deliver('not json at all')).toMatchObject({ MaLoi: '99', MaThamChieu: '' });
    expect(query.isDone()).toBe(false);
    expect({ intent: await intentRow(intent.id), obligations: await obligationRows(intent.dossierCode) }).toEqual(before);
    expect(await receiptCount(intent.id)).toBe(0);
    // Each was stored first, then refused.
    expect((await inboxOf(intent.reference)).map((r) => [r.status, r.signatureValid, r.result])).toEqual(
      Object.keys(refused).map(() => ['rejected', 'invalid', 'bad_signature']),
    );
    // The genuine confirm still pays.
    expect(await deliver(good)).toMatchObject({ MaLoi: '00', MoTaLoi: 'Thanh cong' });
    expect((await intentRow(intent.id)).status).toBe('succeeded');
  });

  it('another amount, signed, is answered 99 and the intent is not paid', async () => {
    const { intent } = await dvcqgIntent();
    expect(await deliver(confirm({ reference: intent.reference, amount: intent.amount - 1 }))).toMatchObject({
      MaLoi: '99',
      MoTaLoi: expect.stringMatching(/so tien/i),
    });
    expect((await intentRow(intent.id)).status).not.toBe('succeeded');
    expect(await receiptCount(intent.id)).toBe(0);
  });

  it('an unknown MaThamChieu is answered 99, and the signed payment is kept once for a person', async () => {
    const stranger = { reference: 'HPZZZZZZZZZZ', amount: 185_000 };
    expect(await deliver(confirm(stranger))).toMatchObject({
      MaLoi: '99',
      MaThamChieu: 'HPZZZZZZZZZZ',
      MoTaLoi: expect.stringMatching(/tham chieu/i),
    });
    expect(await inboxOf(stranger.reference)).toMatchObject([{ status: 'processed', result: 'unknown_reference', intentId: null }]);
    await deliver(confirm(stranger));
    const kept = await h.db.db
      .select()
      .from(paymentReviews)
      .where(and(eq(paymentReviews.gateway, 'dvcqg'), isNull(paymentReviews.intentId)));
    expect(kept.map((r) => [r.kind, r.amount, r.proposedAction, r.gatewayTransactionId])).toEqual([
      ['unmatched_credit', 185_000, 'decide', 'PP-HPZZZZZZZZZZ'],
    ]);
  });

  it('the return page shows the signed result, and refuses a flipped one', async () => {
    const { intent } = await dvcqgIntent();
    const paid = await returnPage(confirm(intent));
    expect(paid.status).toBe(200);
    expect(paid.text).toContain('giao dịch thành công');
    expect((await returnPage(forgedSuccess(confirm, intent))).status).toBe(400);
    expect((await intentRow(intent.id)).status).toBe('pending');
  });
});

describe('confirm callback with the HMAC option and a layout that leaves out MaLoi and MaGiaoDich: the outcome is the status query’s', () => {
  let legacy: Hub;
  beforeAll(async () => {
    legacy = await startHub('HMAC-SHA256', UNSIGNED_OUTCOME_CONFIRM_FIELDS);
  });
  afterAll(async () => {
    await legacy?.h.close();
  });

  it('a signed success is checked with the platform, then pays; the same confirm again is asked again and changes nothing', async () => {
    const { intent } = await dvcqgIntent(legacy);
    const query = statusQuery(intent.reference, legacy).reply(200, queryAnswer(legacy, intent, '1'));
    expect(await deliver(hmacConfirm(intent), { on: legacy })).toMatchObject({ MaLoi: '00', MaThamChieu: intent.reference });
    expect(query.isDone()).toBe(true);
    expect(await intentRow(intent.id, legacy)).toMatchObject({ status: 'succeeded', gatewayTransactionId: `PP-${intent.reference}` });
    expect(await receiptCount(intent.id, legacy)).toBe(1);

    const before = await intentRow(intent.id, legacy);
    const again = statusQuery(intent.reference, legacy).reply(200, queryAnswer(legacy, intent, '1'));
    expect(await deliver(hmacConfirm(intent), { on: legacy })).toMatchObject({ MaLoi: '00' });
    expect(again.isDone()).toBe(true);
    expect(await intentRow(intent.id, legacy)).toEqual(before);
    const inbox = (await inboxOf(intent.reference, legacy)).sort((a, b) => String(a.result).localeCompare(String(b.result)));
    expect(inbox).toMatchObject([
      { result: 'applied', detail: { outcome: 'succeeded', confirmedByQuery: 'succeeded' } },
      { result: 'duplicate', detail: { outcome: 'succeeded', confirmedByQuery: 'succeeded' } },
    ]);
  });

  it('a declined confirm with MaLoi flipped to 00 still verifies there, but the platform says failed: the intent fails and nothing is paid', async () => {
    const { intent } = await dvcqgIntent(legacy);
    const forged = forgedSuccess(hmacConfirm, intent);
    // The forgery's MaXacThuc is the platform's own: this layout does not cover MaLoi.
    expect(forged.MaXacThuc).toBe(hmacConfirm(intent, { MaLoi: '11' }).MaXacThuc);
    const query = statusQuery(intent.reference, legacy).reply(200, queryAnswer(legacy, intent, '4'));
    await deliver(forged, { on: legacy });
    expect(query.isDone()).toBe(true);
    expect(await intentRow(intent.id, legacy)).toMatchObject({ status: 'failed', succeededAt: null });
    expect(await receiptCount(intent.id, legacy)).toBe(0);
    expect(await inboxOf(intent.reference, legacy)).toMatchObject([
      { status: 'processed', signatureValid: 'valid', detail: { outcome: 'succeeded', confirmedByQuery: 'failed' } },
    ]);
  });

  type Query = ReturnType<typeof statusQuery>;
  it.each([
    ['answers HTTP 502', (query: Query) => query.reply(502, 'Bad Gateway')],
    [
      'does not answer in time',
      (query: Query, intent: Intent) => query.reply(answerAfter(TIMEOUT_MS + 300, 200, queryAnswer(legacy, intent, '1'))),
    ],
    [
      'does not know yet (TrangThaiGD 3)',
      (query: Query, intent: Intent) => query.reply(200, queryAnswer(legacy, intent, '3', { MaGiaoDich: '' })),
    ],
  ])('a signed success while the platform %s is answered 99 with HTTP 503, and the intent waits for the poller', async (_name, fake) => {
    const { intent } = await dvcqgIntent(legacy);
    expect((await intentRow(intent.id, legacy)).nextPollAt!.getTime()).toBeGreaterThan(Date.now());
    const query = fake(statusQuery(intent.reference, legacy), intent);
    const delivered = hmacConfirm(intent);

    const answer = await deliver(delivered, { on: legacy, status: 503 });

    expect(query.isDone()).toBe(true);
    expect(answer).toMatchObject({ MaLoi: '99', MaThamChieu: intent.reference });
    const row = await intentRow(intent.id, legacy);
    expect(row.status).toBe('pending');
    // The poller asks at once, whether or not the platform delivers again.
    expect(row.nextPollAt!.getTime()).toBeLessThanOrEqual(Date.now());
    expect(await receiptCount(intent.id, legacy)).toBe(0);
    expect(
      await legacy.h.db.db
        .select()
        .from(callbackInbox)
        .where(eq(callbackInbox.rawBody, JSON.stringify(delivered))),
    ).toMatchObject([{ status: 'received', result: 'error', responseStatus: 503, attempts: 1, reference: intent.reference }]);

    // Delivered again once the platform can say: then it pays.
    const later = statusQuery(intent.reference, legacy).reply(200, queryAnswer(legacy, intent, '1'));
    expect(await deliver(delivered, { on: legacy })).toMatchObject({ MaLoi: '00' });
    expect(later.isDone()).toBe(true);
    expect((await intentRow(intent.id, legacy)).status).toBe('succeeded');
  });

  it('refuses the SHA-256 checksum (another algorithm) and a tampered amount as bad signatures', async () => {
    const { intent } = await dvcqgIntent(legacy);
    const query = statusQuery(intent.reference, legacy).reply(200, queryAnswer(legacy, intent, '1'));
    expect(await deliver(confirm(intent), { on: legacy })).toMatchObject({ MaLoi: '99', MoTaLoi: expect.stringMatching(/xac thuc/i) });
    expect(await deliver({ ...hmacConfirm(intent), SoTien: 1_000 }, { on: legacy })).toMatchObject({ MaLoi: '99' });
    expect(query.isDone()).toBe(false);
    expect((await intentRow(intent.id, legacy)).status).toBe('pending');
  });

  it("the return page does not show the link's unsigned result: the hub confirms it with the platform", async () => {
    const { intent } = await dvcqgIntent(legacy);
    for (const link of [
      hmacConfirm(intent),
      forgedSuccess(hmacConfirm, intent),
      hmacConfirm(intent, { MaLoi: '11', MoTaLoi: 'Khach hang huy giao dich' }),
    ]) {
      const page = await returnPage(link, legacy);
      expect(page.status).toBe(200);
      expect(page.text).toContain('Hệ thống xác nhận kết quả trực tiếp với');
      expect(page.text).not.toMatch(/giao dịch (không )?thành công|Khach hang huy/);
    }
    expect((await intentRow(intent.id, legacy)).status).toBe('pending');
  });
});

describe('POST /v1/dvcqg/payment-lookup (DPTraCuuThanhToanHS)', () => {
  const lookup = (body: unknown, token: string | null = portal, on: Harness = h) =>
    on.request(
      'POST',
      '/v1/dvcqg/payment-lookup',
      typeof body === 'string' ? { token, rawBody: body, headers: { 'content-type': 'application/json' } } : { token, body },
    );

  it('answers 1 with the payment information: the unpaid lines, their sum, the payee account, MaTraCuuTT, MaDichVu and the transaction fields', async () => {
    const dossier = await registerDossier(h, portal, procedure);
    h.clock.now = new Date('2026-12-04T03:15:00Z');
    let answer: Record<string, any>;
    try {
      answer = await expectJson(await lookup({ MaHoSo: dossier.code }), 200);
    } finally {
      h.clock.now = null;
    }
    const lookupCode = `${dossier.code}20261204101500`;
    expect(answer).toEqual({
      error_code: 1,
      message: {
        transaction_id: lookupCode,
        client_id: PARTNER,
        MaTraCuuTT: lookupCode,
        MaDichVu: '2',
        MaHoSo: dossier.code,
        MaDVC: procedure,
        TenDVC: `Thủ tục thử nghiệm ${procedure}`,
        MaTTHC: procedure,
        TenTTHC: `Thủ tục thử nghiệm ${procedure}`,
        MaDonVi: AGENCIES.communeA,
        TenDonVi: 'UBND phường Trấn Biên',
        TKThuHuong: ACCOUNT.accountNumber,
        MaNHThuHuong: ACCOUNT.bankBin,
        TenTKThuHuong: ACCOUNT.accountName,
        TaiKhoanThuNSNN: '7111',
        SoTien: '185000',
        PhiLePhi: [
          { LoaiPhiLePhi: '1', MaPhiLePhi: 'P01', TenPhiLePhi: 'Phí thẩm định', SoTien: '50000' },
          { LoaiPhiLePhi: '2', MaPhiLePhi: 'LP01', TenPhiLePhi: 'Lệ phí cấp giấy', SoTien: '135000' },
        ],
        NoiDungThanhToan: `Thanh toan phi le phi ho so ${dossier.code}`,
        MaCoQuanQD: AGENCIES.communeA,
        TenCoQuanQD: 'UBND phường Trấn Biên',
        KhoBac: '',
        NgayQD: '20261204',
        DSKhoanNop: [
          { NoiDung: 'Phí thẩm định', SoTien: '50000' },
          { NoiDung: 'Lệ phí cấp giấy', SoTien: '135000' },
        ],
        HoTenNguoiNop: 'Nguyễn Văn An',
        SoCMNDNguoiNop: '',
        DiaChiNguoiNop: '12 Đường Võ Thị Sáu, phường Trấn Biên, Đồng Nai',
      },
    });
  });

  it("names the agency's own account when it has one, over the province's", async () => {
    const own = { bankBin: '970418', accountNumber: '21510000123456', accountName: 'UBND PHUONG TRAN BIEN' };
    const other = await createProcedure(h.ctx, [rule()]);
    const dossier = await registerDossier(h, portal, other, { agencyCode: AGENCIES.communeB });
    await upsertAgency(h.ctx, {
      code: AGENCIES.communeB,
      name: 'UBND xã Long Thành',
      level: 'commune',
      parentCode: AGENCIES.province,
      ...own,
    });
    expect((await expectJson(await lookup({ MaHoSo: dossier.code }), 200)).message).toMatchObject({
      TKThuHuong: own.accountNumber,
      MaNHThuHuong: own.bankBin,
      TenTKThuHuong: own.accountName,
      SoTien: '135000',
    });
  });

  it('answers 0 "already paid" once paid, and 0 "nothing to pay" for an exempt dossier', async () => {
    const { intent } = await dvcqgIntent();
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
      message: { SoTien: String(intent.amount), TKThuHuong: ACCOUNT.accountNumber },
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

  it('answers -1 when no account can receive the money: without it the platform cannot route the payment', async () => {
    // Another province in the tree, with no collection account anywhere above its dossier.
    const admin = await mintToken({ role: 'admin' });
    const dossier = await registerDossier(h, admin, procedure, { agencyCode: AGENCIES.otherProvince });
    expect(await expectJson(await lookup({ MaHoSo: dossier.code }, admin), 200)).toEqual({
      error_code: -1,
      message: expect.stringMatching(/collection account/),
    });
  });

  it('answers -1 on a hub without the national platform configured', async () => {
    const bare = await createHarness({ sandbox: false });
    try {
      await seedAgencyTree(bare.ctx);
      await upsertAgency(bare.ctx, {
        code: AGENCIES.province,
        name: 'UBND tỉnh Đồng Nai',
        level: 'province',
        parentCode: null,
        ...ACCOUNT,
      });
      const dossier = await registerDossier(bare, portal, await createProcedure(bare.ctx));
      expect(await expectJson(await lookup({ MaHoSo: dossier.code }, portal, bare), 200)).toEqual({
        error_code: -1,
        message: expect.stringMatching(/not configured/),
      });
    } finally {
      await bare.close();
    }
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
