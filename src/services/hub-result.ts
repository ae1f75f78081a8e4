import type { IntentStatus } from '../domain/payment-states.ts';
import type { ServiceContext } from './context.ts';

/** The `typ` header of a hubResult: a portal checks it, so no other token the hub signs passes for one. */
export const HUB_RESULT_TYPE = 'hub-result+jwt';

/**
 * How long a hubResult is good for. It travels in the browser's address bar (history, logs), and
 * it states the intent's status at one moment, which may change a minute later (the gateway's
 * confirmation arriving, a refund): it is for checking the payer's return as it lands, not a
 * lasting proof. Ten minutes covers the result page's few seconds, a slow phone, a payer who
 * clicks the page's link late, and some clock skew; after that the portal asks the hub's API.
 */
const HUB_RESULT_LIFETIME_SECONDS = 10 * 60;

/** The claims of a hubResult, beside `iss` (the hub), `aud` (the portal's origin), `iat` and `exp`. */
interface HubResultClaims {
  intentId: string;
  reference: string;
  /** The hub's recorded status of the intent when the payer came back, never the gateway's word. */
  status: IntentStatus;
  /** Integer VND: what the intent asks for. */
  amount: number;
}

interface ReturningIntent {
  id: string;
  reference: string;
  status: IntentStatus;
  amount: number;
  returnUrl: string;
}

/**
 * The intent's `returnUrl` with `reference` and `status` (kept for portals written before
 * hubResult; unsigned, never to be trusted) and `hubResult`: a JWT signed with the hub's own key
 * (published at /.well-known/jwks.json), addressed to the return URL's origin. Null when the
 * return URL is not a URL: there is nowhere to send the payer.
 */
export async function portalReturnUrl(ctx: ServiceContext, intent: ReturningIntent): Promise<string | null> {
  let url: URL;
  try {
    url = new URL(intent.returnUrl);
  } catch {
    return null;
  }
  const iat = Math.floor(ctx.now().getTime() / 1000);
  const claims: HubResultClaims = { intentId: intent.id, reference: intent.reference, status: intent.status, amount: intent.amount };
  const hubResult = await ctx.signer.hub.signJwt(
    { iss: ctx.settings.publicBaseUrl, aud: url.origin, iat, exp: iat + HUB_RESULT_LIFETIME_SECONDS, ...claims },
    HUB_RESULT_TYPE,
  );
  url.searchParams.set('reference', intent.reference);
  url.searchParams.set('status', intent.status);
  url.searchParams.set('hubResult', hubResult);
  return url.toString();
}
