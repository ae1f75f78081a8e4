/**
 * The gateway adapter interface (DESIGN.md). An adapter turns an intent into the payer's next
 * action, turns a raw inbound message into a verified, normalised outcome, answers the gateway
 * in the exact shape it expects, and, where the channel allows, queries a payment's status.
 * Adapters never touch the database: the one `applyOutcome` path does.
 */
export const gatewayIds = ['sandbox', 'vnpay', 'vietqr', 'dvcqg'] as const;
export type GatewayId = (typeof gatewayIds)[number];

export interface GatewayCapabilities {
  redirect: boolean;
  qr: boolean;
  queryStatus: boolean;
  refund: boolean;
  statement: boolean;
}

export type NextAction =
  | { type: 'redirect'; url: string }
  | { type: 'qr'; payload: string; [extra: string]: unknown };

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
  lines: Array<{ kind: 'phi' | 'le_phi'; feeCode: string; name: string; amount: number }>;
}

export interface PaymentHandover {
  nextAction: NextAction;
  gatewayReference?: string;
}

/** What a gateway says happened to a payment, normalised. Amounts are integer VND. */
export type GatewayOutcome =
  | { kind: 'succeeded'; amount: number; transactionId: string; paidAt?: Date }
  | { kind: 'failed'; reason: string; transactionId?: string }
  | { kind: 'needs_review'; reason: string; amount?: number; transactionId?: string };

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
  | { ok: true; reference: string; outcome: GatewayOutcome }
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

export interface Gateway {
  id: GatewayId;
  capabilities: GatewayCapabilities;
  /** 766 DuocThanhToanTrucTuyen: 1 national payment platform, 2 the province's own gateway. */
  onlinePaymentFlag: 1 | 2;
  createPayment(request: PaymentRequest): Promise<PaymentHandover>;
  verifyCallback(message: InboundMessage, now: Date): Promise<CallbackVerification>;
  respond(result: CallbackResult): GatewayResponse;
  queryStatus?(intent: { reference: string; amount: number; createdAt: Date }): Promise<StatusQueryResult>;
}
