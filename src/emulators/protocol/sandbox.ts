import { z } from 'zod';
import { hmacHex, signedByAny } from './hmac.ts';

/**
 * The sandbox gateway's wire protocol from the gateway's side, written apart from the hub's
 * adapter (src/gateways/sandbox/protocol.ts), with node:crypto:
 * - the checkout link is signed: HMAC-SHA256 hex over `${reference}?${sorted, percent-encoded
 *   parameters other than signature}`, so the payer cannot change the amount;
 * - callbacks carry `Sandbox-Signature: t=<unix seconds>,v1=<hex>`, v1 being HMAC-SHA256 over
 *   `${t}.${rawBody}`; the status and refund API is signed the same way over `${t}.GET ${path}`
 *   and `${t}.POST ${path}\n${body}`, and accepted within a tolerance window.
 */
export const SIGNATURE_HEADER = 'sandbox-signature';

/** What a checkout link carries besides the reference in its path. */
export const checkoutLinkSchema = z.object({
  amount: z
    .string()
    .regex(/^[1-9]\d{0,15}$/)
    .transform(Number),
  currency: z.literal('VND'),
  returnUrl: z.url({ protocol: /^https?$/ }),
  expiresAt: z
    .string()
    .regex(/^\d{1,12}$/)
    .transform(Number),
  description: z.string().max(255),
  signature: z.string().regex(/^[0-9a-f]{64}$/),
});

function linkData(reference: string, params: Record<string, string>): string {
  const pairs: string[] = [];
  for (const key of Object.keys(params).sort()) {
    if (key !== 'signature') pairs.push(`${encodeURIComponent(key)}=${encodeURIComponent(params[key]!)}`);
  }
  return `${reference}?${pairs.join('&')}`;
}

export const checkoutSignature = (secret: string, reference: string, params: Record<string, string>) =>
  hmacHex('sha256', secret, linkData(reference, params));

export const checkoutVerifies = (secrets: readonly string[], reference: string, params: Record<string, string>) =>
  signedByAny('sha256', secrets, linkData(reference, params), params.signature);

export const signatureHeader = (secret: string, unixSeconds: number, payload: string) =>
  `t=${unixSeconds},v1=${hmacHex('sha256', secret, `${unixSeconds}.${payload}`)}`;

/** A signed API request: signed by one of the secrets, and recent. */
export function checkSignatureHeader(
  secrets: readonly string[],
  header: string | undefined,
  payload: string,
  now: Date,
  toleranceSeconds: number,
): 'valid' | 'bad_signature' | 'stale' {
  const fields = new Map<string, string[]>();
  for (const part of (header ?? '').split(',')) {
    const at = part.indexOf('=');
    if (at > 0) fields.set(part.slice(0, at).trim(), [...(fields.get(part.slice(0, at).trim()) ?? []), part.slice(at + 1).trim()]);
  }
  const t = fields.get('t')?.[0];
  if (!t || !/^\d{1,12}$/.test(t)) return 'bad_signature';
  if (!(fields.get('v1') ?? []).some((v1) => v1.length === 64 && signedByAny('sha256', secrets, `${t}.${payload}`, v1)))
    return 'bad_signature';
  return Math.abs(now.getTime() / 1000 - Number(t)) > toleranceSeconds ? 'stale' : 'valid';
}

export const refundRequestSchema = z.object({
  refundId: z.string().min(1).max(100),
  amount: z.number().int().positive(),
});
