/**
 * The hub's own payment reference: short, upper-case, alphanumeric, so it survives every
 * channel's limits (VNPay vnp_TxnRef, MaThamChieu ≤ 20, a VietQR transfer text ≤ 25 that banks
 * strip of punctuation and prefix with their own words). Letters that read like digits
 * (I, L, O, U) are left out, as in Crockford's base32. "HP" marks it as the hub's, so it can be
 * found inside a longer bank statement text.
 */
export const REFERENCE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const REFERENCE_PREFIX = 'HP';
export const REFERENCE_RANDOM_LENGTH = 10;
export const REFERENCE_PATTERN = new RegExp(`^${REFERENCE_PREFIX}[${REFERENCE_ALPHABET}]{${REFERENCE_RANDOM_LENGTH}}$`);

/** 50 bits of randomness from Web Crypto: collisions are retried by the unique index anyway. */
export function newReference(random: (bytes: Uint8Array) => Uint8Array = (b) => crypto.getRandomValues(b)): string {
  const bytes = random(new Uint8Array(REFERENCE_RANDOM_LENGTH));
  let out = REFERENCE_PREFIX;
  for (const byte of bytes) out += REFERENCE_ALPHABET[byte % 32];
  return out;
}
