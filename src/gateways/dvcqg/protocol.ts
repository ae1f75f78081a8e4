import { z } from 'zod';
import { vnCompactTimestamp } from '../../domain/dates.ts';
import { isVnd, sumVnd } from '../../domain/money.ts';
import { hmacHex, keyAppendedSha256Hex, verifyKeyAppendedWithAny, verifyWithAny } from '../hmac.ts';
import { parseJsonObject } from '../json.ts';
import type {
  CallbackResult,
  GatewayOutcome,
  PayableBill,
  PaymentRequest,
  PortalPaymentInfo,
  ReceiptBlock,
  StatusQueryResult,
} from '../types.ts';
import { parseVnCompactTimestamp, removeVietnameseDiacritics } from '../vnpay/protocol.ts';

/**
 * The national public service portal's payment platform (PP-DVCQG, shared/domain/gateways.md §3)
 * as pure functions: no I/O, no clock, Web Crypto only.
 *
 * No official specification is published. The layout follows the domain file; the constants it
 * leaves open (`LoaiBanTin` of each message, the init's fixed fields, the query's hash fields and
 * its `TrangThaiGD` codes) are those of an open-source provincial one-stop system in production
 * (TD.DichVuCongApi: InitDvcPaymentRequest, CheckPaymentStatusRequest). Field orders and the
 * algorithm come from configuration, since the platform's versions differ.
 */

/**
 * How MaXacThuc is made. `SHA256-KEY` (the default): hex(SHA-256(field1|…|fieldN|secretKey)), as
 * the production integrations compute it (OpenCPS `PayGateUtil.generateChecksum` on
 * release-candidate-3.0, and a .NET provincial integration's `CreateMaXacThuc`: UTF-8, lower-case
 * hex). `HMAC-SHA256` / `HMAC-SHA512`: the HMAC of the joined fields under the key, as OpenCPS's
 * earlier versions sign; kept for a platform version that still does.
 */
export const DVCQG_ALGORITHMS = ['SHA256-KEY', 'HMAC-SHA256', 'HMAC-SHA512'] as const;
export type DvcqgAlgorithm = (typeof DVCQG_ALGORITHMS)[number];

/** Message-type and fixed-field values; each can be overridden where a platform version differs. */
export interface DvcqgConstants {
  initMessageType: string;
  queryMessageType: string;
  paymentType: string;
  paymentChannel: string;
  device: string;
  language: string;
  bankCode: string;
  /** LoaiBanTin|PhienBan|MaDoiTac|MaThamChieu|ThoiGianGD in the open-source system. */
  queryFields: readonly string[];
  /** Query answers' MaLoi meaning "no such transaction": not published, so none by default. */
  notFoundCodes: readonly string[];
}

export const DVCQG_DEFAULTS: Readonly<DvcqgConstants> = Object.freeze({
  initMessageType: 'INIT',
  queryMessageType: 'QUERY',
  paymentType: 'PAY',
  paymentChannel: '1',
  device: '1',
  language: 'vi-VN',
  // "PAYMENT": the payer chooses the bank or intermediary on the platform's own page.
  bankCode: 'PAYMENT',
  queryFields: Object.freeze(['LoaiBanTin', 'PhienBan', 'MaDoiTac', 'MaThamChieu', 'ThoiGianGD']),
  notFoundCodes: Object.freeze([]),
});

export const SUCCESS = '00';
const REFUSED = '99';
/** MaThamChieu is at most 20 characters on the platform. */
const MAX_REFERENCE_LENGTH = 20;

const hmacAlgorithm = (algorithm: Exclude<DvcqgAlgorithm, 'SHA256-KEY'>) => (algorithm === 'HMAC-SHA512' ? 'SHA-512' : 'SHA-256');
const hexLength = (algorithm: DvcqgAlgorithm) => (algorithm === 'HMAC-SHA512' ? 128 : 64);

// ---------------------------------------------------------------------------------------------
// MaXacThuc
// ---------------------------------------------------------------------------------------------

/** The fields' values joined by `|`: absent fields count as '', numbers as their digits. */
export function signString(message: Readonly<Record<string, unknown>>, fields: readonly string[]): string {
  return fields
    .map((field) => {
      const value = message[field];
      if (value === undefined || value === null) return '';
      if (typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'boolean') return String(value);
      throw new TypeError(`field ${field} is not a scalar`);
    })
    .join('|');
}

export async function authenticationCode(
  algorithm: DvcqgAlgorithm,
  secret: string,
  message: Readonly<Record<string, unknown>>,
  fields: readonly string[],
): Promise<string> {
  const text = signString(message, fields);
  if (algorithm === 'SHA256-KEY') return keyAppendedSha256Hex(text, secret);
  return hmacHex(hmacAlgorithm(algorithm), secret, text);
}

/**
 * True when the message's MaXacThuc is the code of `fields` under any of the secrets (rotation),
 * every secret tried and compared in constant time, the hex in either case.
 */
export async function verifyAuthenticationCode(
  algorithm: DvcqgAlgorithm,
  secrets: readonly string[],
  message: unknown,
  fields: readonly string[],
): Promise<boolean> {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return false;
  const record = message as Record<string, unknown>;
  const code = record.MaXacThuc;
  if (typeof code !== 'string' || code.length !== hexLength(algorithm) || !/^[0-9a-fA-F]+$/.test(code)) return false;
  let signed: string;
  try {
    signed = signString(record, fields);
  } catch {
    return false;
  }
  if (algorithm === 'SHA256-KEY') return verifyKeyAppendedWithAny(secrets, signed, code);
  return verifyWithAny(hmacAlgorithm(algorithm), secrets, signed, code);
}

// ---------------------------------------------------------------------------------------------
// Init
// ---------------------------------------------------------------------------------------------

/**
 * The receipt block's values the hub cannot know from a dossier: the operator's enrolment with the
 * platform, each with a documented default.
 */
export interface ReceiptSettings {
  /**
   * MaDVC (the national public-service code) is the procedure's code followed by this. Default
   * '' (MaDVC = MaTTHC); the .NET integration appends `.01`, OpenCPS a configured suffix.
   */
  serviceCodeSuffix: string;
  /** KhoBac, the State Treasury office; default '' as OpenCPS sends it for procedure fees (MaDichVu 2). */
  treasury: string;
}

export const DVCQG_RECEIPT_DEFAULTS: Readonly<ReceiptSettings> = Object.freeze({ serviceCodeSuffix: '', treasury: '' });

export interface InitSettings {
  partnerCode: string;
  version: string;
  algorithm: DvcqgAlgorithm;
  secret: string;
  fields: readonly string[];
  constants: DvcqgConstants;
  receipt: ReceiptSettings;
}

/** One receipt line: LoaiPhiLePhi 1 is a phí (fee), 2 a lệ phí (charge). */
function feeLines(lines: PaymentRequest['lines']) {
  return lines.map((line) => ({
    LoaiPhiLePhi: line.kind === 'phi' ? ('1' as const) : ('2' as const),
    MaPhiLePhi: line.feeCode,
    TenPhiLePhi: line.name,
    SoTien: String(line.amount),
  }));
}

/** Printable ASCII without diacritics, as the platform's transaction text. */
function asciiText(text: string, max = 210): string {
  return removeVietnameseDiacritics(text)
    .replace(/[^\x20-\x7e]/g, ' ')
    .replace(/\|/g, ' ') // `|` separates the signed fields
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, max);
}

/**
 * ThongTinBienLai, the receipt the platform issues for the payment, with every field the
 * production integrations send (gateways.md §3): the dossier, procedure and agency, the payee
 * account the money is routed to, the fee lines (also as DSKhoanNop, the budget items), and the
 * payer. MaCoQuanQD/TenCoQuanQD are the dossier's agency, which decides on it and charges the
 * fees; NgayQD is the day the bill is stated (OpenCPS's look-up sends that day); TaiKhoanThuNSNN,
 * optional, is sent only when every line names the same state-budget account.
 */
export function receiptBlock(bill: PayableBill, settings: ReceiptSettings): ReceiptBlock {
  const budgetAccounts = new Set(bill.lines.map((line) => line.budgetAccount ?? ''));
  const [budgetAccount] = budgetAccounts;
  return {
    MaDichVu: '2', // procedure fees and charges
    MaHoSo: bill.dossierCode,
    MaDVC: `${bill.procedureCode}${settings.serviceCodeSuffix}`,
    TenDVC: bill.procedureName,
    MaTTHC: bill.procedureCode,
    TenTTHC: bill.procedureName,
    MaDonVi: bill.agencyCode,
    TenDonVi: bill.agencyName,
    TKThuHuong: bill.collectionAccount.accountNumber,
    MaNHThuHuong: bill.collectionAccount.bankBin,
    TenTKThuHuong: bill.collectionAccount.accountName,
    ...(budgetAccounts.size === 1 && budgetAccount ? { TaiKhoanThuNSNN: budgetAccount } : {}),
    PhiLePhi: feeLines(bill.lines),
    NoiDungThanhToan: asciiText(bill.description),
    MaCoQuanQD: bill.agencyCode,
    TenCoQuanQD: bill.agencyName,
    KhoBac: settings.treasury,
    NgayQD: vnCompactTimestamp(bill.at).slice(0, 8),
    DSKhoanNop: bill.lines.map((line) => ({ NoiDung: line.name, SoTien: String(line.amount) })),
    HoTenNguoiNop: bill.payer.name ?? '',
    SoCMNDNguoiNop: bill.payer.idNumber ?? '',
    DiaChiNguoiNop: bill.payer.address ?? '',
  };
}

/**
 * The portal's look-up (DPTraCuuThanhToanHS) answer's payment information, as OpenCPS's
 * KeypayDVCQGUtils lays it out: the receipt block, its total, MaTraCuuTT (the dossier code and
 * the look-up's yyyyMMddHHmmss), and `client_id`, the partner code the platform knows the province
 * by. The hub keeps no state per look-up: `transaction_id` is that look-up code too.
 */
export function portalPaymentInfo(bill: PayableBill, settings: ReceiptSettings & { partnerCode: string }): PortalPaymentInfo {
  const lookupCode = `${bill.dossierCode}${vnCompactTimestamp(bill.at)}`;
  return {
    transaction_id: lookupCode,
    client_id: settings.partnerCode,
    MaTraCuuTT: lookupCode,
    ...receiptBlock(bill, settings),
    SoTien: String(sumVnd(bill.lines.map((line) => line.amount))),
  };
}

export async function buildInitMessage(request: PaymentRequest, settings: InitSettings) {
  if (request.reference.length > MAX_REFERENCE_LENGTH) {
    throw new RangeError(`MaThamChieu ${request.reference} is longer than ${MAX_REFERENCE_LENGTH} characters`);
  }
  if (!isVnd(request.amount) || request.amount === 0) throw new RangeError('SoTien must be a positive integer VND amount');
  if (!request.collectionAccount) throw new Error("the national platform needs the collecting agency's account");
  const c = settings.constants;
  const message: Record<string, unknown> = {
    LoaiBanTin: c.initMessageType,
    PhienBan: settings.version,
    MaDoiTac: settings.partnerCode,
    MaThamChieu: request.reference,
    SoTien: String(request.amount),
    LoaiHinhThanhToan: c.paymentType,
    MaKenhThanhToan: c.paymentChannel,
    MaThietBi: c.device,
    NgonNgu: c.language,
    MaTienTe: 'VND',
    MaNganHang: c.bankCode,
    ThongTinGiaoDich: asciiText(request.description),
    ThoiGianGD: vnCompactTimestamp(request.createdAt),
    Ip: request.payer.ip,
    ThongTinBienLai: receiptBlock({ ...request, collectionAccount: request.collectionAccount, at: request.createdAt }, settings.receipt),
  };
  message.MaXacThuc = await authenticationCode(settings.algorithm, settings.secret, message, settings.fields);
  return message;
}

export type InitAnswer = { ok: true; url: string; transactionId?: string } | { ok: false; reason: string };

const asRecord = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;

/**
 * The platform's answer to an init. The domain file's success is `MaLoi: "00"` with the redirect
 * in `redirectField`; the open-source system reads `{ error_code: "0", message: "<JSON>" }`
 * with the redirect inside `message`. Both are read; anything else is a refusal.
 */
export function readInitAnswer(body: unknown, redirectField: string): InitAnswer {
  let answer = asRecord(body);
  if (!answer) return { ok: false, reason: 'the answer is not a JSON object' };
  if (answer.MaLoi === undefined && answer.error_code !== undefined) {
    if (String(answer.error_code) !== '0') return { ok: false, reason: `error_code ${String(answer.error_code)}` };
    // The message is JSON text in the open-source system's envelope; an object is taken as well.
    answer = typeof answer.message === 'string' ? parseJsonObject(answer.message) : asRecord(answer.message);
    if (!answer) return { ok: false, reason: "the answer's message is not a JSON object" };
    if (answer.MaLoi !== undefined && answer.MaLoi !== SUCCESS) return { ok: false, reason: `MaLoi ${String(answer.MaLoi)}` };
  } else if (answer.MaLoi !== SUCCESS) {
    const detail = typeof answer.MoTaLoi === 'string' ? `: ${answer.MoTaLoi.slice(0, 200)}` : '';
    return { ok: false, reason: `MaLoi ${String(answer.MaLoi)}${detail}` };
  }
  const url = answer[redirectField];
  if (typeof url !== 'string' || !/^https?:$/.test(safeProtocol(url))) {
    return { ok: false, reason: `no http(s) URL in ${redirectField}` };
  }
  const transactionId = typeof answer.MaGiaoDich === 'string' && answer.MaGiaoDich.length > 0 ? answer.MaGiaoDich : undefined;
  return { ok: true, url, transactionId };
}

function safeProtocol(url: string): string {
  try {
    return new URL(url).protocol;
  } catch {
    return '';
  }
}

// ---------------------------------------------------------------------------------------------
// Confirm (DPNhanKQThanhToanHS) and the status query's answer
// ---------------------------------------------------------------------------------------------

const amountField = z
  .union([
    z.number(),
    z
      .string()
      .regex(/^\d{1,16}$/)
      .transform(Number),
  ])
  .refine(isVnd, 'integer VND');

export const confirmSchema = z.object({
  LoaiBanTin: z.string().optional(),
  MaLoi: z.string().min(1).max(10),
  MoTaLoi: z.string().optional(),
  MaThamChieu: z.string().min(1).max(MAX_REFERENCE_LENGTH),
  SoTien: amountField.optional(),
  MaTienTe: z.string().optional(),
  MaGiaoDich: z.string().max(100).optional(),
  MaNganHang: z.string().optional(),
  ThoiGianGD: z.string().optional(),
  ThongTinGiaoDich: z.string().optional(),
  TrangThaiGD: z.string().optional(),
});
export type ConfirmMessage = z.infer<typeof confirmSchema>;

/** The confirm's fields are signed with the partner code even when the message leaves it out. */
export function withPartnerCode(message: Record<string, unknown>, partnerCode: string): Record<string, unknown> {
  return message.MaDoiTac === undefined ? { ...message, MaDoiTac: partnerCode } : message;
}

export type ConfirmReading = { ok: true; outcome: GatewayOutcome } | { ok: false; detail: string };

/** The outcome a verified confirm (or a settled query answer) states. */
export function paymentOutcome(message: ConfirmMessage, succeeded: boolean, failure = `MaLoi ${message.MaLoi}`): ConfirmReading {
  if (!succeeded) {
    const reason = `${failure}${message.MoTaLoi ? `: ${message.MoTaLoi.slice(0, 200)}` : ''}`;
    // A decline that states no amount (SoTien 0 or absent) is not taken as one for another amount.
    const amount = message.SoTien ? message.SoTien : undefined;
    return { ok: true, outcome: { kind: 'failed', reason, transactionId: message.MaGiaoDich || undefined, amount } };
  }
  if (message.SoTien === undefined) return { ok: false, detail: 'a success without SoTien' };
  if (!message.MaGiaoDich) return { ok: false, detail: 'a success without MaGiaoDich' };
  if (message.MaTienTe !== 'VND') {
    // Money moved, but not in the currency asked for: held for a person, never taken as paid.
    return {
      ok: true,
      outcome: {
        kind: 'needs_review',
        reason: `paid in ${message.MaTienTe ?? 'no stated currency'}, not VND`,
        amount: message.SoTien,
        transactionId: message.MaGiaoDich,
      },
    };
  }
  return {
    ok: true,
    outcome: {
      kind: 'succeeded',
      amount: message.SoTien,
      transactionId: message.MaGiaoDich,
      paidAt: parseVnCompactTimestamp(message.ThoiGianGD) ?? undefined,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The province's answer to a confirm
// ---------------------------------------------------------------------------------------------

/**
 * What the platform is told. `00` whenever the hub has recorded the payment and asking again
 * would change nothing (applied, duplicate, already final, held for review); `99` when the hub
 * does not take it as the payment of that bill: unknown reference, bad signature, a message it
 * cannot read, or another amount (like VNPay's 04, so the platform's reconciliation sees it too;
 * the hub has recorded it for review either way). A processing error is `99` with HTTP 503, the
 * one answer meant as "deliver again" (the message is in the inbox and is re-processed anyway).
 */
export const ANSWERS: Readonly<Record<CallbackResult, { code: string; text: string; status: number }>> = Object.freeze({
  applied: { code: SUCCESS, text: 'Thanh cong', status: 200 },
  duplicate: { code: SUCCESS, text: 'Giao dich da duoc ghi nhan truoc do', status: 200 },
  already_final: { code: SUCCESS, text: 'Giao dich da duoc ghi nhan; trang thai ho so khong thay doi', status: 200 },
  needs_review: { code: SUCCESS, text: 'Giao dich da duoc ghi nhan va chuyen doi soat', status: 200 },
  amount_mismatch: { code: REFUSED, text: 'So tien khong khop voi yeu cau thanh toan; giao dich duoc giu lai de doi soat', status: 200 },
  unknown_reference: { code: REFUSED, text: 'Khong tim thay ma tham chieu', status: 200 },
  bad_signature: { code: REFUSED, text: 'Sai ma xac thuc', status: 200 },
  stale: { code: REFUSED, text: 'Ban tin da qua han', status: 200 },
  malformed: { code: REFUSED, text: 'Ban tin khong hop le', status: 200 },
  error: { code: REFUSED, text: 'Loi he thong, vui long gui lai', status: 503 },
});

export async function buildAnswer(input: {
  result: CallbackResult;
  partnerCode: string;
  reference: string;
  now: Date;
  algorithm: DvcqgAlgorithm;
  secret: string;
  fields: readonly string[];
}) {
  const answer = ANSWERS[input.result];
  const body: Record<string, unknown> = {
    MaLoi: answer.code,
    MoTaLoi: answer.text,
    MaDoiTac: input.partnerCode,
    MaThamChieu: input.reference,
    ThoiGianGD: vnCompactTimestamp(input.now),
  };
  body.MaXacThuc = await authenticationCode(input.algorithm, input.secret, body, input.fields);
  return { status: answer.status, body };
}

// ---------------------------------------------------------------------------------------------
// Status query
// ---------------------------------------------------------------------------------------------

export async function buildQueryMessage(input: {
  reference: string;
  /** The init's ThoiGianGD: the open-source system queries with the transaction's own time. */
  initiatedAt: Date;
  partnerCode: string;
  version: string;
  algorithm: DvcqgAlgorithm;
  secret: string;
  constants: DvcqgConstants;
}) {
  const message: Record<string, unknown> = {
    LoaiBanTin: input.constants.queryMessageType,
    PhienBan: input.version,
    MaDoiTac: input.partnerCode,
    MaThamChieu: input.reference,
    ThoiGianGD: vnCompactTimestamp(input.initiatedAt),
  };
  message.MaXacThuc = await authenticationCode(input.algorithm, input.secret, message, input.constants.queryFields);
  return message;
}

/**
 * A verified query answer. `TrangThaiGD` as the open-source system reads it: 1 paid, 3 pending
 * (the platform does not know yet), 4 failed. Without `TrangThaiGD`, `MaLoi 00` is a payment.
 * Any other MaLoi says the query failed, not the payment: unknown, unless configured as "not found".
 */
export function queryResult(message: ConfirmMessage, constants: DvcqgConstants): StatusQueryResult {
  if (message.MaLoi !== SUCCESS) {
    if (constants.notFoundCodes.includes(message.MaLoi)) return { kind: 'not_found' };
    return { kind: 'unknown', reason: `the platform answered MaLoi ${message.MaLoi}` };
  }
  const state = message.TrangThaiGD;
  if (state === '3') return { kind: 'pending' };
  if (state !== undefined && state !== '1' && state !== '4') return { kind: 'unknown', reason: `TrangThaiGD ${state}` };
  const reading = paymentOutcome(message, state !== '4', 'TrangThaiGD 4 (failed on the platform)');
  if (!reading.ok) return { kind: 'unknown', reason: reading.detail };
  return { kind: 'outcome', outcome: reading.outcome };
}
