/** HMAC helpers on Web Crypto (Node and Workers alike). */
const encoder = new TextEncoder();

/** Imported keys, per algorithm and secret: secrets are few and fixed by configuration. */
const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(algorithm: 'SHA-256' | 'SHA-512', secret: string): Promise<CryptoKey> {
  const id = `${algorithm}:${secret}`;
  let key = keys.get(id);
  if (!key) {
    key = crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: algorithm }, false, ['sign']);
    keys.set(id, key);
  }
  return key;
}

export async function hmacHex(algorithm: 'SHA-256' | 'SHA-512', secret: string, message: string): Promise<string> {
  const key = await hmacKey(algorithm, secret);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(message)));
  return Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Constant-time comparison of two hex digests (case-insensitive). */
function timingSafeEqualHex(a: string, b: string): boolean {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x.charCodeAt(i) || 0) ^ (y.charCodeAt(i) || 0);
  return diff === 0;
}

/** True when any of the secrets (rotation) produces `signature` over `message`. */
export async function verifyWithAny(
  algorithm: 'SHA-256' | 'SHA-512',
  secrets: readonly string[],
  message: string,
  signature: string,
): Promise<boolean> {
  let ok = false;
  for (const secret of secrets) {
    // Check every secret, so timing does not tell which one matched.
    if (timingSafeEqualHex(await hmacHex(algorithm, secret, message), signature)) ok = true;
  }
  return ok;
}
