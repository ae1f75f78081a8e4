import { and, eq, like } from 'drizzle-orm';
import { Hono } from 'hono';
import { z } from 'zod';
import { deliver, type EmulatorDeps, emulatorForm, emulatorJson, formFields, parseJsonObject, randomDigits, withQuery } from './common.ts';
import { renderDvcqgPayment, renderEmulatorMessage } from './pages.ts';
import {
  hashOf,
  MAX_REFERENCE_LENGTH,
  type PlatformAlgorithm,
  platformMac,
  platformMacVerifies,
  QUERY_FIELDS,
  QUERY_MESSAGE_TYPE,
  REFUSED,
  SUCCESS,
} from './protocol/dvcqg.ts';
import { hmacHex, signedByAny } from './protocol/hmac.ts';
import { gmt7 } from './protocol/time.ts';
import { sandboxTransactions } from './schema.ts';
import { badStatementDate, csv, decidedOnDay, statementDay, statementDownload } from './statement-files.ts';

/**
 * The national portal's payment platform (PP-DVCQG, shared/domain/gateways.md §3), hosted by the
 * hub for the offline demo: the init at `/sandbox/dvcqg/init`, the payer's page, the signed
 * confirm (DPNhanKQThanhToanHS) it then posts to the province, and a status query. Field orders
 * and algorithm come from the same configuration as the hub's, as both sides are enrolled with.
 */
export interface DvcqgEmulatorDeps extends EmulatorDeps {
  config: DvcqgEmulatorSettings;
}

/** The partner's enrolment, as the platform holds it: the same values the hub's gateway is configured with. */
export interface DvcqgEmulatorSettings {
  partnerCode: string;
  /** The first signs, every one verifies (rotation). */
  secrets: readonly string[];
  algorithm: PlatformAlgorithm;
  initFields: readonly string[];
  confirmFields: readonly string[];
  redirectField: string;
  /** Where the partner sends its init: the emulator is mounted only when it is here. */
  initUrl: string;
}

const CHANNEL = 'NỀN TẢNG THANH TOÁN CỔNG DỊCH VỤ CÔNG QUỐC GIA';
/** The platform's own transaction ids: "PP", the date, a number. Other channels' ids differ. */
const ID_PREFIX = 'PP';
/** MaLoi of a payment the payer cancelled on the platform's page. */
const CANCELLED = '11';
/** Where the platform sends the payer to choose: banks and intermediaries it connects to. */
const BANKS = [
  { code: 'VCB', name: 'Vietcombank' },
  { code: 'BIDV', name: 'BIDV' },
  { code: 'ICB', name: 'VietinBank' },
  { code: 'VBA', name: 'Agribank' },
  { code: 'VNPAY', name: 'Ví VNPAY' },
  { code: 'MOMO', name: 'Ví MoMo' },
] as const;

const positiveVnd = z
  .string()
  .regex(/^[1-9]\d{0,15}$/)
  .transform(Number);
const initSchema = z.object({
  MaThamChieu: z.string().min(1).max(MAX_REFERENCE_LENGTH),
  SoTien: positiveVnd,
  MaTienTe: z.literal('VND'),
  ThongTinGiaoDich: z.string().max(255).default(''),
  ThongTinBienLai: z.object({
    MaDichVu: z.literal('2'),
    MaHoSo: z.string().min(1).max(100),
    TenTTHC: z.string().max(1000).default(''),
    TenDonVi: z.string().max(500).default(''),
    TKThuHuong: z.string().min(1).max(40),
    MaNHThuHuong: z.string().min(1).max(20),
    TenTKThuHuong: z.string().max(200).default(''),
    HoTenNguoiNop: z.string().max(200).default(''),
    PhiLePhi: z
      .array(
        z.object({
          LoaiPhiLePhi: z.enum(['1', '2']),
          TenPhiLePhi: z.string().max(500),
          SoTien: z
            .string()
            .regex(/^\d{1,16}$/)
            .transform(Number),
        }),
      )
      .min(1)
      .max(50),
    DSKhoanNop: z
      .array(
        z.object({
          NoiDung: z.string().max(500),
          SoTien: z
            .string()
            .regex(/^\d{1,16}$/)
            .transform(Number),
        }),
      )
      .max(50)
      .default([]),
  }),
});

/** What the payer's page shows, carried in its URL under the platform's signature. */
const paySchema = z.object({
  SoTien: z.number().int().positive(),
  MaGiaoDich: z.string(),
  ThongTinGiaoDich: z.string(),
  MaHoSo: z.string(),
  TenTTHC: z.string(),
  TenDonVi: z.string(),
  TKThuHuong: z.string(),
  MaNHThuHuong: z.string(),
  TenTKThuHuong: z.string(),
  HoTenNguoiNop: z.string(),
  PhiLePhi: z.array(z.object({ LoaiPhiLePhi: z.string(), TenPhiLePhi: z.string(), SoTien: z.number().int().nonnegative() })),
});
type PayDetails = z.infer<typeof paySchema>;

const toBase64Url = (text: string) =>
  btoa(Array.from(new TextEncoder().encode(text), (b) => String.fromCharCode(b)).join(''))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
const fromBase64Url = (text: string) =>
  new TextDecoder().decode(Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (ch) => ch.charCodeAt(0)));

export function createDvcqgEmulator(deps: DvcqgEmulatorDeps) {
  const app = new Hono();
  const { partnerCode, secrets, algorithm } = deps.config;
  const [secret] = secrets;
  if (!secret) throw new Error('the national platform emulator needs the partner key');
  // The page link is the emulator's own: an HMAC with the partner key, whatever MaXacThuc's algorithm.
  const hash = hashOf(algorithm);
  const base = deps.publicBaseUrl;
  // The partner's enrolment: the province's confirm endpoint and return page (as buildGateways gives the adapter).
  const callbackUrl = `${base}/v1/callbacks/dvcqg`;
  const returnUrl = `${base}/v1/returns/dvcqg`;

  const findTransaction = async (reference: string) => {
    const [row] = await deps.db
      .select()
      .from(sandboxTransactions)
      .where(and(eq(sandboxTransactions.reference, reference), like(sandboxTransactions.transactionId, `${ID_PREFIX}%`)));
    return row;
  };
  type Transaction = NonNullable<Awaited<ReturnType<typeof findTransaction>>>;

  const sign = (message: Record<string, unknown>, fields: readonly string[]) => platformMac(message, fields, secret!, algorithm);

  /** The page link, signed so the payer cannot change what is paid or to whom. */
  function payUrl(reference: string, details: PayDetails): string {
    const data = toBase64Url(JSON.stringify(details));
    const signature = hmacHex(hash, secret!, `pay|${reference}|${data}`);
    return `${base}/sandbox/dvcqg/pay/${encodeURIComponent(reference)}?d=${data}&sig=${signature}`;
  }

  function readPayLink(reference: string, data: string | undefined, signature: string | undefined): PayDetails | null {
    if (!data || !signature || !signedByAny(hash, secrets, `pay|${reference}|${data}`, signature)) return null;
    try {
      const parsed = paySchema.safeParse(JSON.parse(fromBase64Url(data)));
      return parsed.success ? parsed.data : null;
    } catch {
      return null;
    }
  }

  /** The confirm (DPNhanKQThanhToanHS) of a decided payment. */
  function confirmMessage(txn: Transaction, details: PayDetails, bank: string) {
    const paid = txn.status === 'succeeded';
    const message: Record<string, unknown> = {
      LoaiBanTin: 'CONFIRM',
      MaLoi: paid ? SUCCESS : CANCELLED,
      ...(paid ? {} : { MoTaLoi: 'Khach hang huy giao dich' }),
      MaDoiTac: partnerCode,
      MaThamChieu: txn.reference,
      SoTien: txn.amount,
      MaTienTe: 'VND',
      MaGiaoDich: txn.transactionId,
      MaNganHang: bank,
      ThoiGianGD: gmt7(txn.createdAt),
      ThongTinGiaoDich: details.ThongTinGiaoDich,
    };
    message.MaXacThuc = sign(message, deps.config.confirmFields);
    return message;
  }

  app.post('/sandbox/dvcqg/init', emulatorJson(), async (c) => {
    const body = parseJsonObject(await c.req.text());
    const reference = typeof body?.MaThamChieu === 'string' ? body.MaThamChieu.slice(0, 64) : '';
    const refuse = (code: string, text: string) => c.json({ MaLoi: code, MoTaLoi: text, MaThamChieu: reference });
    if (!body) return refuse(REFUSED, 'Ban tin khong hop le');
    if (body.MaDoiTac !== partnerCode) return refuse('01', 'Ma doi tac khong hop le');
    if (!platformMacVerifies(body, deps.config.initFields, secrets, algorithm)) return refuse(REFUSED, 'Sai ma xac thuc');
    const parsed = initSchema.safeParse(body);
    if (!parsed.success) return refuse(REFUSED, `Ban tin khong hop le: ${parsed.error.issues[0]?.path.join('.')}`);
    const init = parsed.data;
    const receipt = init.ThongTinBienLai;
    const total = receipt.PhiLePhi.reduce((sum, line) => sum + line.SoTien, 0);
    if (total !== init.SoTien) return refuse(REFUSED, 'Tong cac khoan phi, le phi khac SoTien');
    const items = receipt.DSKhoanNop.reduce((sum, item) => sum + item.SoTien, 0);
    if (receipt.DSKhoanNop.length > 0 && items !== init.SoTien) return refuse(REFUSED, 'Tong cac khoan nop khac SoTien');

    const now = deps.now();
    await deps.db
      .insert(sandboxTransactions)
      .values({
        reference: init.MaThamChieu,
        transactionId: `${ID_PREFIX}${gmt7(now).slice(2, 8)}${randomDigits(7)}`,
        amount: init.SoTien,
        status: 'pending',
        createdAt: now,
      })
      .onConflictDoNothing();
    const txn = await findTransaction(init.MaThamChieu);
    // A repeated init (the province retrying) gets the same transaction, if nothing changed.
    if (!txn || txn.amount !== init.SoTien) return refuse(REFUSED, 'Ma tham chieu da duoc su dung');
    if (txn.status !== 'pending') return refuse(REFUSED, 'Giao dich da duoc xu ly');
    const url = payUrl(init.MaThamChieu, {
      SoTien: init.SoTien,
      MaGiaoDich: txn.transactionId,
      ThongTinGiaoDich: init.ThongTinGiaoDich,
      MaHoSo: receipt.MaHoSo,
      TenTTHC: receipt.TenTTHC,
      TenDonVi: receipt.TenDonVi,
      TKThuHuong: receipt.TKThuHuong,
      MaNHThuHuong: receipt.MaNHThuHuong,
      TenTKThuHuong: receipt.TenTKThuHuong,
      HoTenNguoiNop: receipt.HoTenNguoiNop,
      PhiLePhi: receipt.PhiLePhi.map((l) => ({ LoaiPhiLePhi: l.LoaiPhiLePhi, TenPhiLePhi: l.TenPhiLePhi, SoTien: l.SoTien })),
    });
    return c.json({
      MaLoi: SUCCESS,
      MoTaLoi: 'Thanh cong',
      MaThamChieu: init.MaThamChieu,
      MaGiaoDich: txn.transactionId,
      [deps.config.redirectField]: url,
    });
  });

  app.get('/sandbox/dvcqg/pay/:reference', async (c) => {
    const reference = c.req.param('reference');
    const details = readPayLink(reference, c.req.query('d'), c.req.query('sig'));
    if (!details)
      return c.html(renderEmulatorMessage(CHANNEL, 'Liên kết không hợp lệ', 'Liên kết thanh toán bị sửa đổi hoặc không đầy đủ.'), 400);
    const txn = await findTransaction(reference);
    if (!txn)
      return c.html(
        renderEmulatorMessage(CHANNEL, 'Không tìm thấy giao dịch', 'Nền tảng không có giao dịch nào với mã tham chiếu này.'),
        404,
      );
    if (txn.status !== 'pending') {
      const text = txn.status === 'succeeded' ? 'Giao dịch đã được thanh toán.' : 'Giao dịch đã bị huỷ.';
      return c.html(renderEmulatorMessage(CHANNEL, 'Giao dịch đã được xử lý', text));
    }
    return c.html(
      renderDvcqgPayment({
        reference,
        transactionId: txn.transactionId,
        amount: details.SoTien,
        description: details.ThongTinGiaoDich,
        dossierCode: details.MaHoSo,
        procedureName: details.TenTTHC,
        agencyName: details.TenDonVi,
        account: { number: details.TKThuHuong, bank: details.MaNHThuHuong, name: details.TenTKThuHuong },
        payerName: details.HoTenNguoiNop,
        lines: details.PhiLePhi.map((l) => ({ kind: l.LoaiPhiLePhi, name: l.TenPhiLePhi, amount: l.SoTien })),
        banks: BANKS,
        hidden: { d: c.req.query('d')!, sig: c.req.query('sig')! },
      }),
    );
  });

  app.post('/sandbox/dvcqg/pay/:reference', emulatorForm(), async (c) => {
    const reference = c.req.param('reference');
    const form = await formFields(c.req);
    const details = readPayLink(reference, form.d, form.sig);
    const bank = BANKS.find((b) => b.code === form.MaNganHang)?.code;
    if (!details || !bank || (form.choice !== 'pay' && form.choice !== 'cancel')) {
      return c.html(renderEmulatorMessage(CHANNEL, 'Yêu cầu không hợp lệ', 'Không thể xác nhận giao dịch này.'), 400);
    }
    // One decision per transaction: a second click replays the first.
    await deps.db
      .update(sandboxTransactions)
      .set({ status: form.choice === 'pay' ? 'succeeded' : 'declined', createdAt: deps.now() })
      .where(
        and(
          eq(sandboxTransactions.reference, reference),
          eq(sandboxTransactions.status, 'pending'),
          like(sandboxTransactions.transactionId, `${ID_PREFIX}%`),
        ),
      );
    const txn = await findTransaction(reference);
    if (!txn)
      return c.html(
        renderEmulatorMessage(CHANNEL, 'Không tìm thấy giao dịch', 'Nền tảng không có giao dịch nào với mã tham chiếu này.'),
        404,
      );
    const confirm = confirmMessage(txn, details, bank);
    // Delivered again while the province does not answer, or answers 5xx ("send again").
    await deliver(
      deps,
      'dvcqg',
      (signal) =>
        deps.fetch(callbackUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(confirm), signal }),
      (status, body) => status < 500 && parseJsonObject(body) !== undefined,
    );
    const back = new URLSearchParams(Object.entries(confirm).map(([k, v]) => [k, String(v)]));
    return c.redirect(withQuery(returnUrl, back.toString()), 303);
  });

  /**
   * The platform's reconciliation file for the partner: every payment decided on that Vietnamese
   * day, in the confirm's own field names and values (MaLoi as TrangThai, ThoiGianGD as
   * yyyyMMddHHmmss), `;`-separated, without a byte order mark.
   */
  app.get('/sandbox/dvcqg/statement', async (c) => {
    const day = statementDay(c.req.query('date'), deps.now());
    if (!day) return badStatementDate(c);
    const rows = await decidedOnDay(deps.db, day, like(sandboxTransactions.transactionId, `${ID_PREFIX}%`));
    const header = ['MaGiaoDich', 'MaThamChieu', 'SoTien', 'ThoiGianGD', 'TrangThai'];
    const lines = rows.map((row) => [
      row.transactionId,
      row.reference,
      row.amount,
      gmt7(row.at),
      row.status === 'succeeded' ? SUCCESS : CANCELLED,
    ]);
    const file = csv([header, ...lines], { separator: ';', lineEnd: '\n', bom: false });
    return statementDownload(c, `DVCQG_${partnerCode}_${day.date.replaceAll('-', '')}.csv`, file);
  });

  /** The status query, answered in the confirm's layout with TrangThaiGD: 1 paid, 3 pending, 4 failed. */
  app.post('/sandbox/dvcqg/query', emulatorJson(), async (c) => {
    const body = parseJsonObject(await c.req.text());
    const reference = typeof body?.MaThamChieu === 'string' ? body.MaThamChieu.slice(0, 64) : '';
    const signed = (message: Record<string, unknown>) => {
      const full = { LoaiBanTin: QUERY_MESSAGE_TYPE, MaDoiTac: partnerCode, MaThamChieu: reference, ...message };
      return c.json({ ...full, MaXacThuc: sign(full, deps.config.confirmFields) });
    };
    if (!body || body.MaDoiTac !== partnerCode) return signed({ MaLoi: '01', MoTaLoi: 'Ma doi tac khong hop le' });
    if (!platformMacVerifies(body, QUERY_FIELDS, secrets, algorithm)) return signed({ MaLoi: REFUSED, MoTaLoi: 'Sai ma xac thuc' });
    const txn = await findTransaction(reference);
    if (!txn) return signed({ MaLoi: '01', MoTaLoi: 'Khong tim thay giao dich' });
    const state = txn.status === 'pending' ? '3' : txn.status === 'succeeded' ? '1' : '4';
    return signed({
      MaLoi: SUCCESS,
      SoTien: txn.amount,
      MaTienTe: 'VND',
      MaGiaoDich: state === '3' ? '' : txn.transactionId,
      MaNganHang: '',
      ThoiGianGD: gmt7(txn.createdAt),
      ThongTinGiaoDich: '',
      TrangThaiGD: state,
    });
  });

  return app;
}
