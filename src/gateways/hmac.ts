/** HMAC and keyed-digest helpers on Web Crypto (Node and Workers alike). */
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

/** A synchronous HMAC the host may provide (the Node entry gives node:crypto's: src/node/crypto.ts). */
export type SyncHmac = (algorithm: 'SHA-256' | 'SHA-512', secret: string, message: string) => string;
let syncHmac: SyncHmac | null = null;

/**
 * Node computes HMACs synchronously (node:crypto, about a microsecond for a callback): Web
 * Crypto's `subtle.sign` runs each one as a job on libuv's four-thread pool, where a gateway's
 * signature check waits behind whatever else is queued there (a batch of receipts being signed
 * took IPNs from 115 to 38 a second). Workers keep Web Crypto, their only one.
 */
export function useSyncHmac(hmac: SyncHmac | null): void {
  syncHmac = hmac;
}

export async function hmacHex(algorithm: 'SHA-256' | 'SHA-512', secret: string, message: string): Promise<string> {
  if (syncHmac) return syncHmac(algorithm, secret, message);
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

/**
 * Where the inbox keeps an API key a notification presented (`Authorization: Apikey <key>`,
 * SePay's API-key mode): its SHA-256, never the key — the inbox drops credentials — so that a
 * message re-processed from the inbox authenticates as it did when it came in. The hub sets it
 * (services/callbacks.ts `keptHeaders`), dropping any the sender put there.
 */
export const API_KEY_DIGEST_HEADER = 'x-hub-apikey-sha256';

export async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * hex(SHA-256(text + "|" + secret)), lower case: the national platform's MaXacThuc as its
 * production integrations compute it (OpenCPS `PayGateUtil.generateChecksum`, release-candidate-3.0;
 * a .NET provincial integration's `CreateMaXacThuc`). The key is hashed with the fields, after one
 * more `|`; it is not an HMAC.
 */
export function keyAppendedSha256Hex(text: string, secret: string): Promise<string> {
  return sha256Hex(`${text}|${secret}`);
}

/** True when any of the secrets (rotation) gives `code` as keyAppendedSha256Hex of `text`; every one is tried. */
export async function verifyKeyAppendedWithAny(secrets: readonly string[], text: string, code: string): Promise<boolean> {
  let ok = false;
  for (const secret of secrets) if (timingSafeEqualHex(await keyAppendedSha256Hex(text, secret), code)) ok = true;
  return ok;
}

/** True when `digest` is the SHA-256 of one of `keys` (rotation), every key compared in full, in constant time. */
export async function matchesAnyKeyDigest(digest: string, keys: readonly string[]): Promise<boolean> {
  let ok = false;
  for (const key of keys) if (timingSafeEqualHex(await sha256Hex(key), digest)) ok = true;
  return ok;
}
