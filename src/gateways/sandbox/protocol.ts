import { z } from 'zod';
import { hmacHex, verifyWithAny } from '../hmac.ts';

/**
 * The sandbox gateway's wire protocol, the hub's side (the gateway's side is the Node hub's
 * emulator, src/emulators/, written apart). It is built like a real one:
 * - the checkout URL is signed (HMAC-SHA256 over its sorted parameters), so a payer cannot edit
 *   the amount;
 * - callbacks carry `Sandbox-Signature: t=<unix seconds>,v1=<hex>` where v1 is
 *   HMAC-SHA256(secret, `${t}.${rawBody}`); several v1 values may be sent while keys rotate,
 *   and the receiver accepts any of its secrets within a tolerance window;
 * - the status API is authenticated the same way, over `${t}.GET ${path}`;
 * - the payer's browser comes back to the URL the checkout link names, the hub's
 *   `/v1/returns/sandbox?ref=…&mac=…` (see `returnMac`), with the sandbox's unsigned
 *   `reference` and `status` added.
 */
export const SIGNATURE_HEADER = 'sandbox-signature';

function canonicalQuery(params: Record<string, string>): string {
  return Object.keys(params)
    .filter((k) => k !== 'signature')
    .sort()
    .map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(params[k]!)}`)
    .join('&');
}

/**
 * The hub's mark on the return URL it gives the sandbox (HMAC-SHA256 over `return:${reference}`,
 * apart from every other message the secrets sign): the sandbox sends the payer's browser back
 * unsigned, so the hub only believes a return link it made itself, and the link names the intent.
 */
export function returnMac(secret: string, reference: string): Promise<string> {
  return hmacHex('SHA-256', secret, `return:${reference}`);
}

export function returnMacVerifies(secrets: readonly string[], reference: string, mac: string): Promise<boolean> {
  return verifyWithAny('SHA-256', secrets, `return:${reference}`, mac);
}

export async function signCheckout(secret: string, reference: string, params: Record<string, string>): Promise<string> {
  return hmacHex('SHA-256', secret, `${reference}?${canonicalQuery(params)}`);
}

// Printable ASCII, as every real channel's identifiers: they are stored in text and jsonb
// columns, which cannot hold NUL or unpaired surrogates.
const identifier = z.string().regex(/^[\x21-\x7e]{1,64}$/);
// PostgreSQL has no year 0, which the ISO pattern allows.
const instant = z.iso.datetime().refine((s) => s >= '1970', 'a time from 1970 on');

export const callbackBodySchema = z.object({
  type: z.enum(['payment.succeeded', 'payment.declined']),
  reference: identifier,
  transactionId: identifier,
  amount: z.number().int().nonnegative(),
  currency: z.literal('VND'),
  occurredAt: instant,
});

export async function signatureHeader(secret: string, timestamp: number, payload: string): Promise<string> {
  return `t=${timestamp},v1=${await hmacHex('SHA-256', secret, `${timestamp}.${payload}`)}`;
}

function parseSignatureHeader(header: string | undefined): { timestamp: number; signatures: string[] } | null {
  if (!header) return null;
  let timestamp: number | null = null;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const [k, v] = part.trim().split('=', 2);
    if (k === 't' && v && /^\d{1,12}$/.test(v)) timestamp = Number(v);
    else if (k === 'v1' && v && /^[0-9a-f]{64}$/i.test(v)) signatures.push(v);
  }
  return timestamp === null || signatures.length === 0 ? null : { timestamp, signatures };
}

export type SignatureCheck = 'valid' | 'bad_signature' | 'stale';

export async function checkSignature(
  secrets: readonly string[],
  header: string | undefined,
  payload: string,
  now: Date,
  toleranceSeconds: number,
): Promise<SignatureCheck> {
  const parsed = parseSignatureHeader(header);
  if (!parsed) return 'bad_signature';
  let ok = false;
  for (const signature of parsed.signatures) {
    if (await verifyWithAny('SHA-256', secrets, `${parsed.timestamp}.${payload}`, signature)) ok = true;
  }
  if (!ok) return 'bad_signature';
  // Checked after the signature, so an attacker cannot learn the window from unsigned probes.
  if (Math.abs(now.getTime() / 1000 - parsed.timestamp) > toleranceSeconds) return 'stale';
  return 'valid';
}

/** The status API's answer; a payment is only believed with its amount and transaction. */
export const statusResponseSchema = z.discriminatedUnion('status', [
  z.object({ reference: z.string(), status: z.literal('not_found') }),
  z.object({ reference: z.string(), status: z.literal('declined'), transactionId: identifier.optional() }),
  z.object({
    reference: z.string(),
    status: z.literal('succeeded'),
    amount: z.number().int().nonnegative(),
    transactionId: identifier,
    occurredAt: instant.optional(),
  }),
]);

export const refundResponseSchema = z.object({
  refundId: z.string(),
  status: z.literal('succeeded'),
  amount: z.number().int().positive(),
});
