import type { IntentStatus } from '../domain/payment-states.ts';
import { parseJsonObject } from '../gateways/json.ts';
import type { CallbackVerification, InboundMessage } from '../gateways/types.ts';
import { fromVnpAmount, responseCodeReason, transactionStatusReason } from '../gateways/vnpay/protocol.ts';
import type { ServiceContext } from './context.ts';
import { ServiceError } from './errors.ts';
import { portalReturnUrl } from './hub-result.ts';
import { findIntentByReference } from './payment-intents.ts';

/**
 * The gateways that send the payer's browser back to the hub: VNPay and the national platform
 * with a signed result, the sandbox to a link the hub made (its result unsigned, so not shown).
 */
export type ReturnGateway = 'vnpay' | 'dvcqg' | 'sandbox';

/**
 * What the gateway told the payer's browser; the hub's record may not know it yet.
 * `unconfirmed`: the link's signature does not cover the result, so none is shown.
 */
type ReturnVerdict = 'succeeded' | 'failed' | 'needs_review' | 'unconfirmed';

export type PaymentReturn =
  /** The link is not signed by the gateway: nothing it says is shown. */
  | { kind: 'unsigned' }
  | { kind: 'unknown_intent' }
  | {
      kind: 'intent';
      reference: string;
      amount: number;
      /** The hub's own record, which only the gateway's server-to-server message changes. */
      status: IntentStatus;
      verdict: ReturnVerdict;
      /** The gateway's reason, in Vietnamese, for a decline. */
      reason?: string;
      /** The amount the gateway reported. */
      reportedAmount?: number | null;
      /**
       * The portal page the payer goes back to, with `reference`, `status` and the signed
       * `hubResult` (services/hub-result.ts), or null when there is none to trust.
       */
      portalUrl: string | null;
    };

type Verified = Extract<CallbackVerification, { ok: true }>;
type Said = Pick<Extract<PaymentReturn, { kind: 'intent' }>, 'verdict' | 'reason' | 'reportedAmount'>;

/** The Vietnamese half of the VNPay protocol's "Vietnamese / English" reasons. */
const vietnamese = (reason: string) => reason.split(' / ')[0]!;

/** What each gateway that signs its return said, as far as its signature covers it. */
const said: Record<Exclude<ReturnGateway, 'sandbox'>, (verified: Verified, message: InboundMessage) => Said> = {
  vnpay: ({ outcome }, message) => {
    const query = new URL(message.url, 'http://return.invalid').searchParams;
    const responseCode = query.get('vnp_ResponseCode') ?? undefined;
    const status = query.get('vnp_TransactionStatus') ?? undefined;
    // Both codes 00 yet failed means the amount was not whole VND: shown as an amount, not a reason.
    const reason =
      outcome.kind !== 'failed'
        ? undefined
        : responseCode !== '00'
          ? vietnamese(responseCodeReason(responseCode))
          : status !== '00'
            ? vietnamese(transactionStatusReason(status))
            : undefined;
    return { verdict: outcome.kind, reason, reportedAmount: fromVnpAmount(query.get('vnp_Amount') ?? undefined) };
  },
  dvcqg: ({ outcome, confirmByQuery }, message) => {
    const stated = parseJsonObject(message.rawBody)?.MoTaLoi;
    return {
      // A result the signature does not cover is not shown as the platform's word.
      verdict: confirmByQuery ? 'unconfirmed' : outcome.kind,
      reason: outcome.kind === 'failed' && !confirmByQuery ? (typeof stated === 'string' ? stated : outcome.reason) : undefined,
      reportedAmount: 'amount' in outcome && typeof outcome.amount === 'number' ? outcome.amount : undefined,
    };
  },
};

/** The reference the return link names and what the gateway said, or null when the link is not to be believed. */
async function readReturn(ctx: ServiceContext, gatewayId: ReturnGateway, message: InboundMessage) {
  const gateway = ctx.gateways[gatewayId];
  if (!gateway) throw new ServiceError('not-found', `no gateway "${gatewayId}" is configured here`);
  if (gatewayId === 'sandbox') {
    // The sandbox's own `status` is not signed: only the hub's record is shown.
    const reference = await gateway.verifyReturn?.(new URL(message.url, 'http://return.invalid').searchParams);
    return reference ? { reference, said: { verdict: 'unconfirmed' } satisfies Said } : null;
  }
  const verification = await gateway.verifyCallback(message, ctx.now());
  return verification.ok ? { reference: verification.reference, said: said[gatewayId](verification, message) } : null;
}

/**
 * A payer's browser back from a gateway: the link's signature verified as the gateway's callback
 * would be (the sandbox's link: the hub's own mark), the intent read (never changed), what the
 * gateway said beside what the hub has recorded, and the way on to the portal with the signed
 * hubResult. Only the server-to-server message (through the inbox) records a payment.
 */
export async function describeReturn(ctx: ServiceContext, gatewayId: ReturnGateway, message: InboundMessage): Promise<PaymentReturn> {
  const link = await readReturn(ctx, gatewayId, message);
  if (!link) return { kind: 'unsigned' };
  const intent = await findIntentByReference(ctx, gatewayId, link.reference);
  if (!intent) return { kind: 'unknown_intent' };
  return {
    kind: 'intent',
    reference: intent.reference,
    amount: intent.amount,
    status: intent.status,
    ...link.said,
    // The status signed is the one just read: the hub's record, whatever the link says.
    portalUrl: await portalReturnUrl(ctx, intent),
  };
}
