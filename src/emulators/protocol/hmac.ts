import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * HMAC as the channels compute it, with node:crypto: the emulators are Node-only, and share no
 * code with the hub's Web Crypto helpers (src/gateways/hmac.ts), so a mistake there is not
 * repeated here and agreed with.
 */
export type Hash = 'sha256' | 'sha512';

export function hmacHex(hash: Hash, secret: string, data: string): string {
  return createHmac(hash, secret).update(data, 'utf8').digest('hex');
}

/**
 * True when `signature` (hex, either case) is the HMAC of `data` under one of the secrets. Every
 * secret is tried, so the time taken does not tell which one matched.
 */
export function signedByAny(hash: Hash, secrets: readonly string[], data: string, signature: unknown): boolean {
  if (typeof signature !== 'string' || !/^[0-9a-fA-F]+$/.test(signature)) return false;
  const given = Buffer.from(signature, 'hex');
  let ok = false;
  for (const secret of secrets) {
    const expected = createHmac(hash, secret).update(data, 'utf8').digest();
    if (expected.length * 2 === signature.length && timingSafeEqual(expected, given)) ok = true;
  }
  return ok;
}
