import { createHmac } from 'node:crypto';
import { count, eq, sql } from 'drizzle-orm';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { callbackInbox, obligations, paymentIntents, receipts } from '../../src/db/schema/index.ts';
import { createDvcqgGateway } from '../../src/gateways/dvcqg/adapter.ts';
import { upsertAgency } from '../../src/services/catalogue.ts';
import { AGENCIES, createIntent, createProcedure, registerDossier, rule, seedAgencyTree, uniqueDossierCode } from '../helpers/factories.ts';
import { createHarness, mintToken, type Harness } from '../helpers/harness.ts';
import { expectJson, expectProblem } from '../helpers/problems.ts';

/**
 * The national platform end to end: intent creation posts the signed init (faked with nock) and
 * hands over its URL; POST /v1/callbacks/dvcqg takes the platform's confirm, checked here with an
 * independent node:crypto MaXacThuc; the portal's look-up answers error_code 1 / 0 / -1.
 */
const KEY = 'dvcqg-api-test-key-2026';
const OLD_KEY = 'dvcqg-api-test-key-2025';
const PARTNER = 'HCC_DONGNAI';
const PLATFORM = 'https://paymentplatform.dichvucong.test';
const INIT_FIELDS = ['LoaiBanTin', 'PhienBan', 'MaDoiTac', 'MaThamChieu', 'SoTien', 'LoaiHinhThanhToan', 'MaKenhThanhToan', 'MaThietBi', 'NgonNgu', 'MaTienTe', 'MaNganHang', 'ThongTinGiaoDich', 'ThoiGianGD', 'Ip'];
const CONFIRM_FIELDS = ['LoaiBanTin', 'MaDoiTac', 'MaThamChieu', 'SoTien', 'MaTienTe', 'MaNganHang', 'ThongTinGiaoDich', 'ThoiGianGD'];
const ANSWER_FIELDS = ['MaLoi', 'MaDoiTac', 'MaThamChieu', 'ThoiGianGD'];
const ACCOUNT = { bankBin: '970415', accountNumber: '113000123456', accountName: 'UBND TINH DONG NAI' };

const mac = (message: Record<string, any>, fields: string[], key = KEY) =>
  createHmac('sha256', key).update(fields.map((f) => `${message[f] ?? ''}`).join('|'), 'utf8').digest('hex');

let h: Harness;
let portal: string;
let procedure: string;

beforeAll(async () => {
  h = await createHarness({
    gateways: (env) => ({
      dvcqg: createDvcqgGateway({
        partnerCode: PARTNER,
        secrets: [KEY, OLD_KEY],
        initUrl: `${PLATFORM}/api/v1/init`,
        version: '1.0.6',
        algorithm: 'HMAC-SHA256',
        initFields: INIT_FIELDS,
        confirmFields: CONFIRM_FIELDS,
        answerFields: ANSWER_FIELDS,
        redirectField: 'UrlThanhToan',
        polling: { startDelaySeconds: 600, intervalSeconds: 900, maxAttempts: 8 },
        returnUrl: `${env.baseUrl}/v1/returns/dvcqg`,
        callbackUrl: `${env.baseUrl}/v1/callbacks/dvcqg`,
        fetch: env.fetch,
        now: env.now,
        timeoutMs: 300,
      }),
    }),
  });
  await seedAgencyTree(h.ctx);
  // The province's account collects for every agency under it that has none of its own.
  await upsertAgency(h.ctx, { code: AGENCIES.province, name: 'UBND tỉnh Đồng Nai', level: 'province', parentCode: null, ...ACCOUNT });
  portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province] });
  procedure = await createProcedure(h.ctx, [
    rule({ kind: 'phi', feeCode: 'P01', name: 'Phí thẩm định', lineNo: 1, formula: { type: 'fixed', amount: 50_000 } }),
    rule({ kind: 'le_phi', feeCode: 'LP01', name: 'Lệ phí cấp giấy', lineNo: 2, formula: { type: 'fixed', amount: 135_000 } }),
  ]);
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
function fakeInit(answer: (message: Record<string, any>) => unknown = (m) => ({
  MaLoi: '00',
  MoTaLoi: 'Thanh cong',
  MaThamChieu: m.MaThamChieu,
  MaGiaoDich: `PP${m.MaThamChieu}`,
  UrlThanhToan: `https://thanhtoan.dichvucong.test/pay?ref=${m.MaThamChieu}`,
}), status = 200) {
  const posted: Array<Record<string, any>> = [];
  const scope = nock(PLATFORM)
    .post('/api/v1/init', (body) => (posted.push(body), true))
    .reply(status, () => answer(posted[posted.length - 1]!));
  return { posted, scope };
}

async function dvcqgIntent(): Promise<{ intent: Intent; posted: Record<string, any> }> {
  const dossier = await registerDossier(h, portal, procedure);
  const { posted } = fakeInit();
  const intent = await expectJson<Intent>(await createIntent(h, portal, dossier.code, { gateway: 'dvcqg', payer: { ip: '203.113.10.5' } }), 201);
  return { intent, posted: posted[0]! };
}

function confirm(intent: Pick<Intent, 'reference' | 'amount'>, overrides: Record<string, unknown> = {}, key = KEY) {
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
  return { ...message, MaXacThuc: mac(message, CONFIRM_FIELDS, key) };
}

async function deliver(body: unknown) {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const response = await h.request('POST', '/v1/callbacks/dvcqg', { rawBody: raw, headers: { 'content-type': 'application/json' } });
  const answer = await expectJson(response, 200);
  // Every answer is the platform's shape, signed with the current key.
  expect(Object.keys(answer).sort()).toEqual(['MaDoiTac', 'MaLoi', 'MaThamChieu', 'MaXacThuc', 'MoTaLoi', 'ThoiGianGD']);
  expect(answer.MaXacThuc).toBe(mac(answer, ANSWER_FIELDS));
  return answer;
}

const intentRow = async (id: string) => (await h.db.db.select().from(paymentIntents).where(eq(paymentIntents.id, id)))[0]!;
const obligationRows = (dossierCode: string) => h.db.db.select().from(obligations).where(eq(obligations.dossierCode, dossierCode)).orderBy(obligations.lineNo);
const receiptCount = async (intentId: string) => (await h.db.db.select({ n: count() }).from(receipts).where(eq(receipts.intentId, intentId)))[0]!.n;
const dossierFlag = async (code: string) => {
  const result = await h.db.db.execute(sql`SELECT online_payment_flag FROM dossiers WHERE code = ${code}`);
  const rows = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as Array<{ online_payment_flag: number }>;
  return Number(rows[0]!.online_payment_flag);
};

describe('intent creation', () => {
  it('posts the signed init with the receipt block from the obligations and hands over the platform\'s URL', async () => {
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

describe('confirm callback (DPNhanKQThanhToanHS)', () => {
  it('a verified success pays the intent, issues the receipt and marks the dossier paid through the national platform', async () => {
    const { intent } = await dvcqgIntent();
    expect(await dossierFlag(intent.dossierCode)).toBe(0);
    const answer = await deliver(confirm(intent));
    expect(answer).toMatchObject({ MaLoi: '00', MaDoiTac: PARTNER, MaThamChieu: intent.reference });
    expect(await intentRow(intent.id)).toMatchObject({ status: 'succeeded', gatewayTransactionId: `PP-${intent.reference}` });
    expect((await intentRow(intent.id)).succeededAt).toEqual(new Date('2026-11-20T02:35:12Z'));
    expect(await receiptCount(intent.id)).toBe(1);
    expect((await obligationRows(intent.dossierCode)).map((o) => o.status)).toEqual(['paid', 'paid']);
    expect(await dossierFlag(intent.dossierCode)).toBe(1);

    // The same confirm again: told 00 (recorded), nothing changes.
    const before = await intentRow(intent.id);
    expect(await deliver(confirm(intent))).toMatchObject({ MaLoi: '00' });
    expect(await intentRow(intent.id)).toEqual(before);
    expect(await receiptCount(intent.id)).toBe(1);
    const inbox = await h.db.db.select().from(callbackInbox).where(eq(callbackInbox.reference, intent.reference));
    expect(inbox.map((r) => r.result).sort()).toEqual(['applied', 'duplicate']);
  });

  it('accepts a confirm signed with the previous key (rotation)', async () => {
    const { intent } = await dvcqgIntent();
    expect(await deliver(confirm(intent, {}, OLD_KEY))).toMatchObject({ MaLoi: '00' });
    expect((await intentRow(intent.id)).status).toBe('succeeded');
  });

  it('a declined payment fails the intent and frees its obligations', async () => {
    const { intent } = await dvcqgIntent();
    expect(await deliver(confirm(intent, { MaLoi: '11', MoTaLoi: 'Khach hang huy giao dich' }))).toMatchObject({ MaLoi: '00' });
    expect((await intentRow(intent.id)).status).toBe('failed');
    expect((await obligationRows(intent.dossierCode)).map((o) => [o.status, o.liveIntentId])).toEqual([
      ['unpaid', null],
      ['unpaid', null],
    ]);
    expect(await dossierFlag(intent.dossierCode)).toBe(0);
  });

  it('a bad signature is answered 99 and changes nothing', async () => {
    const { intent } = await dvcqgIntent();
    const before = { intent: await intentRow(intent.id), obligations: await obligationRows(intent.dossierCode) };
    const forged = { ...confirm(intent), SoTien: 1_000 };
    const answer = await deliver(forged);
    expect(answer).toMatchObject({ MaLoi: '99', MaThamChieu: intent.reference, MoTaLoi: expect.stringMatching(/xac thuc/i) });
    expect(await deliver(confirm(intent, {}, 'a-key-nobody-configured'))).toMatchObject({ MaLoi: '99' });
    expect(await deliver('not json at all')).toMatchObject({ MaLoi: '99', MaThamChieu: '' });
    expect({ intent: await intentRow(intent.id), obligations: await obligationRows(intent.dossierCode) }).toEqual(before);
    expect(await receiptCount(intent.id)).toBe(0);
    const [stored] = await h.db.db.select().from(callbackInbox).where(eq(callbackInbox.rawBody, JSON.stringify(forged)));
    expect(stored).toMatchObject({ status: 'rejected', signatureValid: 'invalid', result: 'bad_signature', reference: intent.reference });
  });

  it('another amount is answered 99 and the intent is not paid', async () => {
    const { intent } = await dvcqgIntent();
    expect(await deliver(confirm(intent, { SoTien: intent.amount - 1 }))).toMatchObject({ MaLoi: '99' });
    expect((await intentRow(intent.id)).status).not.toBe('succeeded');
    expect(await receiptCount(intent.id)).toBe(0);
  });

  it('an unknown MaThamChieu is answered 99', async () => {
    expect(await deliver(confirm({ reference: 'HPZZZZZZZZZZ', amount: 185_000 }))).toMatchObject({
      MaLoi: '99',
      MaThamChieu: 'HPZZZZZZZZZZ',
      MoTaLoi: expect.stringMatching(/tham chieu/i),
    });
  });
});

describe('POST /v1/dvcqg/payment-lookup (DPTraCuuThanhToanHS)', () => {
  const lookup = (body: unknown, token: string | null = portal) =>
    h.request('POST', '/v1/dvcqg/payment-lookup', typeof body === 'string' ? { token, rawBody: body, headers: { 'content-type': 'application/json' } } : { token, body });

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
    await deliver(confirm(intent));
    expect(await expectJson(await lookup({ MaHoSo: intent.dossierCode }), 200)).toEqual({ error_code: 0, message: 'already paid' });

    const free = await createProcedure(h.ctx, [rule({ formula: { type: 'fixed', amount: 0 } })]);
    const exempt = await registerDossier(h, portal, free);
    expect(await expectJson(await lookup({ MaHoSo: exempt.code }), 200)).toEqual({ error_code: 0, message: 'nothing to pay' });
  });

  it('answers -1 alike for an unknown dossier and for one outside the caller\'s agencies', async () => {
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
