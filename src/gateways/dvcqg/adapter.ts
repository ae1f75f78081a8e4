import { fetchText } from '../http.ts';
import { parseJsonObject } from '../json.ts';
import type {
  CallbackResult,
  CallbackVerification,
  Gateway,
  GatewayOutcome,
  GatewayResponse,
  InboundMessage,
  IntentSnapshot,
  PayableBill,
  PaymentRequest,
  PollingSchedule,
  StatusQueryResult,
} from '../types.ts';
import {
  buildAnswer,
  buildInitMessage,
  buildQueryMessage,
  confirmSchema,
  DVCQG_DEFAULTS,
  DVCQG_RECEIPT_DEFAULTS,
  type DvcqgAlgorithm,
  type DvcqgConstants,
  paymentOutcome,
  portalPaymentInfo,
  queryResult,
  type ReceiptSettings,
  readInitAnswer,
  SUCCESS,
  verifyAuthenticationCode,
  withPartnerCode,
} from './protocol.ts';
import { dvcqgStatementFormat } from './statement.ts';

/** The confirm's fields that say what happened; unsigned, they are checked by a status query. */
const OUTCOME_FIELDS = ['MaLoi', 'MaGiaoDich'] as const;

/** What an operator configures for the national platform (the hub's configuration reads it from the environment). */
export interface DvcqgSettings {
  partnerCode: string;
  /** The first signs, every one verifies (rotation). */
  secrets: readonly string[];
  initUrl: string;
  /** Without it the platform is never polled. */
  queryUrl?: string;
  version: string;
  algorithm: DvcqgAlgorithm;
  /** Field orders of MaXacThuc, per message: the platform's versions differ. */
  initFields: readonly string[];
  confirmFields: readonly string[];
  answerFields: readonly string[];
  /** Which field of the init's answer holds the payer's redirect URL. */
  redirectField: string;
  polling: PollingSchedule;
  /** The receipt block's enrolment values (MaDVC's suffix, KhoBac); absent: their defaults. */
  receipt?: ReceiptSettings;
  /** The most one payment may be, in VND (DVCQG_MAX_AMOUNT_VND); absent: DVCQG_DEFAULT_MAX_AMOUNT. */
  maxAmount?: number;
}

/**
 * The platform publishes no limit of SoTien; it pays through banks and intermediaries whose
 * transfers (NAPAS 24/7) banks commonly cap just below 500 million đồng. Configurable.
 */
export const DVCQG_DEFAULT_MAX_AMOUNT = 499_999_999;

export type DvcqgOptions = DvcqgSettings & {
  /**
   * The hub's return page and confirm endpoint. The documented init carries neither: the
   * platform takes them from the partner's enrolment, so they are what the operator registers.
   */
  returnUrl: string;
  callbackUrl: string;
  fetch: typeof fetch;
  now: () => Date;
  /** Outbound calls give up after this long: an init throws, a query reports "unknown". */
  timeoutMs: number;
  /** Message types and fixed fields, where a platform version differs from the defaults. */
  constants?: Partial<DvcqgConstants>;
};

const errorText = (error: unknown) => (error instanceof Error ? error.message : 'request failed');

/** The national public service portal's payment platform (PP-DVCQG). */
export function createDvcqgGateway(options: DvcqgOptions): Gateway {
  const [signingSecret] = options.secrets;
  if (!signingSecret) throw new Error('the national platform gateway needs at least one DVCQG_HASH_KEY');
  const constants: DvcqgConstants = { ...DVCQG_DEFAULTS, ...options.constants };
  const { algorithm, partnerCode } = options;
  const receipt = options.receipt ?? DVCQG_RECEIPT_DEFAULTS;
  /** Whether a confirm's signature covers what it says happened (the code and the transaction). */
  const outcomeSigned = OUTCOME_FIELDS.every((field) => options.confirmFields.includes(field));
  if (!outcomeSigned && !options.queryUrl) {
    throw new Error('the national platform gateway needs DVCQG_QUERY_URL when DVCQG_CONFIRM_FIELDS leaves out MaLoi or MaGiaoDich');
  }

  /** POSTs JSON; the status and the body text, both within the one time limit. */
  const post = (url: string, body: unknown) =>
    fetchText(
      options.fetch,
      url,
      { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(body) },
      options.timeoutMs,
    );

  const gateway: Gateway = {
    id: 'dvcqg',
    capabilities: { redirect: true, qr: false, queryStatus: Boolean(options.queryUrl), refund: false, statement: true },
    maxAmount: options.maxAmount ?? DVCQG_DEFAULT_MAX_AMOUNT,
    statement: dvcqgStatementFormat,
    // 766 DuocThanhToanTrucTuyen 1: paid through the national platform.
    onlinePaymentFlag: 1,
    needsCollectionAccount: true,
    polling: options.queryUrl ? options.polling : undefined,

    async createPayment(request: PaymentRequest) {
      const message = await buildInitMessage(request, {
        partnerCode,
        version: options.version,
        algorithm,
        secret: signingSecret,
        fields: options.initFields,
        constants,
        receipt,
      });
      const response = await post(options.initUrl, message);
      if (!response.ok) throw new Error(`the platform answered HTTP ${response.status} to the init`);
      // The answer is not verified: it comes back over the TLS connection the hub opened, its
      // layout is not published (a wrong guess would refuse every payment), and it only carries
      // where to send the payer. Money is proven by the signed confirm alone.
      const answer = readInitAnswer(parseJsonObject(response.text), options.redirectField);
      if (!answer.ok) throw new Error(`the platform refused the init: ${answer.reason}`);
      return { nextAction: { type: 'redirect', url: answer.url }, gatewayReference: answer.transactionId ?? request.reference };
    },

    async verifyCallback(message: InboundMessage): Promise<CallbackVerification> {
      const body = parseJsonObject(message.rawBody);
      const reference = typeof body?.MaThamChieu === 'string' ? body.MaThamChieu.slice(0, 64) : undefined;
      // The signature first: an unreadable body carries no MaXacThuc, so it is a bad signature.
      const signed =
        body !== undefined &&
        (await verifyAuthenticationCode(algorithm, options.secrets, withPartnerCode(body, partnerCode), options.confirmFields));
      if (!signed) return { ok: false, reason: 'bad_signature', reference, detail: 'MaXacThuc does not verify with any key' };
      const parsed = confirmSchema.safeParse(body);
      if (!parsed.success) {
        return {
          ok: false,
          reason: 'malformed',
          reference,
          detail: `not a confirm: ${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message}`,
        };
      }
      const reading = paymentOutcome(parsed.data, parsed.data.MaLoi === SUCCESS);
      if (!reading.ok) {
        // Unreadable in fields the signature does not cover is still only a hint: ask.
        if (!outcomeSigned) {
          const hint: GatewayOutcome = { kind: 'failed', reason: `unreadable confirm (${reading.detail}); the platform is asked` };
          return { ok: true, reference: parsed.data.MaThamChieu, outcome: hint, confirmByQuery: true };
        }
        return { ok: false, reason: 'malformed', reference, detail: reading.detail };
      }
      // Anyone who saw a signed confirm (the payer's browser is sent back with one) could
      // change an unsigned MaLoi or MaGiaoDich: then the platform is asked before anything moves.
      return { ok: true, reference: parsed.data.MaThamChieu, outcome: reading.outcome, ...(outcomeSigned ? {} : { confirmByQuery: true }) };
    },

    async respond(result: CallbackResult, message?: InboundMessage): Promise<GatewayResponse> {
      const echoed = message ? parseJsonObject(message.rawBody)?.MaThamChieu : undefined;
      const { status, body } = await buildAnswer({
        result,
        partnerCode,
        reference: typeof echoed === 'string' ? echoed.slice(0, 64) : '',
        now: options.now(),
        algorithm,
        secret: signingSecret,
        fields: options.answerFields,
      });
      return { status, contentType: 'application/json', body: JSON.stringify(body) };
    },

    describeBill: (bill: PayableBill) => portalPaymentInfo(bill, { ...receipt, partnerCode }),
  };

  if (options.queryUrl) {
    const queryUrl = options.queryUrl;
    gateway.queryStatus = async (intent: IntentSnapshot): Promise<StatusQueryResult> => {
      try {
        const message = await buildQueryMessage({
          reference: intent.reference,
          initiatedAt: intent.createdAt,
          partnerCode,
          version: options.version,
          algorithm,
          secret: signingSecret,
          constants,
        });
        const response = await post(queryUrl, message);
        if (!response.ok) return { kind: 'unknown', reason: `the platform answered HTTP ${response.status}` };
        const body = parseJsonObject(response.text);
        // An answer the hub cannot verify is no news, never a payment or a decline.
        if (
          !body ||
          !(await verifyAuthenticationCode(algorithm, options.secrets, withPartnerCode(body, partnerCode), options.confirmFields))
        ) {
          return { kind: 'unknown', reason: "the query answer's MaXacThuc does not verify" };
        }
        const parsed = confirmSchema.safeParse(body);
        if (!parsed.success) return { kind: 'unknown', reason: 'the query answer is not confirm-shaped' };
        if (parsed.data.MaThamChieu !== intent.reference) return { kind: 'unknown', reason: 'the query answer names another MaThamChieu' };
        return queryResult(parsed.data, constants);
      } catch (error) {
        return { kind: 'unknown', reason: errorText(error) };
      }
    };
  }

  return gateway;
}
