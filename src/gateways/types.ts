/**
 * The gateway adapter interface (DESIGN.md). An adapter turns an intent into the payer's next
 * action, turns a raw inbound message into a verified, normalised outcome, answers the gateway
 * in the exact shape it expects, and, where the channel allows, queries a payment's status.
 * Adapters never touch the database: the one `applyOutcome` path does.
 */
import type { GatewayOutcome } from '../domain/decide.ts';
import type { StatementFormat } from './statement-format.ts';

export const gatewayIds = ['sandbox', 'vnpay', 'vietqr', 'dvcqg'] as const;
export type GatewayId = (typeof gatewayIds)[number];

/**
 * Money taken at the agency's counter (cash, POS card, a transfer the counter saw): recorded by a
 * person, never started or confirmed by a gateway. Its intents carry this id in the gateway
 * column, but it has no adapter and no registry entry: nothing polls, expires or refunds it
 * through an API (a refund of cash is handed back by hand), and its 766 flag is 0.
 */
export const COUNTER_CHANNEL = 'counter' as const;

interface GatewayCapabilities {
  redirect: boolean;
  qr: boolean;
  queryStatus: boolean;
  refund: boolean;
  statement: boolean;
}

export type NextAction = { type: 'redirect'; url: string } | { type: 'qr'; payload: string; [extra: string]: unknown };

export interface PaymentRequest {
  intentId: string;
  reference: string;
  amount: number;
  currency: 'VND';
  createdAt: Date;
  expiresAt: Date;
  returnUrl: string;
  dossierCode: string;
  procedureCode: string;
  agencyCode: string;
  description: string;
  procedureName: string;
  agencyName: string;
  lines: Array<{
    kind: 'phi' | 'le_phi';
    feeCode: string;
    name: string;
    amount: number;
    /** The state-budget account the line is collected into (its fee rule's), where the catalogue says. */
    budgetAccount?: string | null;
  }>;
  /** The citizen paying: VNPay wants the payer's IP, the national platform the payer's identity. */
  payer: PayerInfo;
  /** The collecting agency's account (bank BIN, number, name), where the catalogue has one. */
  collectionAccount?: CollectionAccount;
}

interface PayerInfo {
  /** The payer's IP as the portal saw it (or, without one, the portal's own). */
  ip: string;
  name?: string;
  idNumber?: string;
  address?: string;
}

export interface CollectionAccount {
  bankBin: string;
  accountNumber: string;
  accountName: string;
}

/** A dossier's bill as the hub knows it: what a gateway's receipt block and a portal's look-up are made of. */
export type PayableBill = Pick<
  PaymentRequest,
  'dossierCode' | 'procedureCode' | 'procedureName' | 'agencyCode' | 'agencyName' | 'description' | 'lines'
> & {
  /** Where the money goes: the agency's collection account (or the nearest one above it). */
  collectionAccount: CollectionAccount;
  payer: Omit<PayerInfo, 'ip'>;
  /** When the bill is stated (the init's or the look-up's time). */
  at: Date;
};

/** The national platform's receipt block (ThongTinBienLai), integer VND as digit strings. */
export interface ReceiptBlock {
  MaDichVu: '2';
  MaHoSo: string;
  MaDVC: string;
  TenDVC: string;
  MaTTHC: string;
  TenTTHC: string;
  MaDonVi: string;
  TenDonVi: string;
  TKThuHuong: string;
  MaNHThuHuong: string;
  TenTKThuHuong: string;
  TaiKhoanThuNSNN?: string;
  PhiLePhi: Array<{ LoaiPhiLePhi: '1' | '2'; MaPhiLePhi: string; TenPhiLePhi: string; SoTien: string }>;
  NoiDungThanhToan: string;
  MaCoQuanQD: string;
  TenCoQuanQD: string;
  KhoBac: string;
  NgayQD: string;
  DSKhoanNop: Array<{ NoiDung: string; SoTien: string }>;
  HoTenNguoiNop: string;
  SoCMNDNguoiNop: string;
  DiaChiNguoiNop: string;
}

/** The national portal's look-up (DPTraCuuThanhToanHS) payment information: the receipt block and how to name the payment. */
export interface PortalPaymentInfo extends ReceiptBlock {
  transaction_id: string;
  client_id: string;
  MaTraCuuTT: string;
  /** The sum of the lines. */
  SoTien: string;
}

export interface PaymentHandover {
  nextAction: NextAction;
  gatewayReference?: string;
}

/** What a gateway says happened to a payment, normalised: the domain's word (domain/decide.ts). */
export type { GatewayOutcome };

/** A status query either learns something, learns nothing yet, or cannot tell (timeout, 5xx). */
export type StatusQueryResult =
  | { kind: 'outcome'; outcome: GatewayOutcome }
  | { kind: 'pending' }
  | { kind: 'not_found' }
  | { kind: 'unknown'; reason: string };

export interface InboundMessage {
  method: string;
  /** Path and query string as received. */
  url: string;
  headers: Record<string, string>;
  rawBody: string;
}

/**
 * `malformed` means the signature held but the message is not one the gateway sends: adapters
 * check the signature first, so the inbox records a malformed message as validly signed.
 */
export type CallbackVerification =
  /**
   * `candidates` (VietQR transfer texts) lists other references found in the message, best
   * first after `reference`: the first that names an intent of this gateway is the one paid.
   */
  | {
      ok: true;
      reference: string;
      candidates?: readonly string[];
      outcome: GatewayOutcome;
      /**
       * The signature holds, but the outcome rests on fields it does not cover (the national
       * platform's default layout leaves out MaLoi and MaGiaoDich): a hint, not proof. The hub
       * asks the gateway itself (queryStatus, over TLS to the configured URL) and applies that.
       */
      confirmByQuery?: boolean;
    }
  | { ok: false; reason: 'bad_signature' | 'stale' | 'malformed'; reference?: string; detail: string };

/** How the hub's handling of a callback ended, for the adapter to answer in its own words. */
export type CallbackResult =
  | 'applied'
  | 'duplicate'
  | 'unknown_reference'
  | 'amount_mismatch'
  | 'already_final'
  | 'needs_review'
  | 'bad_signature'
  | 'stale'
  | 'malformed'
  | 'error';

export interface GatewayResponse {
  status: number;
  contentType: string;
  body: string;
}

/** What a status query or a refund needs to know about the intent. */
export interface IntentSnapshot {
  id: string;
  reference: string;
  amount: number;
  createdAt: Date;
  gatewayReference: string | null;
  gatewayTransactionId: string | null;
  succeededAt: Date | null;
}

export interface RefundRequest {
  /** The hub's refund id: unique per request, so a retry is recognised by the gateway. */
  refundId: string;
  intent: IntentSnapshot;
  amount: number;
  /** True when this refund returns everything not yet refunded (VNPay 02), else partial (03). */
  full: boolean;
  /** Who asked for it (a treasury user), for the gateway's records. */
  requestedBy: string;
  reason: string;
  now: Date;
}

/** `unknown` (timeout, 5xx, unverifiable answer) is never `failed`: the refund is asked about again. */
export type RefundResult =
  | { kind: 'succeeded'; gatewayRefundId?: string; detail?: Record<string, unknown> }
  | { kind: 'failed'; reason: string; detail?: Record<string, unknown> }
  | { kind: 'unknown'; reason: string };

/** When the poller asks about a pending intent: after `startDelaySeconds`, then every `intervalSeconds`. */
export interface PollingSchedule {
  startDelaySeconds: number;
  intervalSeconds: number;
  maxAttempts: number;
}

export interface Gateway {
  id: GatewayId;
  capabilities: GatewayCapabilities;
  /** 766 DuocThanhToanTrucTuyen: 1 national payment platform, 2 the province's own gateway. */
  onlinePaymentFlag: 1 | 2;
  /** Payments go into the collecting agency's own account (VietQR, the national platform). */
  needsCollectionAccount?: boolean;
  /**
   * The most one payment through this gateway may be, in VND: an intent for more is refused
   * before the gateway is asked (422 `amount-above-gateway-limit`), never sent to fail there.
   */
  maxAmount: number;
  /** The poller's schedule; absent (or no queryStatus) means this gateway is never polled. */
  polling?: PollingSchedule;
  createPayment(request: PaymentRequest): Promise<PaymentHandover>;
  verifyCallback(message: InboundMessage, now: Date): Promise<CallbackVerification>;
  /**
   * The payer's browser back at the hub (`/v1/returns/{gateway}`) from a gateway whose return
   * link is not signed as its callback is (the sandbox): the reference of the intent, when the
   * link is one the hub made (its query as received), else null. VNPay and the national platform
   * sign their returns like their callbacks; those are checked by `verifyCallback`.
   */
  verifyReturn?(query: URLSearchParams): Promise<string | null>;
  /** The gateway's own answer; `message` is the one being answered (some answers echo it). */
  respond(result: CallbackResult, message?: InboundMessage): Promise<GatewayResponse>;
  queryStatus?(intent: IntentSnapshot): Promise<StatusQueryResult>;
  /**
   * What the national portal is told when it looks a dossier's bill up (DPTraCuuThanhToanHS), in
   * the platform's words and with the province's enrolment. Only the national platform has it.
   */
  describeBill?(bill: PayableBill): PortalPaymentInfo;
  refund?(request: RefundRequest): Promise<RefundResult>;
  /**
   * The gateway recognises a repeated refund id for ever and never refunds it twice, so a
   * refund it did not answer may be sent again automatically. (VNPay promises unique request
   * ids only within a day: its unanswered refunds go to a person instead.)
   */
  refundIdempotentById?: boolean;
  /**
   * The gateway's own settlement file (DESIGN.md `parseStatement`), as data: its columns, units
   * and status words (gateways/statement-format.ts). Absent: its money is proven by the bank's
   * statement of the collecting account (VietQR).
   */
  statement?: StatementFormat;
}
