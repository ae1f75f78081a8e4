import { fetchText } from '../http.ts';
import { parseJsonObject } from '../json.ts';
import type {
  CallbackResult,
  Gateway,
  GatewayResponse,
  InboundMessage,
  PaymentRequest,
  PollingSchedule,
  RefundResult,
  StatusQueryResult,
} from '../types.ts';
import {
  callbackBodySchema,
  checkSignature,
  refundResponseSchema,
  returnMac,
  returnMacVerifies,
  SIGNATURE_HEADER,
  signatureHeader,
  signCheckout,
  statusResponseSchema,
} from './protocol.ts';
import { sandboxStatementFormat } from './statement.ts';

export interface SandboxOptions {
  /** First signs, all verify (rotation). */
  secrets: readonly string[];
  /** The hub's public base URL: the payer comes back to it. */
  baseUrl: string;
  /** Where the hosted sandbox (its checkout and API) lives: the hub itself unless said otherwise (SANDBOX_URL). */
  hostedAt?: string;
  toleranceSeconds: number;
  fetch: typeof fetch;
  now: () => Date;
  /** Status queries give up after this long and report "unknown", never "failed". */
  timeoutMs?: number;
  polling?: PollingSchedule;
  /** The most one payment may be, in VND (SANDBOX_MAX_AMOUNT_VND); absent: SANDBOX_DEFAULT_MAX_AMOUNT. */
  maxAmount?: number;
}

/** The sandbox stands in for a card gateway: by default it takes what VNPay takes (vnp_Amount's 12 digits of VND × 100). */
export const SANDBOX_DEFAULT_MAX_AMOUNT = 9_999_999_999;

const json = (status: number, body: unknown): GatewayResponse => ({
  status,
  contentType: 'application/json',
  body: JSON.stringify(body),
});

/**
 * The sandbox gateway: deterministic, hosted by the Node hub itself at /sandbox (or wherever
 * SANDBOX_URL says, for a hub on Workers), and as strict as a real one (signed checkout URL,
 * signed callbacks over real HTTP, a signed status API).
 */
export function createSandboxGateway(options: SandboxOptions): Gateway {
  const [signingSecret] = options.secrets;
  if (!signingSecret) throw new Error('the sandbox gateway needs at least one secret');
  const hostedAt = options.hostedAt ?? options.baseUrl;

  return {
    id: 'sandbox',
    capabilities: { redirect: true, qr: false, queryStatus: true, refund: true, statement: true },
    maxAmount: options.maxAmount ?? SANDBOX_DEFAULT_MAX_AMOUNT,
    statement: sandboxStatementFormat,
    onlinePaymentFlag: 2,
    polling: options.polling,
    // The hosted sandbox keeps one ledger row per refund id: a repeat replays the first answer.
    refundIdempotentById: true,

    async createPayment(request: PaymentRequest) {
      const params: Record<string, string> = {
        amount: String(request.amount),
        currency: request.currency,
        // Back through the hub, never straight to the portal: the hub's page adds the signed hubResult.
        returnUrl: `${options.baseUrl}/v1/returns/sandbox?${new URLSearchParams({
          ref: request.reference,
          mac: await returnMac(signingSecret, request.reference),
        })}`,
        expiresAt: String(Math.floor(request.expiresAt.getTime() / 1000)),
        description: request.description.slice(0, 255),
      };
      params.signature = await signCheckout(signingSecret, request.reference, params);
      const url = `${hostedAt}/sandbox/checkout/${encodeURIComponent(request.reference)}?${new URLSearchParams(params)}`;
      return { nextAction: { type: 'redirect', url }, gatewayReference: request.reference };
    },

    async verifyCallback(message: InboundMessage, now: Date) {
      // Parsed before the signature is checked, but refused only after: the reason reported is the right one.
      const parsed = callbackBodySchema.safeParse(parseJsonObject(message.rawBody));
      const body = parsed.success ? parsed.data : undefined;
      const reference = body?.reference;
      const check = await checkSignature(
        options.secrets,
        message.headers[SIGNATURE_HEADER],
        message.rawBody,
        now,
        options.toleranceSeconds,
      );
      if (check !== 'valid') return { ok: false, reason: check, reference, detail: `signature check: ${check}` };
      if (!body) return { ok: false, reason: 'malformed', detail: 'the body is not a sandbox callback' };
      const outcome =
        body.type === 'payment.succeeded'
          ? { kind: 'succeeded' as const, amount: body.amount, transactionId: body.transactionId, paidAt: new Date(body.occurredAt) }
          : { kind: 'failed' as const, reason: 'declined by the payer', transactionId: body.transactionId };
      return { ok: true, reference: body.reference, outcome };
    },

    async verifyReturn(query) {
      const reference = query.get('ref');
      const mac = query.get('mac');
      if (!reference || !mac || !/^[0-9a-f]{64}$/i.test(mac)) return null;
      return (await returnMacVerifies(options.secrets, reference, mac)) ? reference : null;
    },

    async respond(result: CallbackResult): Promise<GatewayResponse> {
      switch (result) {
        case 'bad_signature':
        case 'stale':
          return json(401, { received: false, error: result });
        case 'malformed':
          return json(400, { received: false, error: result });
        case 'error':
          // A 5xx makes the sandbox deliver again; the message is already in the inbox.
          return json(503, { received: false, error: 'try again' });
        default:
          return json(200, { received: true, result });
      }
    },

    async queryStatus(intent): Promise<StatusQueryResult> {
      const path = `/sandbox/api/payments/${encodeURIComponent(intent.reference)}`;
      const timestamp = Math.floor(options.now().getTime() / 1000);
      try {
        const response = await fetchText(
          options.fetch,
          `${hostedAt}${path}`,
          { headers: { [SIGNATURE_HEADER]: await signatureHeader(signingSecret, timestamp, `GET ${path}`) } },
          options.timeoutMs ?? 10_000,
        );
        if (!response.ok) return { kind: 'unknown', reason: `sandbox answered ${response.status}` };
        // An answer that does not parse (a paid status without amount or transaction, say) is
        // "unknown", never a payment or a decline.
        const parsed = statusResponseSchema.safeParse(parseJsonObject(response.text));
        if (!parsed.success) return { kind: 'unknown', reason: 'the sandbox answered an unexpected status' };
        const status = parsed.data;
        if (status.status === 'not_found') return { kind: 'not_found' };
        if (status.status === 'declined') {
          return { kind: 'outcome', outcome: { kind: 'failed', reason: 'declined by the payer', transactionId: status.transactionId } };
        }
        return {
          kind: 'outcome',
          outcome: {
            kind: 'succeeded',
            amount: status.amount,
            transactionId: status.transactionId,
            paidAt: status.occurredAt ? new Date(status.occurredAt) : undefined,
          },
        };
      } catch (error) {
        return { kind: 'unknown', reason: error instanceof Error ? error.message : 'query failed' };
      }
    },

    async refund(request): Promise<RefundResult> {
      const path = `/sandbox/api/payments/${encodeURIComponent(request.intent.reference)}/refunds`;
      const body = JSON.stringify({ refundId: request.refundId, amount: request.amount });
      const timestamp = Math.floor(options.now().getTime() / 1000);
      try {
        const response = await fetchText(
          options.fetch,
          `${hostedAt}${path}`,
          {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              [SIGNATURE_HEADER]: await signatureHeader(signingSecret, timestamp, `POST ${path}\n${body}`),
            },
            body,
          },
          options.timeoutMs ?? 10_000,
        );
        const answer = parseJsonObject(response.text);
        // A refusal the sandbox states (not paid, more than was paid) is final; anything else is unknown.
        if (response.status === 409 && answer && 'error' in answer) {
          return { kind: 'failed', reason: `sandbox refused the refund: ${String(answer.error)}` };
        }
        const parsed = refundResponseSchema.safeParse(answer);
        if (!response.ok || !parsed.success || parsed.data.refundId !== request.refundId || parsed.data.amount !== request.amount) {
          return { kind: 'unknown', reason: `sandbox answered ${response.status}` };
        }
        return { kind: 'succeeded', gatewayRefundId: `SBR${request.refundId}` };
      } catch (error) {
        return { kind: 'unknown', reason: error instanceof Error ? error.message : 'refund failed' };
      }
    },
  };
}
