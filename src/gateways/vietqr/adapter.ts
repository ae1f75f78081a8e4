import { API_KEY_DIGEST_HEADER, matchesAnyKeyDigest, verifyWithAny } from '../hmac.ts';
import type {
  CallbackResult,
  CallbackVerification,
  Gateway,
  GatewayResponse,
  InboundMessage,
  PaymentHandover,
  PaymentRequest,
} from '../types.ts';
import { buildVietQrPayload, type VietQrService } from './emvco.ts';
import { type NotificationFormat, parseNotification } from './notifications.ts';
import { qrSvg } from './qr-image.ts';
import { findReferences } from './transfer-text.ts';

/** What an operator configures for VietQR (the hub's configuration reads it from the environment). */
export interface VietqrSettings {
  /** Secrets the bank's credit notifications are signed with (rotation). */
  secrets: readonly string[];
  /**
   * API keys a notification may present instead, as SePay's webhook does in its API-key mode
   * (`Authorization: Apikey <key>`; several for rotation). Empty: signatures only.
   */
  apiKeys?: readonly string[];
  signatureHeader: string;
  format: NotificationFormat;
  service: VietQrService;
  /** The most one transfer may be, in VND (VIETQR_MAX_AMOUNT_VND); absent: VIETQR_DEFAULT_MAX_AMOUNT. */
  maxAmount?: number;
}

/**
 * The QR's amount (EMVCo tag 54) may have 13 digits, but the payer's bank moves it as one NAPAS
 * 24/7 transfer, which banks commonly cap just below 500 million đồng: the default stays under
 * that. Not in the channels' published material, hence configurable.
 */
export const VIETQR_DEFAULT_MAX_AMOUNT = 499_999_999;
/** Tag 54 holds at most 13 characters. */
export const VIETQR_AMOUNT_FIELD_MAX = 9_999_999_999_999;

export type VietqrOptions = VietqrSettings & { now: () => Date };

/**
 * Short names of the banks most collection accounts are held at (NAPAS BINs), so the payer's
 * screen can say which bank to expect. A BIN not listed is still valid: only the name is missing.
 */
const BANK_NAMES: Readonly<Record<string, string>> = {
  '970436': 'Vietcombank',
  '970415': 'VietinBank',
  '970418': 'BIDV',
  '970405': 'Agribank',
  '970422': 'MBBank',
  '970407': 'Techcombank',
  '970416': 'ACB',
  '970432': 'VPBank',
  '970423': 'TPBank',
  '970403': 'Sacombank',
  '970437': 'HDBank',
  '970441': 'VIB',
  '970443': 'SHB',
  '970426': 'MSB',
  '970440': 'SeABank',
  '970428': 'Nam A Bank',
  '970449': 'LPBank',
  '970448': 'OCB',
};

const SIGNATURE = /^[0-9a-f]{64}$/i;

const json = (status: number, body: unknown): GatewayResponse => ({
  status,
  contentType: 'application/json',
  body: JSON.stringify(body),
});

/**
 * VietQR bank transfer: the payer scans a dynamic EMVCo code for the collecting agency's own
 * account, and the money is proven only by the bank's signed credit notification, matched on the
 * transfer text. There is nothing to ask about a transfer (no status API, no refund), so it is
 * never polled; a lost notification is healed by the statement, not by a query.
 */
export function createVietqrGateway(options: VietqrOptions): Gateway {
  const apiKeys = options.apiKeys ?? [];
  if (options.secrets.length === 0 && apiKeys.length === 0) {
    throw new Error('the VietQR gateway needs at least one notification secret or API key');
  }
  const signatureHeader = options.signatureHeader.toLowerCase();
  /** The message is the bank's (or its aggregator's): signed with a secret, or carrying an API key. */
  const authentic = async (message: InboundMessage): Promise<boolean> => {
    const signature = message.headers[signatureHeader] ?? '';
    if (
      options.secrets.length > 0 &&
      SIGNATURE.test(signature) &&
      (await verifyWithAny('SHA-256', options.secrets, message.rawBody, signature))
    ) {
      return true;
    }
    // The key itself never reaches the inbox: its digest does (API_KEY_DIGEST_HEADER).
    const digest = message.headers[API_KEY_DIGEST_HEADER];
    return digest !== undefined && apiKeys.length > 0 && (await matchesAnyKeyDigest(digest, apiKeys));
  };
  const missing = [options.secrets.length > 0 ? `${signatureHeader} header` : '', apiKeys.length > 0 ? 'Authorization: Apikey key' : '']
    .filter(Boolean)
    .join(' or ');

  return {
    id: 'vietqr',
    capabilities: { redirect: false, qr: true, queryStatus: false, refund: false, statement: false },
    maxAmount: Math.min(options.maxAmount ?? VIETQR_DEFAULT_MAX_AMOUNT, VIETQR_AMOUNT_FIELD_MAX),
    onlinePaymentFlag: 2,
    needsCollectionAccount: true,

    async createPayment(request: PaymentRequest): Promise<PaymentHandover> {
      const account = request.collectionAccount;
      if (!account) throw new Error(`VietQR needs the collecting agency's account (agency ${request.agencyCode} has none)`);
      // The reference itself is the transfer text: short, upper-case alphanumeric, so it survives
      // banks stripping and prefixing the text, and is found by findReferences on the way back.
      const transferText = request.reference;
      const payload = buildVietQrPayload({
        bankBin: account.bankBin,
        accountNumber: account.accountNumber,
        amount: request.amount,
        transferText,
        service: options.service,
      });
      const bankName = BANK_NAMES[account.bankBin];
      return {
        nextAction: {
          type: 'qr',
          payload,
          imageSvg: await qrSvg(payload),
          bank: account.bankBin,
          ...(bankName ? { bankName } : {}),
          accountNumber: account.accountNumber,
          accountName: account.accountName,
          amount: request.amount,
          transferText,
        },
        gatewayReference: transferText,
      };
    },

    async verifyCallback(message: InboundMessage): Promise<CallbackVerification> {
      const parsed = parseNotification(options.format, message.rawBody);
      const references = parsed.ok ? findReferences(parsed.credit.texts.join(' ')) : [];
      // Authenticity first, so an unauthenticated message is reported as such whatever its shape.
      if (!(await authentic(message)))
        return { ok: false, reason: 'bad_signature', reference: references[0], detail: `no valid ${missing}` };
      if (message.method !== 'POST') return { ok: false, reason: 'malformed', detail: 'a credit notification is a POST' };
      if (!parsed.ok) return { ok: false, reason: 'malformed', detail: parsed.detail };
      const { credit } = parsed;
      const [reference = '', ...candidates] = references;
      return {
        ok: true,
        // '' names no intent: the inbox records the money as an unmatched credit for a person.
        reference,
        candidates,
        outcome: {
          kind: 'succeeded',
          amount: credit.amount,
          transactionId: credit.transactionId,
          paidAt: credit.time,
          // applyOutcome compares it with the account the intent's QR showed.
          payeeAccount: credit.accountNumber,
          detail: { accountNumber: credit.accountNumber, ...credit.extra },
        },
      };
    },

    async respond(result: CallbackResult): Promise<GatewayResponse> {
      switch (result) {
        case 'bad_signature':
        case 'stale':
          return json(401, { success: false, error: result });
        case 'malformed':
          return json(400, { success: false, error: result });
        case 'error':
          // The notification is in the inbox; a 5xx makes the bank (or SePay) deliver it again.
          return json(503, { success: false, error: 'try again' });
        default:
          // Everything the hub recorded, reviews included: the bank must not deliver it again.
          return json(200, { success: true, result });
      }
    },
  };
}
